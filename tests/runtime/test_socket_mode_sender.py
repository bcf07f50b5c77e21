"""``sms-bot serve`` in Socket Mode starts the sender beside it, and takes it along
when it stops: real processes, no network.

The fake Slack answers ``apps.connections.open`` with a ``ws://`` address on itself,
which answers the WebSocket handshake with an HTTP error (it speaks no WebSocket):
the Socket Mode client logs the failed connection and tries again later, and the
process stays up, as it does while Slack is unreachable. The command is stored
straight into the queue (no Slack request can arrive without the WebSocket); the
sender child runs it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from pytest_httpserver import HTTPServer

import tests.fakes.slack as fake_slack_module
from bot.audit import AuditStore
from bot.audit.commands import open_command_queue
from bot.audit.tables import command_senders, stored_commands
from tests.conftest import SENT, wait_until
from tests.fakes.slack import FakeSlack
from tests.runtime.served import (
    Background,
    base_environment,
    free_port,
    group_members,
    kill_group,
    process_table,
    serve_command,
)

SEND_PATH = "/v1/public/sms-campaign/send"
#: How long a process may take to start, a command to be run, a process to stop.
DEADLINE = 15.0
TEXT = "Disk full"


@pytest.fixture
def socket_slack(
    fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FakeSlack]:
    """The fake Slack, answering ``apps.connections.open`` with a WebSocket address on
    itself (where the handshake gets an HTTP error: a connection that fails)."""
    answer = fake_slack_module._answer
    url = fake_slack.url.replace("http://", "ws://") + "/socket-mode"

    def with_socket_mode(
        state: Any, method: str, args: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, str]]:
        if method == "apps.connections.open":
            return {"ok": True, "url": url}, {}
        return answer(state, method, args)

    monkeypatch.setattr(fake_slack_module, "_answer", with_socket_mode)
    yield fake_slack


@pytest.fixture
def started() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Processes a test started, each the leader of its group: every group is killed
    when the test ends."""
    leaders: list[subprocess.Popen[bytes]] = []
    yield leaders
    for process in leaders:
        if process.poll() is None or group_members(process.pid):
            kill_group(process.pid, signal.SIGKILL)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            pass


def sender_children(parent: int) -> list[int]:
    return [
        pid
        for pid, (ppid, _, _, command) in process_table().items()
        if ppid == parent and command.endswith("-m bot sender")
    ]


def rows(engine: sa.Engine, table: sa.Table) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(row) for row in conn.execute(sa.select(table)).mappings()]


def test_socket_mode_serve_starts_the_sender_and_stops_it_on_sigterm(
    tmp_path: Path,
    socket_slack: FakeSlack,
    httpserver: HTTPServer,
    started: list[subprocess.Popen[bytes]],
) -> None:
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_json(
        SENT, status=201
    )
    database = f"sqlite:///{tmp_path}/audit.db"
    env = base_environment(
        tmp_path,
        port=free_port(),
        slack_url=socket_slack.api_url,
        octopush_url=httpserver.url_for("/v1/public"),
        database=database,
    )
    del env["SMS_SENDER"]  # the default: serve starts the sender
    env["SLACK_APP_TOKEN"] = "xapp-1-A1-socket-mode"
    serve = Background(serve_command(), env, tmp_path, "serve")
    started.append(serve.process)
    logs = serve.log.read_text

    def up() -> list[int]:
        assert serve.process.poll() is None, logs()
        return sender_children(serve.process.pid)

    (sender,) = wait_until(up, DEADLINE, what="the sender child", interval=0.05)
    # Socket Mode asked for its WebSocket address, and its connection failed.
    socket_slack.wait_for("apps.connections.open", timeout=DEADLINE)

    store = AuditStore.from_url(database)
    queue = open_command_queue(store)
    try:
        command = {
            "team_id": "T1",
            "channel_id": "C1",
            "user_id": "U1",
            "command": "/sms",
            "text": f"+33612345678 {TEXT}",
            "trigger_id": "trigger-socket",
            "response_url": socket_slack.webhook_url("command"),
        }
        assert queue.put_command("send", "slack-command-socket", command)
        engine = queue.store.engine
        (row,) = wait_until(
            lambda: [r for r in rows(engine, stored_commands) if r["processed_at"]],
            DEADLINE,
            what="the stored command to be run",
            interval=0.05,
        )
        assert row["outcome"] == "run", logs()
        (beat,) = rows(engine, command_senders)
        assert beat["pid"] == sender
        assert serve.process.poll() is None, logs()  # the failed WebSocket: still up
        socket_slack.wait_for("chat.postMessage", timeout=DEADLINE)
        sends = [
            json.loads(request.get_data())["text"]
            for request, _ in httpserver.log
            if request.path == SEND_PATH
        ]
        assert sends == [TEXT]

        os.kill(serve.process.pid, signal.SIGTERM)  # serve alone, not its group
        code = serve.process.wait(DEADLINE)
        # serve stops cleanly: it closes the connection and stops its sender itself.
        assert code == 0, logs()
        assert "stopping: commands in hand finish first" in logs()
        wait_until(
            lambda: not group_members(serve.process.pid),
            DEADLINE,
            what="every process of serve's group to exit",
            interval=0.05,
        )
        # The sender stopped on SIGTERM, cleanly: it said so and removed its heartbeat.
        assert "stopping (commands in hand finish first)" in logs(), logs()
        assert rows(engine, command_senders) == []
    finally:
        queue.close()
        store.close()
