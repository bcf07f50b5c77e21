"""The one send path: rules, audit record, Octopush call, audit completion, in order.

Slack handlers and the CLI both call :class:`SmsService`, so every attempt, whatever its
source, gets an audit record written before Octopush is called and completed after.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from bot.audit import (
    AttemptResult,
    AuditRecord,
    AuditStore,
    DuplicateAttemptError,
    NewAttempt,
)
from bot.domain import (
    Actor,
    AuditStatus,
    Purpose,
    SendDraft,
    SendOutcome,
    SendRequest,
    SmsType,
    Source,
)
from bot.errors import BotError, InputError, PolicyError
from bot.log import mask_number
from bot.octopush import (
    Balance,
    OctopushClient,
    OctopushError,
    Recipient,
    SmsCampaign,
    SmsCampaignResult,
)
from bot.octopush.codes import hint_for
from bot.sending.rules import Resolver, SendDefaults, validate_draft

logger = logging.getLogger(__name__)

#: A policy check run on a valid request before anything is written as pending.
PolicyCheck = Callable[[SendRequest, Actor], None]
#: Appended to a failure's message when Octopush may have queued the SMS anyway.
MAYBE_SENT_NOTE = (
    " (Octopush may have received it: check its dashboard before resending)"
)
#: Audit error codes that also mean "may have been sent" (duplicate; unknown outcome).
_MAYBE_SENT_CODES = frozenset({"120", "unknown"})

#: Called with every outcome that reached Octopush (e.g. the low-credit watch).
OutcomeObserver = Callable[[SendOutcome], None]


def utc_now() -> datetime:
    return datetime.now(UTC)


def new_request_id() -> str:
    """A fresh idempotency key for Octopush (``request_id``), unique per attempt."""
    return f"smsbot-{uuid.uuid4().hex}"


class SmsService:
    """Sends SMS and answers questions about them; the one place ordering side effects."""

    def __init__(
        self,
        *,
        octopush: OctopushClient,
        store: AuditStore,
        defaults: SendDefaults,
        force_simulation: bool = False,
        policy: PolicyCheck | None = None,
        observers: Sequence[OutcomeObserver] = (),
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.octopush = octopush
        self.store = store
        self.defaults = defaults
        self.force_simulation = force_simulation
        self._policy = policy
        self.observers = list(observers)
        self.refusal_observers: list[Callable[[Source], None]] = []  # metrics
        self._clock = clock

    def check_policy(self, request: SendRequest, actor: Actor) -> None:
        """Run the admin's rules on a valid request; raises ``PolicyError``; writes nothing."""
        if self._policy is not None:
            self._policy(request, actor)

    def check_actor(self, actor: Actor) -> None:
        """Who and where only (raises ``PolicyError``): may ``actor`` send at all?"""
        check = getattr(self._policy, "check_actor", None)
        if check is not None:
            check(actor)

    def validate(
        self, draft: SendDraft, *, resolve: Resolver | None = None
    ) -> SendRequest:
        """Run every message rule; raise ``InputError`` listing each problem; write nothing."""
        request = validate_draft(
            draft, defaults=self.defaults, now=self._clock(), resolve=resolve
        )
        if self.force_simulation and not request.simulation:
            request = request.model_copy(update={"simulation": True})
        return request

    def send(
        self, draft: SendDraft, actor: Actor, *, resolve: Resolver | None = None
    ) -> SendOutcome:
        """Validate, record, send and record again; return how the attempt ended.

        Raises ``InputError`` or ``PolicyError`` (after recording a ``rejected``
        attempt, whose id is in ``error.audit_id``). Octopush failures do not raise: they come back
        as an outcome with status ``failed`` and the Octopush code, message and hint.
        A ``request_id`` already in the audit trail returns that first attempt's outcome
        instead of sending again.
        """
        request_id = draft.request_id or new_request_id()
        try:
            request = self.validate(draft, resolve=resolve)
            self.check_policy(request, actor)
        except (InputError, PolicyError) as refusal:
            self._record_rejection(draft, actor, request_id, refusal)
            for observe in self.refusal_observers:
                observe(actor.source)
            raise
        try:
            record_id = self.store.begin(_attempt(request, actor, request_id))
        except DuplicateAttemptError as duplicate:
            logger.info(
                "request %s already recorded as #%s; not sending again",
                request_id,
                duplicate.existing.id,
            )
            return outcome_from_record(duplicate.existing).model_copy(
                update={"duplicate": True}
            )
        outcome = self._deliver(record_id, request_id, request)
        self._notify(outcome)
        return outcome

    def balance(self) -> Balance:
        """The Octopush credit left (raises ``OctopushError``)."""
        return self.octopush.get_balance()

    def history(
        self, *, channel_id: str | None = None, limit: int = 10
    ) -> list[AuditRecord]:
        """The last ``limit`` attempts, newest first, optionally in one channel."""
        return self.store.recent(limit=limit, channel_id=channel_id)

    def _notify(self, outcome: SendOutcome) -> None:
        for observer in self.observers:
            try:
                observer(outcome)
            except Exception:
                # An observer (a Slack notice) must not turn a sent SMS into an error.
                logger.exception(
                    "outcome observer %r failed for #%s", observer, outcome.audit_id
                )

    def _deliver(
        self, record_id: int, request_id: str, request: SendRequest
    ) -> SendOutcome:
        campaign = SmsCampaign(
            text=request.text,
            recipients=[
                Recipient(phone_number=number) for number in request.recipients
            ],
            type=request.sms_type.value,
            purpose=request.purpose.value,
            sender=request.sender,
            send_at=request.send_at,
            with_replies=request.with_replies or None,
            simulation_mode=request.simulation or None,
            request_id=request_id,
        )
        started = time.monotonic()
        try:
            result = self.octopush.send_sms_campaign(campaign)
        except OctopushError as error:
            duration_ms = _elapsed_ms(started)
            message = error.message
            if error.maybe_sent:
                message += MAYBE_SENT_NOTE
            self.store.complete(
                record_id,
                AttemptResult(
                    status=AuditStatus.FAILED,
                    error_code=error.code,
                    error_message=message,
                    duration_ms=duration_ms,
                ),
            )
            logger.warning(
                "send #%s failed: [%s] %s (request %s, %s recipients: %s)",
                record_id,
                error.code,
                error.message,
                request_id,
                len(request.recipients),
                _masked(request.recipients),
            )
            return SendOutcome(
                audit_id=record_id,
                request_id=request_id,
                status=AuditStatus.FAILED,
                request=request,
                error_code=error.code,
                error_message=message,
                error_hint=error.hint,
                maybe_sent=error.maybe_sent,
                duration_ms=duration_ms,
            )
        except Exception as unexpected:
            self.store.complete(
                record_id,
                AttemptResult(
                    status=AuditStatus.FAILED,
                    error_message=f"internal error: {type(unexpected).__name__}",
                    duration_ms=_elapsed_ms(started),
                ),
            )
            raise
        completed = sent_result(result, duration_ms=_elapsed_ms(started))
        self.store.complete(record_id, completed)
        logger.info(
            "sent #%s ticket %s (request %s): %s SMS, cost %s, to %s",
            record_id,
            completed.sms_ticket,
            request_id,
            result.number_of_sms_needed,
            result.total_cost,
            _masked(request.recipients),
        )
        return SendOutcome(
            audit_id=record_id,
            request_id=request_id,
            status=AuditStatus.SENT,
            request=request,
            sms_ticket=completed.sms_ticket,
            number_of_contacts=completed.number_of_contacts,
            number_of_sms_needed=completed.number_of_sms_needed,
            total_cost=completed.total_cost,
            residual_credit=completed.residual_credit,
            duration_ms=completed.duration_ms,
        )

    def _record_rejection(
        self, draft: SendDraft, actor: Actor, request_id: str, refusal: BotError
    ) -> None:
        # Unvalidated on purpose: the record keeps what was typed, even invalid.
        as_typed = SendRequest.model_construct(
            recipients=tuple(draft.recipients),
            text=draft.text,
            sender=draft.sender,
            sms_type=draft.sms_type or self.defaults.sms_type,
            purpose=draft.purpose or self.defaults.purpose,
            send_at=draft.send_at,
            with_replies=draft.with_replies,
            simulation=draft.simulation or self.force_simulation,
        )
        # A refused attempt never reached Octopush: it gets its own key, so the same
        # interaction can still be sent once the person fixes the input.
        attempt = _attempt(
            as_typed, actor, f"{request_id}~rejected-{uuid.uuid4().hex[:8]}"
        )
        code = f"policy:{refusal.rule}" if isinstance(refusal, PolicyError) else "input"
        refusal.audit_id = self.store.reject(
            attempt, error_message=str(refusal), error_code=code
        )
        logger.warning("send refused (%s): %s", code, refusal)


def _attempt(request: SendRequest, actor: Actor, request_id: str) -> NewAttempt:
    return NewAttempt(
        source=actor.source,
        slack_team_id=actor.slack_team_id,
        slack_user_id=actor.slack_user_id,
        slack_channel_id=actor.slack_channel_id,
        recipients=request.recipients,
        text=request.text,
        sender=request.sender,
        sms_type=request.sms_type.value,
        purpose=request.purpose.value,
        send_at=request.send_at,
        simulation=request.simulation,
        request_id=request_id,
    )


def sent_result(
    result: SmsCampaignResult,
    *,
    duration_ms: int | None = None,
    note: str | None = None,
) -> AttemptResult:
    """The audit completion of a send Octopush accepted (batches: tickets comma-joined)."""
    ticket = ",".join(result.tickets) if len(result.tickets) > 1 else result.sms_ticket
    return AttemptResult(
        status=AuditStatus.SENT,
        sms_ticket=ticket,
        number_of_contacts=result.number_of_contacts,
        number_of_sms_needed=result.number_of_sms_needed,
        total_cost=result.total_cost,
        residual_credit=result.residual_credit,
        error_message=note,
        duration_ms=duration_ms,
    )


def outcome_from_record(record: AuditRecord) -> SendOutcome:
    """Rebuild an earlier attempt's outcome (a duplicate submit gets the first result)."""
    request = SendRequest(
        recipients=tuple(record.recipients) or ("?",),
        text=record.text or "",
        sender=record.sender,
        sms_type=SmsType(record.sms_type or SmsType.PREMIUM),
        purpose=Purpose(record.purpose or Purpose.ALERT),
        send_at=record.send_at,
        simulation=record.simulation,
    )
    failed = record.status is AuditStatus.FAILED
    maybe_sent = failed and (
        record.error_code in _MAYBE_SENT_CODES
        or MAYBE_SENT_NOTE in (record.error_message or "")
    )
    hint = hint_for(record.error_code) if failed else None
    if maybe_sent and hint is None:
        hint = "Octopush may have received it: check the Octopush dashboard before resending."
    return SendOutcome(
        audit_id=record.id,
        request_id=record.request_id,
        status=record.status,
        request=request,
        sms_ticket=record.sms_ticket,
        number_of_contacts=record.number_of_contacts,
        number_of_sms_needed=record.number_of_sms_needed,
        total_cost=record.total_cost,
        residual_credit=record.residual_credit,
        error_code=record.error_code,
        error_message=record.error_message,
        error_hint=hint,
        maybe_sent=maybe_sent,
        duration_ms=record.duration_ms,
    )


def _elapsed_ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _masked(numbers: Sequence[str]) -> str:
    return ", ".join(mask_number(number) for number in numbers[:5]) + (
        " …" if len(numbers) > 5 else ""
    )
