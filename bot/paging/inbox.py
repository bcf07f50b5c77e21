"""Handle the stored Octopush callbacks: parse each, give it to the inbound processor.

One :class:`InboxWorker` per process, woken by the web route after each store, and
polling for rows stored by other instances or before a restart. While it handles a
batch it keeps renewing its claims (:class:`ClaimKeeper`), and it skips a row whose
claim another worker took meanwhile: a slow Slack call never gets a reply posted twice.
A callback that cannot be parsed is set aside at once; one whose handling fails is
retried a few times with a growing delay (the database may be down), then set aside,
never dropped silently.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Collection
from datetime import timedelta
from types import TracebackType
from typing import Self

from bot.audit.inbox import CallbackInbox, InboxItem
from bot.errors import AuditStoreError
from bot.octopush import CallbackParseError, parse_callback
from bot.paging.inbound import InboundProcessor

logger = logging.getLogger(__name__)

#: Attempts before a callback whose handling keeps failing is set aside.
MAX_ATTEMPTS = 5
#: Handled callbacks are kept this long (duplicates within it are recognised).
KEEP = timedelta(days=7)
PURGE_EVERY_S = 3600.0


class ClaimWorker:
    """Claims stored rows of an inbox and handles each (:meth:`_handle`), until
    :meth:`stop`. The alert inbox (:mod:`bot.alerts.worker`) shares it."""

    #: Names its threads (logs, thread dumps).
    thread_name = "octopush-inbox"

    def __init__(
        self,
        inbox: CallbackInbox,
        *,
        poll_seconds: float = 1.0,
        threads: int = 4,
        on_outcome: Callable[[str], None] = lambda kind: None,
    ) -> None:
        self.inbox = inbox
        self._poll = poll_seconds
        self._threads = threads
        #: Told each callback's kind once handled (``invalid``, ``error`` or the
        #: event's kind): the metrics hook.
        self._on_outcome = on_outcome
        #: Who holds a claim: unique per process, so a restart never inherits one.
        self.owner = f"inbox-{uuid.uuid4().hex[:12]}"
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._workers: list[threading.Thread] = []
        #: Batches being claimed or handled right now (see :meth:`idle`).
        self._in_hand = 0
        self._in_hand_lock = threading.Lock()

    def start(self) -> Self:
        for number in range(self._threads):
            thread = threading.Thread(
                target=self._loop, name=f"{self.thread_name}-{number}", daemon=True
            )
            thread.start()
            self._workers.append(thread)
        return self

    def wake(self) -> None:
        """A callback was just stored: look now rather than at the next poll."""
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the callbacks in hand and stop; unclaimed rows wait for the next start."""
        self._stopped.set()
        self._wake.set()
        for thread in self._workers:
            thread.join(timeout)
        self._workers.clear()

    def idle(self) -> bool:
        """True when no thread is claiming or handling callbacks (tests wait for it)."""
        with self._in_hand_lock:
            return self._in_hand == 0

    def run_once(self) -> int:
        """Claim and handle one batch; return how many callbacks it held."""
        with self._in_hand_lock:
            self._in_hand += 1
        try:
            return self._run_batch()
        finally:
            with self._in_hand_lock:
                self._in_hand -= 1

    def _run_batch(self) -> int:
        items = self.inbox.claim(self.owner)
        if not items:
            return 0
        with ClaimKeeper(self.inbox, self.owner, [item.id for item in items]) as keeper:
            for item in items:
                if not keeper.still_held(item.id):
                    logger.warning(
                        "Octopush callback #%d was taken by another worker; skipped",
                        item.id,
                    )
                    continue
                self._handle(item)
                keeper.release(item.id)
        return len(items)

    def _loop(self) -> None:
        purge_in = 0.0
        while not self._stopped.is_set():
            self._wake.clear()
            try:
                handled = self.run_once()
                if purge_in <= 0:
                    purge_in = PURGE_EVERY_S
                    self.inbox.purge(older_than=self.inbox.now() - KEEP)
            except AuditStoreError as error:
                logger.warning("callback inbox unavailable, retrying: %s", error)
                handled = 0
            if not handled:
                self._wake.wait(self._poll)
                purge_in -= self._poll

    def _handle(self, item: InboxItem) -> None:
        raise NotImplementedError

    def _failed(self, item: InboxItem, kind: str, error: Exception) -> None:
        if item.attempts >= MAX_ATTEMPTS:
            logger.error(
                "%s #%d (%s) set aside after %d attempts: %s",
                self.thread_name,
                item.id,
                kind,
                item.attempts,
                type(error).__name__,
                exc_info=error,
            )
            self.inbox.finish(item.id, self.owner, "failed")
            self._on_outcome("error")
            return
        delay = timedelta(seconds=2**item.attempts)
        logger.warning(
            "%s #%d (%s) failed (%s), retrying in %s",
            self.thread_name,
            item.id,
            kind,
            type(error).__name__,
            delay,
        )
        self.inbox.retry_later(item.id, self.owner, delay)


class InboxWorker(ClaimWorker):
    """Claims stored Octopush callbacks and handles them, until :meth:`stop`."""

    def __init__(
        self,
        inbox: CallbackInbox,
        inbound: InboundProcessor,
        *,
        poll_seconds: float = 1.0,
        threads: int = 4,
        on_outcome: Callable[[str], None] = lambda kind: None,
    ) -> None:
        super().__init__(
            inbox, poll_seconds=poll_seconds, threads=threads, on_outcome=on_outcome
        )
        self._inbound = inbound

    def _handle(self, item: InboxItem) -> None:
        try:
            event = parse_callback(item.body, item.content_type)
        except CallbackParseError as error:
            logger.warning("Octopush callback #%d ignored: %s", item.id, error)
            self.inbox.finish(item.id, self.owner, "unparseable")
            self._on_outcome("invalid")
            return
        try:
            outcome = self._inbound.handle(event)
        except Exception as error:
            self._failed(item, type(event).__name__, error)
            return
        self.inbox.finish(item.id, self.owner, "handled")
        self._on_outcome(outcome.kind)
        logger.info(
            "Octopush callback #%d: %s for audit #%s (changed: %s)",
            item.id,
            outcome.kind,
            outcome.audit_id,
            outcome.changed,
        )


class ClaimKeeper:
    """Renews a worker's claims every third of the lease until each is released.

    Used as a context manager around the handling of one claimed batch; the renewals
    run on a daemon thread, so a handler blocked on Slack keeps its rows.
    """

    def __init__(self, inbox: CallbackInbox, owner: str, item_ids: Collection[int]):
        self._inbox = inbox
        self._owner = owner
        self._pending = set(item_ids)
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._every = max(inbox.lease.total_seconds() / 3, 0.01)
        self._thread = threading.Thread(
            target=self._renew_until_done, name="octopush-inbox-lease", daemon=True
        )

    def __enter__(self) -> ClaimKeeper:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._done.set()
        self._thread.join()

    def still_held(self, item_id: int) -> bool:
        """Renew the claim on ``item_id`` now; False when another worker took it."""
        return item_id in self._inbox.renew([item_id], self._owner)

    def release(self, item_id: int) -> None:
        with self._lock:
            self._pending.discard(item_id)

    def _renew_until_done(self) -> None:
        while not self._done.wait(self._every):
            with self._lock:
                pending = set(self._pending)
            try:
                self._inbox.renew(pending, self._owner)
            except AuditStoreError as error:
                # The next renewal tries again; a lost claim is seen by still_held.
                logger.warning("renewing callback claims failed: %s", error)
