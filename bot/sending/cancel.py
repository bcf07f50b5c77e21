"""Cancelling a scheduled send: who may, Octopush's rules, the call, the audit record.

``/sms cancel``, the *Cancel* button and ``sms-bot cancel`` all come here. The rules
Octopush applies are checked first (:mod:`bot.sending.cancel_rules`), then the record
is claimed so a double press calls Octopush once, then Octopush is asked, and only
after its yes does the record become ``cancelled`` (compare-and-set from ``sent``).
Once Octopush was called the answer always says what happened there: if it said yes
and the write fails, the write is tried again, and the person is told the truth.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from bot.audit import AuditRecord, AuditStore
from bot.audit.cancels import CLAIM_PREFIX, CancelLedger
from bot.domain import AuditStatus
from bot.errors import AuditStoreError
from bot.i18n import N_
from bot.octopush import OctopushClient, OctopushConnectionError, OctopushError
from bot.sending.cancel_rules import (
    MONTH_USED_UP,
    MONTHLY_CANCELS,
    NOT_YOURS,
    cancel_obstacle,
    month_start,
)

logger = logging.getLogger(__name__)

BUSY = N_("Someone is cancelling this send right now; try again in a minute.")

#: ``cancelled_by`` of a cancel made with ``sms-bot cancel``.
CLI_ACTOR = "cli"
#: Seconds between tries of the audit write after Octopush said yes.
WRITE_DELAYS: tuple[float, ...] = (0.2, 1.0, 3.0)


class CancelVerdict(StrEnum):
    """How a cancel ended."""

    #: Octopush cancelled it and the record says ``cancelled``.
    CANCELLED = "cancelled"
    #: It was cancelled before (by this press's twin, or earlier).
    ALREADY = "already"
    #: No send has this ticket.
    NOT_FOUND = "not_found"
    #: Refused before Octopush was called (a rule, the person, a cancel in progress).
    NOT_ALLOWED = "not_allowed"
    #: Octopush refused, or could not be reached: nothing was cancelled.
    REFUSED = "refused"
    #: Octopush did not answer after receiving the request: it may be cancelled.
    UNKNOWN = "unknown"
    #: Octopush cancelled it, but the audit record could not be updated.
    UNRECORDED = "unrecorded"


@dataclass(frozen=True)
class CancelResult:
    """What a cancel did; ``reason`` is translatable (``N_``) when set."""

    verdict: CancelVerdict
    record: AuditRecord | None = None
    reason: str | None = None
    error: OctopushError | None = None
    #: An earlier cancel reached Octopush and its answer was never written.
    earlier_unrecorded: bool = False


def utc_now() -> datetime:
    return datetime.now(UTC)


class CancelService:
    """Cancels scheduled sends through Octopush and records it in the audit trail."""

    def __init__(
        self,
        *,
        octopush: OctopushClient,
        store: AuditStore,
        admins: Sequence[str] = (),
        clock: Callable[[], datetime] = utc_now,
        write_delays: Sequence[float] = WRITE_DELAYS,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.octopush = octopush
        self.store = store
        self.admins = frozenset(admins)
        self._ledger = CancelLedger(store)
        self._clock = clock
        self._write_delays = tuple(write_delays)
        self._sleep = sleep

    def find(self, ticket: str) -> AuditRecord | None:
        """The send that got ``ticket`` from Octopush, if any."""
        ticket = ticket.strip().strip("`")
        return self.store.find_by_ticket(ticket) if ticket else None

    def may_cancel(self, record: AuditRecord, by: str | None) -> bool:
        """The sender and admins may; ``by=None`` (the CLI, run by an operator) may."""
        return by is None or by == record.slack_user_id or by in self.admins

    def obstacle(self, record: AuditRecord) -> str | None:
        """Why Octopush would refuse this cancel now (translatable), or None."""
        return cancel_obstacle(
            status=record.status,
            send_at=record.send_at,
            ticket=record.sms_ticket,
            simulation=record.simulation,
            recipients=record.recipients,
            now=self._clock(),
        )

    def cancel_ticket(self, ticket: str, *, by: str | None) -> CancelResult:
        """Cancel the send that got ``ticket``; see :meth:`cancel`."""
        record = self.find(ticket)
        if record is None:
            return CancelResult(CancelVerdict.NOT_FOUND)
        return self.cancel(record, by=by)

    def cancel(self, record: AuditRecord, *, by: str | None) -> CancelResult:
        """Cancel ``record``'s scheduled send for ``by`` (a Slack user id, None: CLI)."""
        if record.status is AuditStatus.CANCELLED:
            return CancelResult(CancelVerdict.ALREADY, record)
        if not self.may_cancel(record, by):
            return CancelResult(CancelVerdict.NOT_ALLOWED, record, NOT_YOURS)
        obstacle = self.obstacle(record)
        if obstacle is not None:
            return CancelResult(CancelVerdict.NOT_ALLOWED, record, obstacle)
        if self._ledger.cancels_since(month_start(self._clock())) >= MONTHLY_CANCELS:
            return CancelResult(CancelVerdict.NOT_ALLOWED, record, MONTH_USED_UP)
        who = by or CLI_ACTOR
        earlier = (record.claimed_by or "").startswith(CLAIM_PREFIX)
        if not self._ledger.claim(record.id, who):
            return self._taken(record)
        assert record.sms_ticket is not None  # checked by the obstacle
        try:
            self.octopush.cancel_sms_campaign(record.sms_ticket)
        except OctopushError as error:
            return self._failed(record, error, earlier)
        logger.info("audit #%s: scheduled send cancelled at Octopush", record.id)
        return self._record(record, who)

    def _taken(self, record: AuditRecord) -> CancelResult:
        """Someone else's cancel holds the record, or settled it already."""
        now = self.store.get(record.id)
        if now.status is AuditStatus.CANCELLED:
            return CancelResult(CancelVerdict.ALREADY, now)
        return CancelResult(
            CancelVerdict.NOT_ALLOWED,
            now,
            BUSY,
        )

    def _failed(
        self, record: AuditRecord, error: OctopushError, earlier: bool
    ) -> CancelResult:
        if isinstance(error, OctopushConnectionError) and error.reached:
            # The claim stays until it expires: a retry then asks Octopush again.
            logger.warning("audit #%s: no answer to the cancel (%s)", record.id, error)
            return CancelResult(CancelVerdict.UNKNOWN, record, error=error)
        self._ledger.release(record.id)
        logger.info("audit #%s: Octopush refused the cancel (%s)", record.id, error)
        return CancelResult(
            CancelVerdict.REFUSED, record, error=error, earlier_unrecorded=earlier
        )

    def _record(self, record: AuditRecord, who: str) -> CancelResult:
        """Write ``cancelled``, trying again while the store fails: Octopush said yes."""
        at = self._clock()
        for delay in (*self._write_delays, None):
            try:
                # Octopush takes a scheduled campaign's credit back when it cancels it.
                self._ledger.mark_cancelled(
                    record.id, by=who, at=at, refunded=not record.simulation
                )
                break
            except AuditStoreError:
                logger.exception("audit #%s: recording the cancel failed", record.id)
                if delay is None:
                    return CancelResult(CancelVerdict.UNRECORDED, record)
                self._sleep(delay)
        try:
            return CancelResult(CancelVerdict.CANCELLED, self.store.get(record.id))
        except AuditStoreError:
            shown = record.model_copy(
                update={
                    "status": AuditStatus.CANCELLED,
                    "cancelled_by": who,
                    "cancelled_at": at,
                }
            )
            return CancelResult(CancelVerdict.CANCELLED, shown)
