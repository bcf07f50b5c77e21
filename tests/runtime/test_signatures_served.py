"""Every way the app is served over HTTP refuses requests Slack did not sign.

The Procfile command (gunicorn, ``bot.runtime.web:application()``) is run for real with
``SLACK_APP_TOKEN`` in the environment or in ``.env``, as after trying Socket Mode;
``sms-bot serve`` in HTTP mode and the playground likewise. An unsigned, a wrongly
signed and a stale slash command get 401; then a signed one sends. Gunicorn is stopped
(its worker exits only once the sends in flight are done) before checking that Octopush
and the audit trail saw the signed command only.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from pytest_httpserver import HTTPServer

from bot.audit import AuditStore
from bot.domain import AuditStatus
from bot.playground import workspace
from bot.playground.app import Playground
from tests.conftest import OCTOPUSH_KEY, SENT, SIGNING_SECRET, SLACK_BOT_TOKEN
from tests.fakes.slack import FakeSlack
from tests.runtime.slack_forgery import (
    ALLOWED_USER,
    NUMBER,
    command_body,
    post_forgeries,
    post_signed,
)

ROOT = Path(__file__).resolve().parents[2]
SEND_PATH = "/v1/public/sms-campaign/send"
APP_TOKEN = "xapp-1-left-over-from-socket-mode"
REFUSED = {"unsigned": 401, "wrongly signed": 401, "stale": 401}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def procfile_command() -> list[str]:
    (line,) = [t for t in (ROOT / "Procfile").read_text().splitlines() if t.strip()]
    words = shlex.split(line.partition(":")[2])
    assert words[0] == "gunicorn"
    return [sys.executable, "-m", "gunicorn", *words[1:]]


def serve_command() -> list[str]:
    return [sys.executable, "-m", "bot", "serve"]


def base_environment(
    tmp_path: Path, *, port: int, slack_url: str, octopush_url: str, database: str
) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("OCTOPUSH_", "SLACK_", "SMS_", "PROMETHEUS_"))
        and key not in ("DATABASE_URL", "PORT")
    }
    env.update(
        HOME=str(tmp_path),
        PORT=str(port),
        DATABASE_URL=database,
        SLACK_BOT_TOKEN=SLACK_BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=slack_url,
        OCTOPUSH_API_LOGIN="ops@example.com",
        OCTOPUSH_API_KEY=OCTOPUSH_KEY,
        OCTOPUSH_BASE_URL=octopush_url,
        SMS_ALLOWED_USERS=ALLOWED_USER,
        PYTHONPATH=str(ROOT),
    )
    return env


class Server:
    """A command serving HTTP on ``port``, in its own process group."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: Path) -> None:
        self.log = cwd / "server.log"
        with open(self.log, "wb") as out:
            self.process = subprocess.Popen(
                argv, env=env, cwd=cwd, stdout=out, stderr=out, start_new_session=True
            )
        self.url = f"http://127.0.0.1:{env['PORT']}"

    def wait_until_up(self) -> None:
        deadline = time.monotonic() + 120
        while True:
            try:
                if requests.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(self.log.read_text())
            time.sleep(0.2)

    def stop(self) -> int:
        """SIGTERM, then wait: gunicorn's worker finishes its sends before it exits."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            return self.process.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(5)
            raise AssertionError("the server did not stop on SIGTERM") from None


@pytest.fixture
def octopush(httpserver: HTTPServer) -> HTTPServer:
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_json(
        SENT, status=201
    )
    return httpserver


def sent_texts(httpserver: HTTPServer) -> list[str]:
    return [
        json.loads(request.get_data())["text"]
        for request, _ in httpserver.log
        if request.path == SEND_PATH
    ]


def audited(database_url: str) -> list[tuple[str | None, AuditStatus]]:
    store = AuditStore.from_url(database_url)
    try:
        return [(r.text, r.status) for r in store.recent(limit=10)]
    finally:
        store.close()


def refuse_forgeries_then_send_one(
    server: Server, fake_slack: FakeSlack, octopush: HTTPServer
) -> None:
    events = f"{server.url}/slack/events"
    hook = fake_slack.webhook_url("command")
    forged = command_body(f"{NUMBER} forged", response_url=hook)
    assert post_forgeries(events, SIGNING_SECRET, forged) == REFUSED
    control = command_body(f"{NUMBER} control", response_url=hook)
    assert post_signed(events, SIGNING_SECRET, control).status_code == 200
    fake_slack.wait_for("chat.postMessage", timeout=30)  # the control's result post
    assert server.stop() == 0, server.log.read_text()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[list[Server]]:
    """Servers a test started; stopped (if still running) when it ends."""
    started: list[Server] = []
    yield started
    for server in started:
        if server.process.poll() is None:
            server.stop()


@pytest.mark.parametrize("where", ["environment", ".env"])
def test_the_procfile_app_refuses_unsigned_requests_with_an_app_token_set(
    where: str,
    tmp_path: Path,
    fake_slack: FakeSlack,
    octopush: HTTPServer,
    database_url: str,
    served: list[Server],
) -> None:
    env = base_environment(
        tmp_path,
        port=free_port(),
        slack_url=fake_slack.api_url,
        octopush_url=octopush.url_for("/v1/public"),
        database=database_url,
    )
    if where == "environment":
        env["SLACK_APP_TOKEN"] = APP_TOKEN
    else:
        (tmp_path / ".env").write_text(f"SLACK_APP_TOKEN={APP_TOKEN}\n")
    server = Server(procfile_command(), env, tmp_path)
    served.append(server)
    server.wait_until_up()

    refuse_forgeries_then_send_one(server, fake_slack, octopush)

    assert sent_texts(octopush) == ["control"]
    assert audited(database_url) == [("control", AuditStatus.SENT)]


def test_serve_in_http_mode_refuses_unsigned_requests(
    tmp_path: Path,
    fake_slack: FakeSlack,
    octopush: HTTPServer,
    database_url: str,
    served: list[Server],
) -> None:
    env = base_environment(
        tmp_path,
        port=free_port(),
        slack_url=fake_slack.api_url,
        octopush_url=octopush.url_for("/v1/public"),
        database=database_url,
    )
    server = Server(serve_command(), env, tmp_path)
    served.append(server)
    server.wait_until_up()

    refuse_forgeries_then_send_one(server, fake_slack, octopush)

    assert sent_texts(octopush) == ["control"]
    assert audited(database_url) == [("control", AuditStatus.SENT)]


def test_the_playground_refuses_unsigned_requests_whatever_the_environment_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SLACK_APP_TOKEN", APP_TOKEN)
    (tmp_path / ".env").write_text(f"SLACK_APP_TOKEN={APP_TOKEN}\n")
    playground = Playground(port=0, workdir=tmp_path, receipt_delay=0.2)
    started = playground.start()
    try:
        base = started.url.rstrip("/")
        sender = next(p for p in workspace.PEOPLE if p.may_send).id
        channel = workspace.DEFAULT_CHANNEL
        assert playground.client is not None
        hook_id = playground.client.world.new_hook(channel, sender, None)
        hook = f"{base}/slack-hooks/{hook_id}"
        events, secret = f"{base}/slack/events", playground.keys.signing_secret
        forged, control = (
            command_body(
                f"{NUMBER} {text}", response_url=hook, user=sender, channel=channel
            )
            for text in ("forged", "control")
        )
        assert post_forgeries(events, secret, forged) == REFUSED
        assert post_signed(events, secret, control).status_code == 200
    finally:
        playground.stop()  # waits for the sends in flight (the lazy executor)
    assert playground.octopush is not None
    assert playground.octopush.sends == 1  # the control, nothing forged
    assert audited(f"sqlite:///{started.audit_file}") == [("control", AuditStatus.SENT)]
