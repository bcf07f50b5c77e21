"""Make one step of the real code fail, once, in one of four ways.

- ``exception``: the step raises an unexpected error (a bug, a library surprise).
- ``database``: every SQL statement the step runs fails with the ``OperationalError``
  the driver gives when the server is gone; the store's own code turns it into what it
  would in production (the step really runs, its transaction really rolls back).
- ``timeout``: the same, after a wait, with PostgreSQL's statement-timeout words.
- ``kill``: the process dies at the step: :class:`Killed` (a ``BaseException``, so no
  ``except Exception`` stops it) abandons the work; the test then starts a fresh app on
  the same database and runs what a restarted process runs.

Only the first call of the step fails; later calls (retries, a restarted app) work.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from bot.audit.driver_statements import DriverRun

KINDS = ("exception", "database", "timeout", "kill")


class Killed(BaseException):
    """The process died here (SIGKILL, OOM): nothing after this line ran."""


class InjectedError(RuntimeError):
    """An unexpected error raised by a step."""


class DatabaseOutage:
    """Fails every statement run by a thread inside :meth:`during` (one engine):
    through SQLAlchemy, and on SQLite's driver (:mod:`bot.audit.driver_statements`,
    where the statements of a send run), whose first use in a transaction fails."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._local = threading.local()
        sa.event.listen(engine, "before_cursor_execute", self._before)
        _on_driver_too(self)

    def remove(self) -> None:
        sa.event.remove(self._engine, "before_cursor_execute", self._before)
        _OUTAGES.remove(self)
        if not _OUTAGES:
            DriverRun.__init__ = _DRIVER_RUN_INIT  # type: ignore[method-assign]

    def check_driver(self, conn: Connection) -> None:
        """Fail a driver use on this engine's connection, as :meth:`_before` does."""
        if conn.dialect is self._engine.dialect:
            self._before(conn, None, "(on the driver)")

    @contextmanager
    def during(self, words: str) -> Iterator[None]:
        self._local.words = words
        try:
            yield
        finally:
            self._local.words = None

    def _before(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        words = getattr(self._local, "words", None)
        if words:
            raise sa.exc.OperationalError(statement, None, ConnectionError(words))


#: The outages in place; the driver's statements are checked while there are any.
_OUTAGES: list[DatabaseOutage] = []
_DRIVER_RUN_INIT = DriverRun.__init__


def _on_driver_too(outage: DatabaseOutage) -> None:
    if not _OUTAGES:

        def init(run: DriverRun, conn: Connection) -> None:
            for each in list(_OUTAGES):
                each.check_driver(conn)
            _DRIVER_RUN_INIT(run, conn)

        DriverRun.__init__ = init  # type: ignore[method-assign]
    _OUTAGES.append(outage)


SERVER_GONE = "server closed the connection unexpectedly"
STATEMENT_TIMEOUT = "canceling statement due to statement timeout"


class Injector:
    """Wraps ``owner.name`` so its first call fails with ``kind``; records the call."""

    def __init__(
        self, monkeypatch: pytest.MonkeyPatch, outage: DatabaseOutage | None
    ) -> None:
        self._monkeypatch = monkeypatch
        self._outage = outage
        self.fired = threading.Event()
        #: True once a step was killed (the work was abandoned there).
        self.killed = False

    def wrap(
        self, owner: object, name: str, kind: str, *, kill_after: bool = False
    ) -> None:
        real: Callable[..., Any] = getattr(owner, name)
        lock = threading.Lock()
        state = {"armed": True}

        @functools.wraps(real)
        def step(*args: Any, **kwargs: Any) -> Any:
            with lock:
                armed, state["armed"] = state["armed"], False
            if not armed:
                return real(*args, **kwargs)
            self.fired.set()
            if kind == "exception":
                raise InjectedError(f"injected fault in {name}")
            if kind in ("database", "timeout"):
                assert self._outage is not None
                if kind == "timeout":
                    time.sleep(0.3)
                words = SERVER_GONE if kind == "database" else STATEMENT_TIMEOUT
                with self._outage.during(words):
                    return real(*args, **kwargs)
            if kind == "kill":
                self.killed = True
                if kill_after:
                    real(*args, **kwargs)
                raise Killed(name)
            raise AssertionError(f"unknown fault kind {kind}")

        self._monkeypatch.setattr(owner, name, step)
