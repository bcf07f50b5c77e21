"""Crash recovery: settle attempts left ``pending`` by a process that died mid-send.

A pending record means the process stopped between writing the record and completing
it, so Octopush may or may not have the SMS. Resending with the same ``request_id``
finds out safely: Octopush sends it if it never arrived, and answers "duplicate"
(code 120) if it did. That only works within Octopush's 24-hour ``request_id`` window,
and a late alert can do harm, so only recent attempts are resent; older ones are
marked failed with a message saying the outcome is unknown.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from pydantic import ValidationError

from bot.audit import AttemptResult, AuditRecord
from bot.domain import AuditStatus
from bot.errors import AuditStoreError
from bot.octopush import (
    OctopushDuplicateRequestError,
    OctopushError,
    OctopushValidationError,
    Recipient,
    SmsCampaign,
)
from bot.sending.service import SmsService, sent_result

logger = logging.getLogger(__name__)

#: A pending record younger than this may still be in flight in a live process.
MIN_AGE = timedelta(minutes=1)
#: Resend no attempt older than this: the page is stale, and the window is closing.
MAX_RESEND_AGE = timedelta(minutes=15)


@dataclass(frozen=True)
class Settled:
    """What recovery did with one pending record."""

    audit_id: int
    status: AuditStatus
    summary: str


def recover_pending(
    service: SmsService,
    *,
    min_age: timedelta = MIN_AGE,
    max_resend_age: timedelta = MAX_RESEND_AGE,
    report: Callable[[str], None] | None = None,
) -> list[Settled]:
    """Settle every pending record older than ``min_age``; report each in one line."""
    store = service.store
    settled = []
    for record in store.pending_older_than(min_age):
        age = store.now() - record.created_at
        try:
            result = _settle(service, record, resend=age <= max_resend_age)
            store.complete(record.id, result)
        except AuditStoreError as error:
            # Another instance settled it first (complete() refuses a non-pending record).
            logger.info("pending #%s not settled here: %s", record.id, error)
            continue
        line = f"audit #{record.id} was left pending by a crash: {result.error_message}"
        settled.append(Settled(record.id, result.status, line))
        logger.warning("%s", line)
        if report is not None:
            report(line)
    return settled


def _settle(service: SmsService, record: AuditRecord, *, resend: bool) -> AttemptResult:
    if not resend:
        return _unknown(record, "too old to resend safely")
    if record.text is None:
        return _unknown(record, "its text was redacted, so it cannot be resent")
    try:
        campaign = SmsCampaign(
            text=record.text,
            recipients=[Recipient(phone_number=number) for number in record.recipients],
            type=record.sms_type or "sms_premium",
            purpose=record.purpose or "alert",
            sender=record.sender,
            send_at=record.send_at,
            simulation_mode=record.simulation or None,
            request_id=record.request_id,
        )
    except ValidationError as error:
        # A record written by an older version (or by hand) must not stop recovery of
        # every younger record at each start; name the fields, never their values.
        fields = ", ".join(
            sorted({str(e["loc"][0]) for e in error.errors() if e["loc"]})
        )
        return _unknown(
            record, f"it cannot be rebuilt for a resend (invalid {fields or 'fields'})"
        )
    try:
        result = service.octopush.send_sms_campaign(campaign)
    except OctopushError as error:
        if isinstance(error, OctopushDuplicateRequestError) or error.code == "120":
            return AttemptResult(
                status=AuditStatus.FAILED,
                error_code="120",
                error_message="recovered after a crash: Octopush already had this request, "
                "so the SMS was probably sent; its ticket is unknown (see the Octopush "
                "dashboard)",
            )
        if isinstance(error, OctopushValidationError):
            # Octopush read the resend and refused it (credit, sender, STOP mention...).
            return AttemptResult(
                status=AuditStatus.FAILED,
                error_code=error.code,
                error_message="recovered after a crash, resending failed: "
                f"{error.message}",
            )
        # No verdict on the resend (timeout, no connection, 5xx, 401, 429), and the
        # first attempt may have reached Octopush before the crash: still unknown.
        return _unknown(
            record, f"resending it failed ({error.message})", code=error.code
        )
    return sent_result(
        result,
        note="sent on recovery after a crash (the first attempt never reached Octopush)",
    )


def _unknown(
    record: AuditRecord, why: str, *, code: str | None = None
) -> AttemptResult:
    return AttemptResult(
        status=AuditStatus.FAILED,
        error_code=code or "unknown",
        error_message=f"outcome unknown: the process stopped during the send and {why}; "
        "check the Octopush dashboard before sending again",
    )


def start_recovery(
    service: SmsService, *, report: Callable[[str], None] | None = None
) -> None:
    """Run :func:`recover_pending` on a daemon thread, so start-up is not delayed."""

    def run() -> None:
        try:
            recover_pending(service, report=report)
        except Exception:
            logger.exception("crash recovery of pending audit records failed")

    threading.Thread(target=run, name="sms-bot-recovery", daemon=True).start()
