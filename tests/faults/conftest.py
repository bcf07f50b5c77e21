"""The real app over HTTP (fake Slack, a fake Octopush that knows what went out), on
SQLite and PostgreSQL, with the means to fail a step and to restart the process."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa

from bot.audit import AuditRecord
from bot.audit.tables import audit_records, callback_inbox
from bot.octopush import OctopushClient
from bot.sending.recovery import recover_pending
from tests.conftest import OCTOPUSH_KEY, FakeClock, SlackHarness
from tests.faults.inject import DatabaseOutage, Injector, Killed
from tests.faults.octopush import FaultyOctopush

NUMBERS = {"alice": "+33612345678", "bob": "+33698765432"}
DIRECTORY = """\
people:
  alice: {phone: "+33612345678"}
  bob:   {phone: "+33698765432"}
groups:
  db-oncall:
    members: [alice, bob]
    rotation: weekly
    start: 2026-11-02T09:00:00+01:00
    escalate_after: 5m
"""
#: Seconds the Octopush client waits for an answer (a "timeout" holds it longer).
OCTOPUSH_READ_TIMEOUT = 0.5
SLACK_TIMEOUT = 0.3


@pytest.fixture
def octopush() -> Iterator[FaultyOctopush]:
    fake = FaultyOctopush().start()
    yield fake
    fake.stop()


@pytest.fixture
def octopush_url(octopush: FaultyOctopush) -> str:
    """The app under test talks to the fault-aware fake, not pytest-httpserver."""
    return octopush.url


@dataclass
class World:
    """One deployment: the database, the fakes, and the app instance now running."""

    make: Callable[..., SlackHarness]
    database_url: str
    directory: Path
    octopush: FaultyOctopush
    clock: FakeClock
    monkeypatch: pytest.MonkeyPatch
    app: SlackHarness = field(init=False)
    outage: DatabaseOutage = field(init=False)
    injector: Injector = field(init=False)
    restarted: bool = False
    triggers: int = 0

    def start(self) -> SlackHarness:
        app = self.make(
            database_url=self.database_url,
            directory=str(self.directory),
            rate_limit="1/hour",
        )
        app.service.octopush.close()
        app.service.octopush = OctopushClient(
            api_login="ops@example.com",
            api_key=OCTOPUSH_KEY,
            base_url=self.octopush.url,
            timeout=(0.5, OCTOPUSH_READ_TIMEOUT),
            backoff=0,
        )
        app.stack.app.client.timeout = SLACK_TIMEOUT
        app.stack.escalations.pager.clock = self.clock
        self.app = app
        self.outage = DatabaseOutage(app.store.engine)
        self.injector = Injector(self.monkeypatch, self.outage)
        return app

    @property
    def pager(self) -> Any:
        return self.app.stack.paging.pager

    def command(self, text: str) -> None:
        """``/sms text`` from U1 in C1; a step killed during the ack cuts the answer."""
        self.triggers += 1
        try:
            self.app.command(text, trigger=f"trigger-{self.triggers}")
        except requests.ConnectionError:
            assert self.injector.fired.is_set(), "the app dropped a request by itself"

    def callback(self, body: dict[str, Any]) -> None:
        assert self.app.callback(json.dumps(body)).status_code == 200

    def settle(self) -> None:
        """Wait for the work in hand (a callback killed mid-way keeps its claim)."""
        self.app.settle()

    def retry_callbacks(self) -> None:
        """Time passes: a postponed or orphaned callback is due again, now."""
        with self.app.store.transaction("due again", write=True) as conn:
            conn.execute(
                sa.update(callback_inbox)
                .where(callback_inbox.c.processed_at.is_(None))
                .values(claimed_until=None)
            )
        assert self.app.web is not None and self.app.web.worker is not None
        self.app.web.worker.wake()
        self.app.settle()

    def restart(self) -> None:
        """The process died: its threads stop, a new one starts on the same database."""
        self.monkeypatch.undo()
        self.outage.remove()
        old = self.app
        assert old.web is not None
        old.web.close()
        old.stack.updates.stop(flush=False)
        self.start()
        self.restarted = True
        self.expire_dead_leases()
        self.retry_callbacks()

    def expire_dead_leases(self) -> None:
        """Time passes: the dead process renews nothing, so its send leases run out."""
        with self.app.store.transaction("leases run out", write=True) as conn:
            conn.execute(
                sa.update(audit_records)
                .where(audit_records.c.status == "pending")
                .values(claimed_until=None)
            )

    def sweep(self) -> None:
        """What every instance runs every minute: settle the attempts left pending."""
        recover_pending(self.app.service, min_age=timedelta(0))
        self.app.settle()

    def heal(self) -> None:
        """After the fault: restart when the process died, retry, sweep."""
        self.settle()
        if self.injector.killed:
            self.restart()
        else:
            self.retry_callbacks()
        self.sweep()

    def escalation_tick(self) -> None:
        """One pass of the escalation loop, which logs an error and tries again later."""
        try:
            self.app.stack.escalations.run_escalations()
        except Exception:  # the loop's own catch-all: the next pass retries
            pass
        except Killed:
            self.injector.killed = True
        self.app.settle()

    def records(self) -> list[AuditRecord]:
        return self.app.store.recent(limit=100)


@pytest.fixture
def world(
    make_harness: Callable[..., SlackHarness],
    database_url: str,
    tmp_path: Path,
    octopush: FaultyOctopush,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[World]:
    directory = tmp_path / "directory.yml"
    directory.write_text(DIRECTORY)
    built = World(make_harness, database_url, directory, octopush, clock, monkeypatch)
    built.start()
    yield built
    monkeypatch.undo()
    built.outage.remove()
