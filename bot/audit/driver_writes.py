"""Short transactions on a SQLite file, on this thread's own driver connection.

The ack's one insert (:meth:`bot.audit.commands.CommandQueue.put_command`) runs in the
web process before every answer. Through SQLAlchemy it cost more than the insert
itself: the pool's check-out and check-in, the transaction's events, the statement's
cache lookup. Here each thread keeps a driver connection of its own (opened through an
unpooled engine, so set up as every connection is: WAL, the busy timeout, autocommit,
and never taking a place in the store's pool) and writes with ``BEGIN IMMEDIATE`` …
``COMMIT`` on it, taking its turn with the file's other writers
(:mod:`bot.audit.write_turn`) as every write does. A thread that ended leaves its
connection behind until the next thread opens one, which closes it.

The sender's claim (:meth:`bot.audit.commands.CommandQueue.claim`) runs the same way,
for the same reason: it is on the path between an ack and the Octopush call. It reads
the intake (:meth:`DriverWriter.read`: a plain ``BEGIN``, so an ack's insert never
waits for it) and runs SQLAlchemy statements compiled once
(:class:`bot.audit.driver_statements.DriverStatement`).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

from bot.audit.engine import create_engine, describe
from bot.audit.store import AuditStore
from bot.errors import AuditStoreError


class DriverWriter:
    """Short transactions on ``store``'s SQLite file (writes, and reads that lock
    nothing), each thread on its own connection."""

    def __init__(self, store: AuditStore) -> None:
        if store.engine.dialect.name != "sqlite":
            raise ValueError("driver writes are for SQLite files")
        self._store = store
        self._engine = create_engine(store.engine.url, unpooled=True)
        self._local = threading.local()
        #: Every connection opened, with the thread that keeps it.
        self._opened: dict[threading.Thread, Any] = {}
        self._lock = threading.Lock()

    @contextmanager
    def write(self, operation: str) -> Iterator[sqlite3.Cursor]:
        """One write transaction; a driver error becomes :class:`AuditStoreError`
        (the connection is dropped: the next write opens another)."""
        turn = self._store.write_turn
        try:
            with turn() if turn is not None else nullcontext():
                yield from self._transaction("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise self._failed(operation, exc) from exc

    @contextmanager
    def read(self, operation: str) -> Iterator[sqlite3.Cursor]:
        """One read transaction (``BEGIN``: no write lock and no turn taken, so the
        file's writers never wait for it); errors as in :meth:`write`."""
        try:
            yield from self._transaction("BEGIN")
        except sqlite3.Error as exc:
            raise self._failed(operation, exc) from exc

    def _transaction(self, begin: str) -> Iterator[sqlite3.Cursor]:
        cursor = self._connection().cursor()
        cursor.execute(begin)
        try:
            yield cursor
            cursor.execute("COMMIT")
        except BaseException:
            if cursor.connection.in_transaction:
                cursor.execute("ROLLBACK")
            raise

    def _failed(self, operation: str, exc: sqlite3.Error) -> AuditStoreError:
        """The error to raise for ``exc``; this thread's connection is dropped."""
        self._drop()
        where = self._store.engine.url.render_as_string(hide_password=True)
        return AuditStoreError(
            f"audit store could not {operation} ({where}): {describe(exc)}"
        )

    def connections(self) -> int:
        """How many connections are open (tests)."""
        with self._lock:
            return len(self._opened)

    def close(self) -> None:
        """Close every thread's connection."""
        with self._lock:
            opened, self._opened = list(self._opened.values()), {}
        for connection in opened:
            connection.close()
        self._local = threading.local()
        self._engine.dispose()

    def _connection(self) -> sqlite3.Connection:
        proxied = getattr(self._local, "connection", None)
        if proxied is None:
            proxied = self._engine.raw_connection()
            with self._lock:
                ended = [t for t in self._opened if not t.is_alive()]
                left_behind = [self._opened.pop(thread) for thread in ended]
                self._opened[threading.current_thread()] = proxied
            for connection in left_behind:
                connection.close()
            self._local.connection = proxied
        raw = proxied.driver_connection
        assert isinstance(raw, sqlite3.Connection)
        return raw

    def _drop(self) -> None:
        proxied = getattr(self._local, "connection", None)
        if proxied is None:
            return
        self._local.connection = None
        with self._lock:
            self._opened.pop(threading.current_thread(), None)
        proxied.invalidate()
