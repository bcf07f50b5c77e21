"""Fixtures of the paging tests: a three-person rotation, a ticketing fake Octopush,
and instances of the app on one database sharing one clock."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from bot.audit import AuditStore
from bot.errors import AuditStoreError
from bot.runtime import slack_app
from bot.slack.listeners import home as home_listeners
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
        #: Called with each body once Octopush took it, before it answers (faults).
        self.on_send: Callable[[dict[str, Any]], None] | None = None
        self._lock = threading.Lock()

    def __call__(self, request: Request) -> Response:
        body = json.loads(request.get_data())
        with self._lock:
            self.bodies.append(body)
            count = len(self.bodies)
        numbers = [r["phone_number"] for r in body["recipients"]]
        if self.on_send is not None:
            self.on_send(body)
        if any(number in self.refused for number in numbers):
            error = {"code": 117, "message": "No valid number in recipient list"}
            return Response(
                json.dumps(error), status=400, content_type="application/json"
            )
        sent = {**SENT, "sms_ticket": f"sms_t{count}"}
        return Response(json.dumps(sent), status=201, content_type="application/json")

    def numbers(self) -> list[str]:
        return [r["phone_number"] for b in self.bodies for r in b["recipients"]]


class StoreFaults:
    """Makes named audit-store operations fail (``AuditStoreError``), as a database
    that breaks mid-way would: ``fail(name, times)``; ``times=None`` until ``heal``."""

    def __init__(self, store: AuditStore) -> None:
        self.failed: list[str] = []
        self._left: dict[str, int | None] = {}
        self._lock = threading.Lock()
        self._original = store.transaction

    def fail(self, *operations: str, times: int | None = None) -> None:
        with self._lock:
            self._left.update(dict.fromkeys(operations, times))

    def heal(self) -> None:
        with self._lock:
            self._left.clear()

    def _take(self, operation: str) -> bool:
        with self._lock:
            if operation not in self._left:
                return False
            left = self._left[operation]
            if left is not None:
                if left <= 1:
                    del self._left[operation]
                else:
                    self._left[operation] = left - 1
            self.failed.append(operation)
            return True

    @contextmanager
    def transaction(self, operation: str, *, write: bool = False) -> Iterator[Any]:
        if self._take(operation):
            raise AuditStoreError(f"audit store could not {operation} (injected)")
        with self._original(operation, write=write) as conn:
            yield conn


def inject_store_faults(
    harness: SlackHarness, monkeypatch: pytest.MonkeyPatch
) -> StoreFaults:
    """Store faults on every user of the harness's audit store (one shared object)."""
    faults = StoreFaults(harness.store)
    assert harness.stack.escalations.pager.pages._store is harness.store
    monkeypatch.setattr(harness.store, "transaction", faults.transaction)
    return faults


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


#: Seconds between two ``chat.update`` of one post and two publishes of one Home (the
#: app's 3 s each made every ``settle()`` after a page's change wait for the post's and
#: the Homes' next turn), and between any two Home publishes (the app's 0.6 s). No test
#: here tests the pacing: tests/slack/test_update_queue.py and test_home.py do.
QUICK_PACING = 0.2
QUICK_HOME_GAP = 0.05


@pytest.fixture
def start(
    make_harness: MakeHarness,
    database_url: str,
    clock: FakeClock,
    directory_file: Path,
    octopush: FakeOctopush,
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[..., SlackHarness]:
    """Instances of the app on one database (SQLite, and PostgreSQL when it answers),
    each reading the time from ``clock``, with quick Slack pacing (``QUICK_PACING``)."""

    def make(**sms: Any) -> SlackHarness:
        monkeypatch.setattr(slack_app, "UPDATE_INTERVAL_SECONDS", QUICK_PACING)
        monkeypatch.setattr(home_listeners, "PUBLISH_INTERVAL", QUICK_PACING)
        harness = make_harness(
            database_url=database_url, directory=str(directory_file), **sms
        )
        harness.stack.escalations.pager.clock = clock
        if harness.stack.home is not None:  # before its first publish
            monkeypatch.setattr(harness.stack.home.publisher, "_gap", QUICK_HOME_GAP)
        return harness

    return make
