"""The daily purge: two instances at once purge once a day, and serve announces it."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.audit import AuditStore, NewAttempt
from bot.domain import Source
from bot.runtime.housekeeping import Housekeeping
from bot.runtime.slack_app import build_stack
from tests.conftest import go_together, make_settings
from tests.fakes.slack import FakeSlack
from tests.slack.listeners.test_commands import wait_until

DAY_ONE = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
RETENTION = 30


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now
        self.lock = threading.Lock()

    def __call__(self) -> datetime:
        with self.lock:
            return self.now

    def advance(self, by: timedelta) -> None:
        with self.lock:
            self.now += by


def seed(store: AuditStore, at: datetime, count: int = 1) -> None:
    dated = AuditStore(store.engine, clock=lambda: at)
    for _ in range(count):
        dated.begin(
            NewAttempt(
                source=Source.CLI,
                recipients=("+33612345678",),
                text="old news",
                sms_type="sms_premium",
                purpose="alert",
                request_id=f"seed-{at.isoformat()}-{time.monotonic_ns()}",
            )
        )


@pytest.fixture
def instances(database_url: str) -> Iterator[list[AuditStore]]:
    """Two instances' stores on one database (SQLite file, or PostgreSQL)."""
    stores = [AuditStore.from_url(database_url), AuditStore.from_url(database_url)]
    yield stores
    for store in stores:
        store.close()


def at_once(keepers: list[Housekeeping]) -> list[int | None]:
    results: list[int | None] = [None] * len(keepers)
    barrier = threading.Barrier(len(keepers))

    def run(index: int) -> None:
        barrier.wait()
        results[index] = keepers[index].run_once()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(keepers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


def remaining(store: AuditStore) -> int:
    return len(store.recent(limit=1000))


def test_two_instances_purge_once_a_day(instances: list[AuditStore]) -> None:
    clock = Clock(DAY_ONE)
    announced: list[str] = []
    keepers = [
        Housekeeping(
            store, retention_days=RETENTION, announce=announced.append, clock=clock
        )
        for store in instances
    ]
    seed(instances[0], DAY_ONE - timedelta(days=40), count=3)
    seed(instances[0], DAY_ONE - timedelta(days=1))

    assert sorted(at_once(keepers), key=str) == [3, None]
    assert remaining(instances[0]) == 1
    assert len(announced) == 1 and "3 audit records" in announced[0]

    clock.advance(timedelta(hours=20))  # same UTC day: nobody purges again
    seed(instances[0], clock() - timedelta(days=31))
    assert at_once(keepers) == [None, None]
    assert remaining(instances[0]) == 2

    clock.advance(timedelta(hours=4))  # the next day
    assert sorted(at_once(keepers), key=str) == [1, None]
    assert remaining(instances[0]) == 1
    assert len(announced) == 2


def count_passes(keeper: Housekeeping) -> list[int]:
    """Count the finished passes of ``keeper``'s loop (it calls ``run_once``)."""
    done = [0]
    run_once = keeper.run_once

    def counted() -> int | None:
        try:
            return run_once()
        finally:
            done[0] += 1

    keeper.run_once = counted  # type: ignore[method-assign]
    return done


def more_passes(passes: list[list[int]], count: int = 5) -> None:
    """Wait until every loop finished ``count`` more passes (not a guessed sleep)."""
    targets = [done[0] + count for done in passes]
    wait_until(lambda: all(d[0] >= t for d, t in zip(passes, targets, strict=True)))


def test_the_loop_of_each_instance_purges_once_per_day(
    instances: list[AuditStore],
) -> None:
    clock = Clock(DAY_ONE)
    announced: list[str] = []
    lock = threading.Lock()

    def announce(text: str) -> None:
        with lock:
            announced.append(text)

    keepers = [
        Housekeeping(store, retention_days=RETENTION, announce=announce, clock=clock)
        for store in instances
    ]
    passes = [count_passes(keeper) for keeper in keepers]
    seed(instances[0], DAY_ONE - timedelta(days=40), count=2)
    threads = [keeper.start(interval=0.02) for keeper in keepers]
    try:
        wait_until(lambda: announced)
        more_passes(passes)  # on both instances, still the same day
        assert len(announced) == 1
        seed(instances[0], clock() - timedelta(days=RETENTION + 1))
        clock.advance(timedelta(days=1))
        wait_until(lambda: len(announced) == 2)
        more_passes(passes)
        assert len(announced) == 2
    finally:
        for keeper in keepers:
            keeper.stop()
        for thread in threads:  # a pass may be running: let it end before teardown
            thread.join(10)
    assert remaining(instances[0]) == 0


def test_a_failed_purge_leaves_the_day_to_the_next_pass(
    instances: list[AuditStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    keeper = Housekeeping(
        instances[0], retention_days=RETENTION, announce=print, clock=lambda: DAY_ONE
    )
    seed(instances[0], DAY_ONE - timedelta(days=40))

    def broken(**_: object) -> int:
        raise RuntimeError("database went away")

    monkeypatch.setattr(instances[0], "purge", broken)
    with pytest.raises(RuntimeError):
        keeper.run_once()
    monkeypatch.undo()
    assert keeper.run_once() == 1


def test_serve_purges_by_itself_and_says_so_in_the_admin_channel(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    settings = make_settings(
        tmp_path,
        slack_url=fake_slack.api_url,
        audit_retention_days=RETENTION,
        admin_channel="CADMIN",
    )
    stack = build_stack(settings)
    store = stack.service.store
    seed(store, datetime.now(UTC) - timedelta(days=RETENTION + 5), count=2)
    seed(store, datetime.now(UTC))
    stack.start_workers(escalation_check_seconds=60)
    try:
        (notice,) = fake_slack.wait_for("chat.postMessage")
        assert notice.args["channel"] == "CADMIN"
        assert "2 audit records" in notice.args["text"]
        assert remaining(store) == 1
    finally:
        stack.stop_workers()
        stack.executor.shutdown(wait=True)
        store.close()


def test_without_a_retention_serve_keeps_everything(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    stack = build_stack(make_settings(tmp_path, slack_url=fake_slack.api_url))
    try:
        assert stack.housekeeping is None
    finally:
        stack.executor.shutdown(wait=True)
        stack.service.store.close()


TWO_PROCESS_SCRIPT = """
import sys
from datetime import datetime
from bot.audit import AuditStore
from bot.runtime.housekeeping import Housekeeping
store = AuditStore.from_url(sys.argv[1])
day = datetime.fromisoformat(sys.argv[2])
keeper = Housekeeping(store, retention_days=30, announce=print, clock=lambda: day)
print("ready", flush=True)  # connected: the test says go to both processes at once
sys.stdin.readline()
print("removed", keeper.run_once())
store.close()
"""


def test_two_processes_on_one_database_purge_once(
    database_url: str, instances: list[AuditStore]
) -> None:
    seed(instances[0], DAY_ONE - timedelta(days=40), count=4)
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                TWO_PROCESS_SCRIPT,
                database_url,
                DAY_ONE.isoformat(),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    go_together(procs)  # once both are connected and waiting
    outputs = [proc.communicate(timeout=60)[0] for proc in procs]
    results = sorted(
        line
        for out in outputs
        for line in out.splitlines()
        if line.startswith("removed")
    )
    assert results == ["removed 4", "removed None"]
    assert remaining(instances[0]) == 0
