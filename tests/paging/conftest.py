"""Fixtures of the paging tests: a three-person rotation, a ticketing fake Octopush,
and instances of the app on one database sharing one clock."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.conftest import SENT, FakeClock, SlackHarness
from tests.slack.listeners.test_pages import SEND_PATH

MakeHarness = Callable[..., SlackHarness]
NUMBERS = {"alice": "+33612345678", "bob": "+33698765432", "carol": "+33611223344"}
#: A daily rotation whose first turn is long past; the order is computed per test.
DIRECTORY = """\
people:
  alice: {phone: "+33612345678", slack: UALICE}
  bob:   {phone: "+33698765432"}
  carol: {phone: "+33611223344"}
groups:
  db-oncall:
    members: [alice, bob, carol]
    rotation: weekly
    start: 2026-11-02T09:00:00+01:00
    escalate_after: 1s
"""


class FakeOctopush:
    """Answers each send with its own ticket; refuses the numbers in ``refused``."""

    def __init__(self) -> None:
        self.refused: set[str] = set()
        self.bodies: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def __call__(self, request: Request) -> Response:
        body = json.loads(request.get_data())
        with self._lock:
            self.bodies.append(body)
            count = len(self.bodies)
        numbers = [r["phone_number"] for r in body["recipients"]]
        if any(number in self.refused for number in numbers):
            error = {"code": 117, "message": "No valid number in recipient list"}
            return Response(
                json.dumps(error), status=400, content_type="application/json"
            )
        sent = {**SENT, "sms_ticket": f"sms_t{count}"}
        return Response(json.dumps(sent), status=201, content_type="application/json")

    def numbers(self) -> list[str]:
        return [r["phone_number"] for b in self.bodies for r in b["recipients"]]


@pytest.fixture
def octopush(httpserver: HTTPServer) -> FakeOctopush:
    fake = FakeOctopush()
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_handler(fake)
    return fake


@pytest.fixture
def directory_file(tmp_path: Path) -> Path:
    path = tmp_path / "directory.yml"
    path.write_text(DIRECTORY)
    return path


@pytest.fixture
def start(
    make_harness: MakeHarness,
    database_url: str,
    clock: FakeClock,
    directory_file: Path,
    octopush: FakeOctopush,
) -> Callable[..., SlackHarness]:
    """Instances of the app on one database (SQLite, and PostgreSQL when it answers),
    each reading the time from ``clock``."""

    def make(**sms: Any) -> SlackHarness:
        harness = make_harness(
            database_url=database_url, directory=str(directory_file), **sms
        )
        harness.stack.escalations.pager.clock = clock
        return harness

    return make
