"""How an attempt ended, in two shapes: the audit completion and the caller's outcome.

:func:`build_outcome` is the one place a :class:`~bot.domain.SendOutcome` is made, for a
fresh send, a duplicate submit and a record read back, so they can never disagree.
"""

from __future__ import annotations

from bot.audit import AttemptResult, AuditRecord
from bot.domain import AuditStatus, Purpose, SendOutcome, SendRequest, SmsType, Source
from bot.i18n import N_
from bot.octopush import SmsCampaignResult
from bot.octopush.codes import hint_for
from bot.sending.stored_notes import reread

#: Appended to a failure's message when Octopush may have queued the SMS anyway
#: (:func:`maybe_sent`); a stored message ending with it may have gone out.
MAYBE_SENT_NOTE = (
    " (Octopush may have received it: check its dashboard before resending)"
)
#: Audit error codes that also mean "may have been sent" (duplicate; unknown outcome).
MAYBE_SENT_CODES = frozenset({"120", "unknown"})
#: The hint of a failure that may have gone out when Octopush gave no better one.
MAYBE_SENT_HINT = N_(
    "Octopush may have received it: check the Octopush dashboard before resending."
)


def maybe_sent(message: str) -> str:
    """``message`` + :data:`MAYBE_SENT_NOTE`, still translatable as one sentence."""
    return N_(
        "%(message)s (Octopush may have received it: check its dashboard before "
        "resending)",
        message=message,
    )


def sent_result(
    result: SmsCampaignResult,
    *,
    duration_ms: int | None = None,
    note: str | None = None,
) -> AttemptResult:
    """The audit completion of a send Octopush accepted (batches: tickets comma-joined)."""
    return AttemptResult(
        status=AuditStatus.SENT,
        sms_ticket=joined_tickets(result),
        number_of_contacts=result.number_of_contacts,
        number_of_sms_needed=result.number_of_sms_needed,
        total_cost=result.total_cost,
        residual_credit=result.residual_credit,
        error_message=note,
        duration_ms=duration_ms,
    )


def joined_tickets(result: SmsCampaignResult) -> str:
    """One ticket, or a batched send's tickets comma-separated (the store's convention)."""
    return ",".join(result.tickets) if len(result.tickets) > 1 else result.sms_ticket


def build_outcome(
    *,
    audit_id: int,
    request_id: str,
    request: SendRequest,
    result: AttemptResult | AuditRecord,
    hint: str | None = None,
    maybe_sent: bool = False,
    problems: tuple[str, ...] = (),
    duplicate: bool = False,
    source: Source | None = None,
) -> SendOutcome:
    """The outcome of attempt ``audit_id`` from its audit completion (or stored record)."""
    return SendOutcome(
        audit_id=audit_id,
        request_id=request_id,
        status=result.status,
        request=request,
        sms_ticket=result.sms_ticket,
        number_of_contacts=result.number_of_contacts,
        number_of_sms_needed=result.number_of_sms_needed,
        total_cost=result.total_cost,
        residual_credit=result.residual_credit,
        error_code=result.error_code,
        # A stored record's note is English: read back, it is translatable again.
        error_message=reread(result.error_message),
        error_hint=hint,
        maybe_sent=maybe_sent,
        duration_ms=result.duration_ms,
        problems=problems,
        duplicate=duplicate,
        source=source if source is not None else getattr(result, "source", None),
        cancelled_by=getattr(result, "cancelled_by", None),
        cancelled_at=getattr(result, "cancelled_at", None),
    )


def request_from_record(record: AuditRecord) -> SendRequest:
    """The request an audit record was written for, as far as the record keeps it."""
    return SendRequest(
        recipients=tuple(record.recipients) or ("?",),
        text=record.text or "",
        sender=record.sender,
        sms_type=SmsType(record.sms_type or SmsType.PREMIUM),
        purpose=Purpose(record.purpose or Purpose.ALERT),
        send_at=record.send_at,
        simulation=record.simulation,
    )


def may_have_gone_out(record: AuditRecord) -> bool:
    """Whether a failed attempt may have reached anyone, as its record tells."""
    return (
        record.error_code in MAYBE_SENT_CODES
        or MAYBE_SENT_NOTE in (record.error_message or "")
        or bool(record.sms_ticket)  # a batched send that stopped part-way
        or record.total_cost is not None
    )


def went_nowhere(record: AuditRecord) -> bool:
    """Whether an attempt definitely did not go out: failed, and not maybe sent."""
    return record.status is AuditStatus.FAILED and not may_have_gone_out(record)


def outcome_from_record(record: AuditRecord, *, duplicate: bool = False) -> SendOutcome:
    """Rebuild an earlier attempt's outcome (a duplicate submit gets the first result)."""
    failed = record.status is AuditStatus.FAILED
    maybe_sent = failed and may_have_gone_out(record)
    hint = hint_for(record.error_code) if failed else None
    if maybe_sent and hint is None:
        hint = MAYBE_SENT_HINT
    return build_outcome(
        audit_id=record.id,
        request_id=record.request_id,
        request=request_from_record(record),
        result=record,
        hint=hint,
        maybe_sent=maybe_sent,
        duplicate=duplicate,
    )
