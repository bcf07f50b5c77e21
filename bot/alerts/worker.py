"""Handles the stored alert events with the callback inbox's claims and leases.

The same :class:`~bot.paging.inbox.ClaimWorker` as Octopush callbacks: claimed with a
lease (one worker per event across instances), retried with a growing delay when
handling fails (the database or Octopush may be down), set aside after a few tries.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from bot.alerts.handler import AlertHandler
from bot.alerts.payloads import PayloadError
from bot.audit.inbox import InboxItem
from bot.paging.inbox import ClaimWorker

logger = logging.getLogger(__name__)


class AlertWorker(ClaimWorker):
    """Claims stored alert events and gives each to the :class:`AlertHandler`."""

    thread_name = "alert-inbox"

    def __init__(
        self,
        handler: AlertHandler,
        *,
        poll_seconds: float = 1.0,
        threads: int = 2,
        record: Callable[[str, str], None] = lambda integration, outcome: None,
    ) -> None:
        super().__init__(
            handler.inbox,
            poll_seconds=poll_seconds,
            threads=threads,
            on_outcome=lambda outcome: record("unknown", outcome),
        )
        self.handler = handler
        #: Told each event's integration and outcome once handled (metrics).
        self._record = record

    def _handle(self, item: InboxItem) -> None:
        try:
            outcome = self.handler.handle(item.id, item.body)
        except PayloadError as error:  # checked when stored: a bug, not a retry
            logger.warning("alert event #%d ignored: %s", item.id, error)
            self.inbox.finish(item.id, self.owner, "unparseable")
            self._on_outcome("invalid")
            return
        except Exception as error:
            self._failed(item, "alert", error)
            return
        self.inbox.finish(item.id, self.owner, outcome.outcome)
        self._record(outcome.integration, outcome.outcome)
        logger.info(
            "alert event #%d: %s (page #%s)", item.id, outcome.outcome, outcome.page_id
        )
