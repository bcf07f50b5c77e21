"""``sms-bot serve`` in a child process with an alert integration in its directory,
a fake Slack and an Octopush stand-in that keeps every SMS it was asked to send."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from pathlib import Path

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.conftest import SENT
from tests.fakes.slack import FakeSlack
from tests.runtime.served import Server, base_environment, free_port, serve_command

INTEGRATION = "prometheus"
TOKEN_ENV = "SMS_HOOK_TOKEN_PROM"
TOKEN = "hook-SECRET-prom-5d1e"
CHANNEL = "C0OPS"
PHONES = {"alice": "+33600000001", "bob": "+33600000002"}
SEND_PATH = "/v1/public/sms-campaign/send"

DIRECTORY = f"""\
people:
  alice: {{phone: "{PHONES["alice"]}"}}
  bob:   {{phone: "{PHONES["bob"]}"}}
groups:
  db-oncall:
    members: [alice, bob]
    rotation: weekly
    start: 2026-11-02T09:00:00+01:00
    escalate_after: 30m
    timezone: Europe/Paris
integrations:
  {INTEGRATION}:
    pages: db-oncall
    channel: {CHANNEL}
    token_env: {TOKEN_ENV}
"""


@dataclass(frozen=True)
class Sms:
    numbers: tuple[str, ...]
    text: str


@dataclass
class Gateway:
    """What the app asked Octopush to send, in order."""

    sent: list[Sms] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, request: Request) -> Response:
        body = json.loads(request.get_data())
        numbers = tuple(r["phone_number"] for r in body["recipients"])
        with self.lock:
            self.sent.append(Sms(numbers, body["text"]))
        return Response(json.dumps(SENT), 201, content_type="application/json")

    def texts(self) -> list[Sms]:
        with self.lock:
            return list(self.sent)


def gateway_on(httpserver: HTTPServer) -> Gateway:
    gateway = Gateway()
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_handler(
        gateway.handle
    )
    return gateway


def start_bot(
    tmp_path: Path, *, database: str, slack: FakeSlack, octopush: HTTPServer
) -> Server:
    """``sms-bot serve`` over HTTP on a free port, up and healthy."""
    folder = tmp_path / "bot"
    folder.mkdir()
    directory = folder / "directory.yml"
    directory.write_text(DIRECTORY)
    env = base_environment(
        folder,
        port=free_port(),
        slack_url=slack.api_url,
        octopush_url=octopush.url_for("/v1/public"),
        database=database,
    )
    env.update({"SMS_DIRECTORY": str(directory), TOKEN_ENV: TOKEN})
    server = Server(serve_command(), env, folder)
    server.wait_until_up()
    return server
