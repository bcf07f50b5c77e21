"""Writers to one SQLite file take turns without sleeping.

SQLite lets one writer at a time into a file, and a writer that finds the file taken
sleeps in SQLite's busy handler in growing steps (1, 2, 5 … 100 ms), even when the
other writer is done a fraction of a millisecond later. Under load (a sender's 32
threads, the web process's acks) those sleeps were most of a send's wait and the tail
of the acks. Here the threads of one process queue on a lock, and processes on a POSIX
lock of a file beside the database, which the kernel hands over at once: by the time a
writer says ``BEGIN IMMEDIATE``, the file is free.

Advisory only: SQLite still keeps every write safe, so when the lock file cannot be
opened or locked the writer goes on without it (and may sleep as before).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # not POSIX: the threads still take turns
    fcntl = None  # type: ignore[assignment]

logger = logging.getLogger(__name__)


class WriteTurn:
    """One writer at a time for a SQLite file: this process's threads, then processes."""

    def __init__(self, lock_file: Path | None) -> None:
        self._threads = threading.RLock()
        self._depth = 0
        self._lock_file = lock_file
        self._fd: int | None = None

    @contextmanager
    def __call__(self) -> Iterator[None]:
        with self._threads:
            self._depth += 1
            locked = self._depth == 1 and self._lock()
            try:
                yield
            finally:
                if locked:
                    self._unlock()
                self._depth -= 1

    @property
    def shared_by_processes(self) -> bool:
        """Whether the file has a lock file (a file on disk, not in memory)."""
        return self._lock_file is not None

    def held_once(self) -> bool:
        """Whether the calling thread, which holds the turn, holds it once (not in a
        turn of its own already taken): its writes have the file to themselves."""
        return self._depth == 1

    def close(self) -> None:
        with self._threads:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None

    def _lock(self) -> bool:
        if self._lock_file is None or fcntl is None:
            return False
        try:
            if self._fd is None:
                self._fd = os.open(self._lock_file, os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.lockf(self._fd, fcntl.LOCK_EX)
        except OSError as error:  # e.g. a read-only directory: SQLite alone, as before
            logger.debug("no writer lock on %s: %s", self._lock_file, error)
            return False
        return True

    def _unlock(self) -> None:
        assert self._fd is not None and fcntl is not None
        try:
            fcntl.lockf(self._fd, fcntl.LOCK_UN)
        except OSError as error:
            logger.debug("writer lock on %s not released: %s", self._lock_file, error)


def lock_file_for(database: str | None) -> Path | None:
    """The lock file beside a SQLite database file (None in memory)."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    path = Path(database).expanduser()
    return path.with_name(path.name + "-writer.lock")
