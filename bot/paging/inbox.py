"""Handle the stored Octopush callbacks: parse each, give it to the inbound processor.

One :class:`InboxWorker` per process, woken by the web route after each store, and
polling for rows stored by other instances or before a restart. A callback that cannot
be parsed is set aside at once; one whose handling fails is retried a few times with
a growing delay (the database may be down), then set aside, never dropped silently.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from datetime import timedelta

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


class InboxWorker:
    """Claims stored callbacks and handles them, until :meth:`stop`."""

    def __init__(
        self,
        inbox: CallbackInbox,
        inbound: InboundProcessor,
        *,
        poll_seconds: float = 1.0,
        threads: int = 4,
        on_outcome: Callable[[str], None] = lambda kind: None,
    ) -> None:
        self.inbox = inbox
        self._inbound = inbound
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

    def start(self) -> InboxWorker:
        for number in range(self._threads):
            thread = threading.Thread(
                target=self._loop, name=f"octopush-inbox-{number}", daemon=True
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

    def run_once(self) -> int:
        """Claim and handle one batch; return how many callbacks it held."""
        items = self.inbox.claim(self.owner)
        for item in items:
            self._handle(item)
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

    def _failed(self, item: InboxItem, kind: str, error: Exception) -> None:
        if item.attempts >= MAX_ATTEMPTS:
            logger.error(
                "Octopush callback #%d (%s) set aside after %d attempts: %s",
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
            "Octopush callback #%d (%s) failed (%s), retrying in %s",
            item.id,
            kind,
            type(error).__name__,
            delay,
        )
        self.inbox.retry_later(item.id, self.owner, delay)
