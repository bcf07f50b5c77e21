"""The acks' intake on SQLite: the ack's insert goes to a file no sender's claim,
renewal or finish writes, and the claims copy it into the queue's own file.

SQLite lets one writer at a time into a file; a sender that held the queue's file (a
claim, a finish, possibly while it was descheduled at ``nice`` 10) made the ack wait.
These tests hold the queue's file locked and store anyway; then check that the copy
loses nothing and runs nothing twice when either file is made again.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from bot.audit import AuditStore
from bot.audit.commands import (
    CommandQueue,
    command_intake,
    intake_file,
    open_command_queue,
    queue_file,
)
from bot.audit.driver_writes import DriverWriter
from bot.audit.tables import stored_commands
from bot.errors import AuditStoreError
from bot.runtime.sender import Sender
from tests.audit.test_indexes import captured, full_scans, plan

COMMAND = {"channel_id": "C1", "user_id": "U1", "text": "+447700900123 Disk full"}
#: The deadline of the ack's insert while the queue's file is locked (the lock is held
#: for longer than this, and SQLite's own busy wait is 30 s).
ACK_WAIT = 5.0


def _intake_rows(queue: CommandQueue) -> list[dict[str, object]]:
    assert queue.intake is not None
    with queue.intake.transaction("read") as conn:
        found = conn.execute(sa.select(command_intake).order_by(command_intake.c.id))
        return [dict(row) for row in found.mappings()]


@contextmanager
def traced(writer: DriverWriter | None) -> Iterator[list[tuple[str, Any]]]:
    """The reading statements run meanwhile on this thread's driver connection of
    ``writer`` (which SQLAlchemy's events do not see), their values written in."""
    assert writer is not None
    statements: list[tuple[str, Any]] = []

    def trace(statement: str) -> None:
        verb = statement.lstrip().split(None, 1)[0].upper()
        if verb in {"SELECT", "UPDATE", "DELETE"}:
            statements.append((statement, ()))

    connection = writer._connection()
    connection.set_trace_callback(trace)
    try:
        yield statements
    finally:
        connection.set_trace_callback(None)


def _queue_rows(queue: CommandQueue) -> list[dict[str, object]]:
    with queue.store.transaction("read") as conn:
        found = conn.execute(sa.select(stored_commands).order_by(stored_commands.c.id))
        return [dict(row) for row in found.mappings()]


def test_the_intake_and_the_queue_are_files_of_their_own(
    audit: AuditStore, queue: CommandQueue, tmp_path: Path
) -> None:
    assert queue_file(audit) == tmp_path / "audit.commands.db"
    assert intake_file(audit) == tmp_path / "audit.intake.db"
    assert queue.put_command("send", "req-files", COMMAND) is not None
    assert (tmp_path / "audit.intake.db").exists()
    assert len(_intake_rows(queue)) == 1
    assert _queue_rows(queue) == []  # copied by a claim, not by the ack


def test_an_ack_stores_while_a_sender_holds_the_queue_file(
    queue: CommandQueue, tmp_path: Path
) -> None:
    # A sender in the middle of a claim or a finish: the queue's file write-locked.
    holder = sqlite3.connect(tmp_path / "audit.commands.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    stored: list[int | None] = []
    ack = threading.Thread(
        target=lambda: stored.append(queue.put_command("send", "req-lock", COMMAND))
    )
    try:
        ack.start()
        ack.join(ACK_WAIT)
        assert not ack.is_alive(), "the ack's insert waited for the sender's lock"
        assert stored and stored[0] is not None
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        ack.join()
    (item,) = queue.claim("sender-a")
    assert json.loads(item.body) == COMMAND and item.content_type == "send"


def test_a_claim_copies_once_and_the_copied_bodies_are_emptied(
    queue: CommandQueue,
) -> None:
    first = queue.put_command("send", "req-a", COMMAND)
    queue.put_command("page", "req-b", COMMAND)
    assert first is not None
    assert queue.waiting() == 2 and queue.oldest_waiting() is not None
    assert queue.claim_one(first, "sender-a") is not None  # the ack's own id
    (other,) = queue.claim("sender-b")
    assert other.content_type == "page"
    assert queue.claim("sender-c") == [] and queue.waiting() == 0
    assert queue.put_command("send", "req-a", COMMAND) is None  # Slack again
    assert len(_queue_rows(queue)) == 2

    # The intake keeps the text until the sender's upkeep empties what was copied.
    assert all(row["body"] for row in _intake_rows(queue))
    assert queue.empty_copied() == 2
    assert [row["body"] for row in _intake_rows(queue)] == [b"", b""]
    assert queue.empty_copied() == 0
    # The queue's copy still runs, and is emptied when finished.
    assert json.loads(other.body) == COMMAND
    assert queue.finish(other.id, "sender-b", "run")


def test_an_intake_made_again_is_read_from_its_start(
    audit: AuditStore, tmp_path: Path
) -> None:
    queue = open_command_queue(audit)
    for n in range(3):
        queue.put_command("send", f"req-old-{n}", COMMAND)
    assert len(queue.claim("sender-a")) == 3
    queue.close()
    for path in tmp_path.glob("audit.intake.db*"):
        path.unlink()  # an operator removed the file: its ids start at 1 again

    queue = open_command_queue(audit)
    try:
        assert queue.put_command("send", "req-new", COMMAND) == 1
        (item,) = queue.claim("sender-a")  # not taken for a row copied already
        assert item.attempts == 1 and json.loads(item.body) == COMMAND
        assert len(_queue_rows(queue)) == 4
    finally:
        queue.close()


def test_a_queue_made_again_runs_no_copied_command_twice(
    audit: AuditStore, tmp_path: Path
) -> None:
    queue = open_command_queue(audit)
    queue.put_command("send", "req-run", COMMAND)
    (item,) = queue.claim("sender-a")
    assert queue.finish(item.id, "sender-a", "run")
    assert queue.empty_copied() == 1
    queue.put_command("send", "req-not-copied", COMMAND)
    queue.close()
    for path in tmp_path.glob("audit.commands.db*"):
        path.unlink()  # the queue's file lost, the intake kept

    queue = open_command_queue(audit)
    try:
        (item,) = queue.claim("sender-b")
        assert json.loads(item.body) == COMMAND  # the one never copied
        outcomes = {row["outcome"] for row in _queue_rows(queue)}
        assert outcomes == {"gone", None}  # the one run before is not run again
    finally:
        queue.close()


def test_the_purge_keeps_the_last_copied_row_and_what_was_not_copied(
    queue: CommandQueue,
) -> None:
    for n in range(3):
        queue.put_command("send", f"req-{n}", COMMAND)
    for item in queue.claim("sender-a"):
        assert queue.finish(item.id, "sender-a", "run")
    queue.put_command("send", "req-waits", COMMAND)
    later = queue.now() + timedelta(days=8)
    assert queue.purge(older_than=later) == 3
    kept = [row["id"] for row in _intake_rows(queue)]
    assert kept == [3, 4]  # the last copied (the next copy checks the file by it)
    (item,) = queue.claim("sender-a")
    assert item.attempts == 1 and json.loads(item.body) == COMMAND


def test_every_statement_on_the_intake_reads_through_an_index(
    queue: CommandQueue,
) -> None:
    assert queue.intake is not None
    for n in range(50):
        queue.put_command("send", f"req-plan-{n}", COMMAND)
    with (
        captured(queue.intake) as statements,
        traced(queue._intake_writer) as on_the_driver,
    ):
        queue.claim("sender-a", limit=10)
        queue.claim_one(40, "sender-b")
        queue.waiting()
        queue.oldest_waiting()
        queue.empty_copied()
        queue.purge(older_than=queue.now())
    statements += on_the_driver
    explained = {text for text, _ in statements}
    assert len(explained) >= 5, explained  # copy, digest, count, empty, purge
    for text, params in statements:
        assert full_scans(plan(queue.intake, text, params), text) == [], text


def test_the_acks_insert_keeps_the_time_as_the_queue_reads_it(
    queue: CommandQueue, tmp_path: Path
) -> None:
    before = queue.now()
    queue.put_command("send", "req-time", COMMAND)
    (item,) = queue.claim("sender-a")
    assert item.received_at.tzinfo is not None
    assert before <= item.received_at <= queue.now()
    (row,) = _intake_rows(queue)
    assert row["received_at"] == item.received_at
    # Stored as SQLAlchemy stores a time on SQLite (string order is time order), not
    # by sqlite3's default adapter (``…+00:00``, deprecated in Python 3.12).
    stored = item.received_at.strftime("%Y-%m-%d %H:%M:%S.%f")
    for path, table in [
        ("audit.intake.db", "command_intake"),
        ("audit.commands.db", "stored_commands"),
    ]:
        with sqlite3.connect(tmp_path / path) as conn:
            found = conn.execute(f"SELECT received_at FROM {table}").fetchone()
        assert found == (stored,), path


def test_acks_on_many_threads_each_store_once(queue: CommandQueue) -> None:
    def ack(n: int) -> None:
        for i in range(20):
            assert queue.put_command("send", f"req-{n}-{i}", COMMAND) is not None

    threads = [threading.Thread(target=ack, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(_intake_rows(queue)) == 160
    assert queue.put_command("send", "req-3-7", COMMAND) is None  # stored already


def test_a_failed_insert_says_so_and_the_next_one_works(queue: CommandQueue) -> None:
    assert queue.intake is not None
    queue.put_command("send", "req-before", COMMAND)
    with queue.intake.transaction("break the intake", write=True) as conn:
        conn.exec_driver_sql("ALTER TABLE command_intake RENAME TO gone")
    with pytest.raises(AuditStoreError, match="could not store a command"):
        queue.put_command("send", "req-lost", COMMAND)
    with queue.intake.transaction("mend the intake", write=True) as conn:
        conn.exec_driver_sql("ALTER TABLE gone RENAME TO command_intake")
    assert queue.put_command("send", "req-after", COMMAND) is not None
    assert len(_intake_rows(queue)) == 2


def test_more_acking_threads_than_a_pool_holds_never_wait(queue: CommandQueue) -> None:
    # 20 threads alive at once, each keeping its own connection: a pooled one (5 + 10
    # places) would make the 16th wait 30 s for a place that never comes back.
    together = threading.Barrier(20, timeout=ACK_WAIT)
    stored: list[int | None] = []

    def ack(n: int) -> None:
        stored.append(queue.put_command("send", f"req-many-{n}", COMMAND))
        together.wait()

    threads = [threading.Thread(target=ack, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(2 * ACK_WAIT)
        assert not thread.is_alive(), "an ack waited for a connection"
    assert len(stored) == 20 and None not in stored


def test_the_connections_of_ended_threads_and_of_a_closed_queue_are_closed(
    audit: AuditStore,
) -> None:
    queue = open_command_queue(audit)
    writer = queue._intake_writer
    assert writer is not None
    for n in range(5):  # five threads, one after the other
        thread = threading.Thread(
            target=queue.put_command, args=("send", f"req-{n}", COMMAND)
        )
        thread.start()
        thread.join()
    assert writer.connections() == 1  # each closed the one its ended forerunner left
    queue.close()
    assert writer.connections() == 0


def test_a_sender_that_stops_leaves_no_copied_text_in_the_intake(
    queue: CommandQueue,
) -> None:
    # Its upkeep runs every 10 s: a clean stop must not leave the last ones behind.
    queue.put_command("send", "req-stop", COMMAND)
    (item,) = queue.claim("sender-a")
    assert queue.finish(item.id, "sender-a", "run")
    assert [row["body"] for row in _intake_rows(queue)] != [b""]
    Sender(queue, mode="external").stop()
    assert [row["body"] for row in _intake_rows(queue)] == [b""]
