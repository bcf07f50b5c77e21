"""The Octopush call of one attempt, and what its answer means for the audit record.

:func:`deliver` never raises: every answer, error or crash of the client becomes a
:class:`Delivered`, so whatever happens after the call, the caller knows whether the
SMS may have gone out. A fresh send and a resend of a pending record read errors
differently (:func:`resend_result`): a resend that gets no verdict leaves the first
attempt's fate unknown.

Every note written here is English for the audit trail and the logs, and marked
(:func:`bot.i18n.N_`) so the result a person reads is in their language.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

from bot.audit import AttemptResult
from bot.domain import AuditStatus, SendRequest
from bot.i18n import N_, N_plural
from bot.i18n.octopush_hints import octopush_message
from bot.log import mask_number
from bot.octopush import (
    OctopushBatchError,
    OctopushClient,
    OctopushDuplicateRequestError,
    OctopushError,
    OctopushValidationError,
    Recipient,
    SmsCampaign,
    SmsCampaignResult,
    SmsType,
    VoiceCampaign,
    voice_language,
)
from bot.octopush.models import MAX_RECIPIENTS_PER_REQUEST
from bot.sending.outcomes import MAYBE_SENT_HINT, maybe_sent, sent_result

logger = logging.getLogger(__name__)

#: The audit note of a send Octopush answered "request_id already used" (code 120).
ALREADY_SENT_NOTE = N_(
    "Octopush already had this request (code 120), so an earlier attempt with the "
    "same request_id got through: sent, ticket and cost unknown (see the Octopush "
    "dashboard)"
)

#: The audit note of a pending attempt the sweep resent and Octopush accepted.
RESENT_NOTE = N_(
    "sent on recovery after a crash (the first attempt never reached Octopush)"
)


def recovered(note: str) -> str:
    """How every other note of a resend starts: ``recovered after a crash: ...``."""
    return N_("recovered after a crash: %(note)s", note=note)


@dataclass(frozen=True)
class Delivered:
    """What the call came to: the audit completion, plus what to tell a person."""

    result: AttemptResult
    #: The Octopush error, when there was one (a resend reads it again).
    error: OctopushError | None = None
    hint: str | None = None
    maybe_sent: bool = False


#: What one attempt asks Octopush for: SMS, or a call (``sms_type`` ``voice``).
Campaign = SmsCampaign | VoiceCampaign


def campaign_for(
    request: SendRequest, request_id: str, *, language: str = "en"
) -> Campaign:
    """The Octopush campaign of a validated request (raises pydantic's error if not).

    A voice request becomes a call read in ``language`` (``SMS_LANGUAGE``).
    """
    if request.sms_type is SmsType.VOICE:
        return VoiceCampaign(
            text=request.text,
            recipients=[Recipient(phone_number=n) for n in request.recipients],
            purpose=request.purpose.value,
            voice_language=voice_language(language),
            sender=request.sender,
            simulation_mode=request.simulation or None,
            request_id=request_id,
        )
    return SmsCampaign(
        text=request.text,
        recipients=[Recipient(phone_number=number) for number in request.recipients],
        type=request.sms_type.value,
        purpose=request.purpose.value,
        sender=request.sender,
        send_at=request.send_at,
        with_replies=request.with_replies or None,
        simulation_mode=request.simulation or None,
        request_id=request_id,
    )


def deliver(
    octopush: OctopushClient, campaign: Campaign, *, audit_id: int
) -> Delivered:
    """Call Octopush once (its client retries safely); never raises."""
    started = time.monotonic()
    try:
        result = (
            octopush.send_voice_campaign(campaign)
            if isinstance(campaign, VoiceCampaign)
            else octopush.send_sms_campaign(campaign)
        )
    except OctopushBatchError as error:
        delivered = _partly_sent(error, _elapsed_ms(started), len(campaign.recipients))
    except OctopushDuplicateRequestError as error:
        # Our own retry was answered "already used": the first try got through.
        delivered = Delivered(
            AttemptResult(
                status=AuditStatus.SENT,
                error_message=ALREADY_SENT_NOTE,
                duration_ms=_elapsed_ms(started),
            ),
            error=error,
        )
    except OctopushError as error:
        message = octopush_message(error)
        if error.maybe_sent:
            message = maybe_sent(message)
        delivered = Delivered(
            AttemptResult(
                status=AuditStatus.FAILED,
                error_code=error.code,
                error_message=message,
                duration_ms=_elapsed_ms(started),
            ),
            error=error,
            hint=error.hint,
            maybe_sent=error.maybe_sent,
        )
    except Exception as unexpected:  # a bug in the client: the request may have left
        logger.exception("Octopush client crashed on attempt #%s", audit_id)
        delivered = Delivered(
            AttemptResult(
                status=AuditStatus.FAILED,
                error_code="unknown",
                error_message=maybe_sent(
                    N_("internal error: %(error)s", error=type(unexpected).__name__)
                ),
                duration_ms=_elapsed_ms(started),
            ),
            hint=MAYBE_SENT_HINT,
            maybe_sent=True,
        )
    else:
        delivered = Delivered(sent_result(result, duration_ms=_elapsed_ms(started)))
    _log(delivered, audit_id, campaign)
    return delivered


def resend_result(delivered: Delivered) -> AttemptResult:
    """How a resend of a ``pending`` record settles it.

    Sent: sent. "Already used" (code 120, even on the first try): the earlier attempt
    got through, so sent with ticket and cost unknown. Refused with a code: failed with
    it. No verdict (timeout, no connection, 5xx): the earlier attempt may have gone
    out, so the outcome stays unknown.
    """
    result, error = delivered.result, delivered.error
    if error is None:
        return result.model_copy(update={"error_message": RESENT_NOTE})
    if isinstance(error, OctopushBatchError):
        return result.model_copy(
            update={"error_message": recovered(result.error_message or "")}
        )
    if isinstance(error, OctopushDuplicateRequestError) or error.code == "120":
        return AttemptResult(
            status=AuditStatus.SENT,
            error_message=recovered(ALREADY_SENT_NOTE),
            duration_ms=result.duration_ms,
        )
    if isinstance(error, OctopushValidationError):
        return result.model_copy(
            update={
                "error_message": N_(
                    "recovered after a crash, resending failed: %(message)s",
                    message=octopush_message(error),
                )
            }
        )
    why = N_("resending it failed (%(message)s)", message=octopush_message(error))
    return unknown_result(why, code=error.code)


def unknown_result(why: str, *, code: str | None = None) -> AttemptResult:
    """A pending record whose fate nobody can tell: failed, outcome unknown.

    ``why`` ends the sentence "the process stopped during the send and ...": English,
    marked with ``N_`` to be translated.
    """
    return AttemptResult(
        status=AuditStatus.FAILED,
        error_code=code or "unknown",
        error_message=N_(
            "outcome unknown: the process stopped during the send and %(why)s; "
            "check the Octopush dashboard before sending again",
            why=why,
        ),
    )


def _partly_sent(error: OctopushBatchError, elapsed: int, total: int) -> Delivered:
    """Batch n of m failed: keep the tickets and cost of the batches that went out."""
    done = SmsCampaignResult.combine(error.completed)
    batches = len(error.completed)
    went_out = min(batches * MAX_RECIPIENTS_PER_REQUEST, total)
    # Counts stay plain numbers: the audit trail keeps "1 to 500 of 1001".
    message: str = N_(
        "%(error)s. Recipients 1 to %(sent)s of %(total)s were sent (%(batches)s); "
        "recipients %(next)s to %(total)s were not",
        error=octopush_message(error),
        sent=went_out,
        total=total,
        next=went_out + 1,
        batches=N_plural("batch 1", "batches 1 to %(n)s", batches),
    )
    if error.cause.maybe_sent:
        message = maybe_sent(message)
    completed = sent_result(done, duration_ms=elapsed)
    return Delivered(
        completed.model_copy(
            update={
                "status": AuditStatus.FAILED,
                "error_code": error.code,
                "error_message": message,
            }
        ),
        error=error,
        hint=error.hint,
        maybe_sent=True,
    )


def _log(delivered: Delivered, audit_id: int, campaign: Campaign) -> None:
    result = delivered.result
    numbers = _masked([r.phone_number for r in campaign.recipients])
    if result.status is AuditStatus.SENT:
        logger.info(
            "sent #%s ticket %s (request %s): %s SMS, cost %s, to %s",
            audit_id,
            result.sms_ticket,
            campaign.request_id,
            result.number_of_sms_needed,
            result.total_cost,
            numbers,
        )
        return
    logger.warning(
        "send #%s failed: [%s] %s (request %s, %s recipients: %s)",
        audit_id,
        result.error_code,
        result.error_message,
        campaign.request_id,
        len(campaign.recipients),
        numbers,
    )


def _elapsed_ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _masked(numbers: Sequence[str]) -> str:
    return ", ".join(mask_number(number) for number in numbers[:5]) + (
        " …" if len(numbers) > 5 else ""
    )
