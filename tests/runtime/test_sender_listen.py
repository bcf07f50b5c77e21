"""On PostgreSQL a sender is woken by ``NOTIFY``, not by its poll.

The sender here polls every 30 s; the commands are stored through a queue of their own
(a second engine and connection pool, as another instance's ack would), so nothing in
this process tells the sender: only the ``NOTIFY`` sent at the insert's commit reaches
its ``LISTEN`` connection. Each command must run well under the poll. The ``LISTEN``
connection is also cut (``pg_terminate_backend``): the sender says so, listens again
within a second (not after its poll), looks for what was stored meanwhile and is woken
again.

PostgreSQL only (``TEST_DATABASE_URL``); SQLite's local wake-up has its test in
``test_sender.py``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from bot.audit import AuditStore
from bot.audit.commands import NOTIFY_CHANNEL, CommandQueue, open_command_queue
from bot.runtime.sender import Sender
from tests.conftest import wait_until

pytestmark = pytest.mark.parametrize(
    "database_url",
    [pytest.param("postgres", id="postgres", marks=pytest.mark.postgres)],
    indirect=True,
)

#: The sender's poll: what the wake-up must beat by far.
POLL = 30.0
#: How long a woken command may take to run (store, NOTIFY, claim, run).
WOKEN_WITHIN = 5.0


@pytest.fixture
def queues(database_url: str) -> Iterator[tuple[CommandQueue, CommandQueue]]:
    """The sender's queue, and another one (its own engine) that stores commands."""
    opened: list[AuditStore] = []
    pair = []
    for _ in range(2):
        store = AuditStore.from_url(database_url)
        opened.append(store)
        pair.append(open_command_queue(store))
    yield pair[0], pair[1]
    for store in opened:
        store.close()


class Ran:
    """The runner of the sender under test: records each command it is given."""

    def __init__(self) -> None:
        self.commands: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def __call__(self, kind: str, command: dict[str, Any]) -> None:
        with self._lock:
            self.commands.append(command)

    def count(self) -> int:
        with self._lock:
            return len(self.commands)


@pytest.fixture
def sender(queues: tuple[CommandQueue, CommandQueue]) -> Iterator[tuple[Sender, Ran]]:
    ran = Ran()
    started = Sender(queues[0], mode="external", threads=2, poll_seconds=POLL)
    started.bind(ran)
    started.start()
    yield started, ran
    started.stop()


def listening(engine: sa.Engine, *, other_than: int | None = None) -> int | None:
    """The backend pid of the connection that ran ``LISTEN`` and now waits (idle)."""
    query = sa.text(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
        "AND pid <> pg_backend_pid() AND state = 'idle' AND query = :listen"
    )
    with engine.connect() as conn:
        pids = conn.execute(query, {"listen": f"LISTEN {NOTIFY_CHANNEL}"}).scalars()
        found = [pid for pid in pids if pid != other_than]
    assert len(found) <= 1, found  # one sender, one LISTEN connection
    return found[0] if found else None


def store_and_time(other: CommandQueue, ran: Ran, name: str) -> float:
    """Store one command through ``other``; seconds until the sender ran it."""
    before = ran.count()
    started = time.monotonic()
    assert other.put_command("send", name, {"name": name}) is not None
    wait_until(
        lambda: ran.count() > before, timeout=WOKEN_WITHIN, what=f"{name} to run"
    )
    return time.monotonic() - started


def test_a_sender_is_woken_by_notify_from_another_connection(
    queues: tuple[CommandQueue, CommandQueue], sender: tuple[Sender, Ran]
) -> None:
    own, other = queues
    _, ran = sender
    wait_until(lambda: listening(own.store.engine), what="the sender's LISTEN")

    # The first could be taken by the claim right after LISTEN (the sender looks
    # once when it starts listening); once it ran, only a NOTIFY can wake the sender.
    for name in ("first", "second"):
        assert store_and_time(other, ran, name) < WOKEN_WITHIN < POLL
    assert [command["name"] for command in ran.commands] == ["first", "second"]
    assert other.unprocessed() == 0


def test_a_sender_whose_listen_connection_is_cut_listens_again_within_a_second(
    queues: tuple[CommandQueue, CommandQueue],
    sender: tuple[Sender, Ran],
    caplog: pytest.LogCaptureFixture,
) -> None:
    own, other = queues
    _, ran = sender
    engine = own.store.engine
    cut = wait_until(lambda: listening(engine), what="the sender's LISTEN")
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT pg_terminate_backend(:p)"), {"p": cut})

    # Stored while the sender may not listen yet: it looks again once it listens.
    assert store_and_time(other, ran, "while cut") < WOKEN_WITHIN
    wait_until(
        lambda: "LISTEN for stored commands failed" in caplog.text,
        what="the sender to say its LISTEN failed",
    )

    # And the new connection hears the next NOTIFY.
    wait_until(
        lambda: listening(engine, other_than=cut), what="the sender's new LISTEN"
    )
    assert store_and_time(other, ran, "after") < WOKEN_WITHIN
    assert [command["name"] for command in ran.commands] == ["while cut", "after"]
