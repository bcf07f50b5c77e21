"""The sender's claim on SQLite runs on the claiming thread's own driver connections.

Through SQLAlchemy the claim checked out two pooled connections (the queue's file and
the intake's) and paid the transaction's events, the statement cache and the result
objects: most of its time on the path between an ack and the Octopush call. These
tests hold it to what it did before (the same rows, stored alike, errors said alike)
and to what the ack needs (the intake is only read: an ack never waits for a claim).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from bot.audit import AuditStore
from bot.audit.commands import CommandQueue, open_command_queue
from bot.audit.engine import create_engine
from bot.audit.inbox import CallbackInbox, InboxItem
from bot.audit.tables import stored_commands
from bot.errors import AuditStoreError
from tests.audit.conftest import QUEUE_LEASE
from tests.audit.test_command_intake import ACK_WAIT, COMMAND

LEASE = QUEUE_LEASE


def test_a_claim_and_a_finish_take_no_connection_from_the_stores_pools(
    queue: CommandQueue,
) -> None:
    assert queue.intake is not None
    first = queue.put_command("send", "req-pool-1", COMMAND)
    queue.put_command("send", "req-pool-2", COMMAND)
    assert first is not None
    checkouts: list[str] = []
    engines = {"queue": queue.store.engine, "intake": queue.intake.engine}
    listeners = {name: _counting(checkouts, name) for name in engines}
    for name, engine in engines.items():
        event.listen(engine, "checkout", listeners[name])
    try:
        claimed = queue.claim_one(first, "sender-a")
        assert claimed is not None
        (item,) = queue.claim("sender-b")
        assert queue.claim("sender-c") == []
        assert queue.finish(item.id, "sender-b", "run")
        assert not queue.finish(item.id, "sender-b", "run"), "finished once"
        assert not queue.finish(claimed.id, "sender-b", "run"), "not sender-b's"
    finally:
        for name, engine in engines.items():
            event.remove(engine, "checkout", listeners[name])
    assert checkouts == []
    assert item.content_type == "send" and item.attempts == 1
    with queue.store.transaction("read") as conn:
        rows = conn.execute(
            stored_commands.select().order_by(stored_commands.c.id)
        ).mappings()
        kept = {row["id"]: row for row in rows}
    done, running = kept[item.id], kept[claimed.id]
    assert done["body"] == b"" and done["outcome"] == "run"
    assert done["processed_at"] is not None and done["claimed_until"] is None
    assert running["body"] != b"" and running["processed_at"] is None


def _counting(checkouts: list[str], name: str) -> Callable[..., None]:
    def checkout(*_: Any) -> None:
        checkouts.append(name)

    return checkout


def test_the_claim_returns_and_stores_what_the_sqlalchemy_claim_did(
    audit: AuditStore, tmp_path: Path
) -> None:
    open_command_queue(audit).close()  # the two files, their tables
    now = [datetime(2026, 12, 6, 2, 10, 8, 123456, tzinfo=UTC)]

    def clock() -> datetime:
        return now[0]

    def clocked(path: Path) -> AuditStore:
        return AuditStore(create_engine(f"sqlite:///{path}"), clock=clock)

    queue = CommandQueue(
        clocked(tmp_path / "audit.commands.db"),
        intake=clocked(tmp_path / "audit.intake.db"),
        lease=LEASE,
        owns_stores=True,
    )
    twin: CallbackInbox | None = None
    try:
        for n in range(6):
            now[0] += timedelta(seconds=1, microseconds=n * 7)
            queue.put_command("page" if n % 2 else "send", f"req-same-{n}", COMMAND)
        assert queue.claim("copier", limit=0) == []  # copies them, claims none
        # The queue's file as it is now, claimed by the SQLAlchemy statement instead.
        with (
            sqlite3.connect(tmp_path / "audit.commands.db") as source,
            sqlite3.connect(tmp_path / "twin.db") as copy,
        ):
            source.backup(copy)
        twin = CallbackInbox(
            clocked(tmp_path / "twin.db"), lease=LEASE, table=stored_commands
        )
        cutoff = now[0] - timedelta(seconds=3)
        claims: list[tuple[list[InboxItem], list[InboxItem]]] = []
        for limit, before in [(2, cutoff), (10, cutoff), (10, None), (10, None)]:
            claims.append(
                (
                    queue.claim("sender", limit=limit, stored_before=before),
                    twin.claim("sender", limit=limit, stored_before=before),
                )
            )
            now[0] += timedelta(seconds=1)
        now[0] += LEASE
        claims.append((queue.claim("again", limit=3), twin.claim("again", limit=3)))
        for ours, theirs in claims:
            assert ours == theirs
        sizes = [len(ours) for ours, _ in claims]
        assert sizes == [2, 1, 3, 0, 3]
        last = claims[-1][0]
        assert [item.attempts for item in last] == [2, 2, 2]
        assert all(item.received_at.tzinfo is UTC for item in last)
        assert _rows(tmp_path / "audit.commands.db") == _rows(tmp_path / "twin.db")
    finally:
        queue.close()
        if twin is not None:
            twin._store.close()


def _rows(path: Path) -> list[tuple[Any, ...]]:
    """The queue's rows as stored (times as their text)."""
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT * FROM stored_commands ORDER BY id").fetchall()


def test_a_failed_claim_says_so_and_the_next_one_works(queue: CommandQueue) -> None:
    assert queue.intake is not None
    queue.put_command("send", "req-broken", COMMAND)
    for store, table, says in [
        (queue.store, "stored_commands", "could not claim commands"),
        (queue.intake, "command_intake", "could not read the stored commands"),
    ]:
        _rename(store, table, "gone")
        with pytest.raises(AuditStoreError, match=says):
            queue.claim("sender-a")
        _rename(store, "gone", table)
    (item,) = queue.claim("sender-a")
    assert item.attempts == 1 and item.content_type == "send"


def _rename(store: AuditStore, table: str, to: str) -> None:
    with store.transaction("rename a table", write=True) as conn:
        conn.exec_driver_sql(f"ALTER TABLE {table} RENAME TO {to}")


def test_claims_on_many_threads_never_take_a_row_twice(
    audit: AuditStore, queue: CommandQueue
) -> None:
    # Two queues on the same files, as two sender processes, each with four threads;
    # an ack stores while they claim.
    other = open_command_queue(audit, lease=LEASE)
    commands = 120
    claimed: list[tuple[int, bytes]] = []
    lock = threading.Lock()
    done = threading.Event()

    def sender(on: CommandQueue, owner: str) -> None:
        while not done.is_set():
            items = on.claim(owner, limit=3)
            with lock:
                claimed.extend((item.id, item.body) for item in items)
                if len(claimed) >= commands:
                    done.set()

    def ack() -> None:
        for n in range(commands):
            queue.put_command("send", f"req-many-{n}", COMMAND | {"n": n})

    threads = [threading.Thread(target=ack)] + [
        threading.Thread(target=sender, args=(on, f"sender-{i}"))
        for i, on in enumerate([queue, other] * 4)
    ]
    try:
        for thread in threads:
            thread.start()
        done.wait(30)
    finally:
        done.set()
        for thread in threads:
            thread.join()
        other.close()
    assert len(claimed) == commands
    assert len({item_id for item_id, _ in claimed}) == commands
    assert len({body for _, body in claimed}) == commands


def test_an_ack_stores_while_a_claim_is_under_way(queue: CommandQueue) -> None:
    # The claim held at the end of its read of the intake, then at the end of its
    # write to the queue's file: an ack stores at both.
    assert queue._intake_writer is not None and queue._queue_writer is not None
    intake_writer, queue_writer = queue._intake_writer, queue._queue_writer
    queue.put_command("send", "req-under-way", COMMAND)
    reached: dict[str, threading.Event] = {
        "intake": threading.Event(),
        "queue": threading.Event(),
    }
    go_on: dict[str, threading.Event] = {
        "intake": threading.Event(),
        "queue": threading.Event(),
    }
    claimed: list[InboxItem] = []

    def held_at_commit(where: str) -> Callable[[str], None]:
        def trace(statement: str) -> None:
            if statement == "COMMIT":
                reached[where].set()
                go_on[where].wait(2 * ACK_WAIT)

        return trace

    def claim() -> None:
        intake_writer._connection().set_trace_callback(held_at_commit("intake"))
        queue_writer._connection().set_trace_callback(held_at_commit("queue"))
        claimed.extend(queue.claim("sender-a"))

    claimer = threading.Thread(target=claim)
    claimer.start()
    try:
        for n, where in enumerate(["intake", "queue"]):
            assert reached[where].wait(ACK_WAIT), f"the claim never read the {where}"
            _ack_without_waiting(queue, f"req-meanwhile-{n}")
            go_on[where].set()
    finally:
        for each in go_on.values():
            each.set()
        claimer.join()
    assert len(claimed) == 1
    assert len(queue.claim("sender-b")) == 2


def _ack_without_waiting(queue: CommandQueue, request_id: str) -> None:
    stored: list[int | None] = []
    ack = threading.Thread(
        target=lambda: stored.append(queue.put_command("send", request_id, COMMAND))
    )
    ack.start()
    ack.join(ACK_WAIT)
    assert not ack.is_alive(), "the ack's insert waited for the claim"
    assert stored and stored[0] is not None


def test_the_claims_connections_are_the_threads_own_and_closed_with_the_queue(
    audit: AuditStore,
) -> None:
    queue = open_command_queue(audit)
    writer = queue._queue_writer
    assert writer is not None
    for n in range(3):  # three claiming threads, one after the other
        queue.put_command("send", f"req-thread-{n}", COMMAND)
        thread = threading.Thread(target=queue.claim, args=(f"sender-{n}",))
        thread.start()
        thread.join()
    assert writer.connections() == 1
    queue.close()
    assert writer.connections() == 0


def test_an_intake_made_again_is_said_in_the_log_once(
    audit: AuditStore, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    queue = open_command_queue(audit)
    queue.put_command("send", "req-before", COMMAND)
    assert len(queue.claim("sender-a")) == 1
    queue.close()
    for path in tmp_path.glob("audit.intake.db*"):
        path.unlink()
    queue = open_command_queue(audit)
    try:
        queue.put_command("send", "req-after", COMMAND)
        with caplog.at_level(logging.WARNING, logger="bot.audit.commands"):
            (item,) = queue.claim("sender-a")
            assert queue.claim("sender-a") == []
    finally:
        queue.close()
    said = [r.getMessage() for r in caplog.records if "made again" in r.getMessage()]
    assert len(said) == 1 and "audit.intake.db" in said[0]
    assert item.attempts == 1
