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
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from bot.audit import AuditStore
from bot.domain import AuditStatus
from bot.playground import workspace
from bot.playground.app import Playground
from tests.conftest import SENT, SIGNING_SECRET
from tests.fakes.slack import FakeSlack
from tests.runtime.served import (
    Server,
    base_environment,
    free_port,
    procfile_command,
    serve_command,
)
from tests.runtime.slack_forgery import (
    ALLOWED_USER,
    NUMBER,
    command_body,
    post_forgeries,
    post_signed,
)

SEND_PATH = "/v1/public/sms-campaign/send"
APP_TOKEN = "xapp-1-left-over-from-socket-mode"
REFUSED = {"unsigned": 401, "wrongly signed": 401, "stale": 401}


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
    env["SMS_ALLOWED_USERS"] = ALLOWED_USER
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
    env["SMS_ALLOWED_USERS"] = ALLOWED_USER
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
