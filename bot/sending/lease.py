"""The lease a process holds on the pending attempts it is working on.

The sweep resends an attempt left ``pending`` because it assumes its process died.
It must never take one that is still running (a batched send of 1,200 numbers takes
minutes) or whose answer the live process holds and has not managed to write yet.
So the sending process writes a lease with the ``pending`` record and renews it, on
one thread per process, for as long as it holds the attempt; the sweep only takes an
attempt whose lease ran out (:meth:`bot.audit.ledger.SendLedger.claim`).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from bot.audit.ledger import SendLedger

logger = logging.getLogger(__name__)

#: How long a lease lasts without renewal: a process silent for this long is dead.
SEND_LEASE = timedelta(seconds=60)


def new_owner() -> str:
    """An id for this holder, unique across hosts and processes (at most 64 chars)."""
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


class LeaseKeeper:
    """Holds leases on pending attempts and renews them every third of the lease."""

    def __init__(self, ledger: SendLedger, *, lease: timedelta | None = None) -> None:
        self.owner = new_owner()
        #: :data:`SEND_LEASE` unless given (read when built, so tests may shorten it).
        self.lease = lease if lease is not None else SEND_LEASE
        self._ledger = ledger
        self._held: dict[int, int] = {}  # audit id -> how many holders
        self._lock = threading.Lock()
        self._busy = threading.Event()  # set while anything is held
        self._pause = threading.Event()  # never set: the thread's timer
        self._thread: threading.Thread | None = None

    def until(self) -> datetime:
        """When a lease taken or renewed now runs out."""
        return self._ledger.now() + self.lease

    def holds(self, audit_id: int) -> bool:
        """Whether this process is working on attempt ``audit_id`` right now."""
        with self._lock:
            return audit_id in self._held

    @contextmanager
    def holding(self, audit_id: int) -> Iterator[None]:
        """Keep renewing the lease on ``audit_id`` until the block ends."""
        self.hold(audit_id)
        try:
            yield
        finally:
            self.release(audit_id)

    def hold(self, audit_id: int) -> None:
        with self._lock:
            self._held[audit_id] = self._held.get(audit_id, 0) + 1
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._renew_loop, name="sms-bot-lease", daemon=True
                )
                self._thread.start()
            self._busy.set()

    def release(self, audit_id: int) -> None:
        with self._lock:
            left = self._held.get(audit_id, 0) - 1
            if left > 0:
                self._held[audit_id] = left
            else:
                self._held.pop(audit_id, None)
            if not self._held:
                self._busy.clear()

    def renew_now(self) -> None:
        """Renew every lease held (the thread calls it; a failure waits for the next)."""
        with self._lock:
            ids = list(self._held)
        if not ids:
            return
        try:
            kept = self._ledger.renew(ids, owner=self.owner, until=self.until())
        except Exception as error:  # the database is away: the next turn tries again
            logger.warning("renewing the lease on %s failed: %s", ids, error)
            return
        if kept < len(ids):
            logger.info("%s of %s are no longer leased here", len(ids) - kept, ids)

    def _renew_loop(self) -> None:
        interval = self.lease.total_seconds() / 3
        while True:
            self._busy.wait()
            self._pause.wait(interval)
            self.renew_now()
