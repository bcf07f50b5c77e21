"""The one send path: rules, audit record, Octopush call, audit completion, in order.

Slack handlers, the pager, crash recovery and the CLI all go through :class:`SmsService`,
so every attempt, whatever its source, gets an audit record written before Octopush is
called and completed after. The limits are checked and the ``pending`` record inserted
in one locked transaction (:mod:`bot.sending.guard`), and nothing after the Octopush
call raises: a failure there becomes one of the outcome's ``problems``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

from pydantic import ValidationError
from sqlalchemy.engine import Connection

from bot.audit import (
    AttemptResult,
    AuditRecord,
    AuditStore,
    DuplicateAttemptError,
)
from bot.audit.deliveries import Delivery, DeliveryLog
from bot.audit.ledger import SendLedger
from bot.domain import (
    Actor,
    AuditStatus,
    SendDraft,
    SendOutcome,
    SendRequest,
    Source,
)
from bot.errors import AuditStoreError, BotError, InputError, PolicyError
from bot.i18n import N_
from bot.log import scrub_numbers
from bot.octopush import Balance, OctopushClient, OctopushError
from bot.sending.attempts import (
    REQUEST_ID_MAX,
    as_typed,
    new_attempt,
    new_request_id,
    rejected_request_id,
    retry_request_id,
)
from bot.sending.completion import RETRY_DELAYS, Completer
from bot.sending.delivery import Delivered, campaign_for, deliver, resend_result
from bot.sending.lease import LeaseKeeper
from bot.sending.outcomes import (
    MAYBE_SENT_CODES,
    build_outcome,
    request_from_record,
    went_nowhere,
)
from bot.sending.outcomes import outcome_from_record as outcome_from_record
from bot.sending.rules import Resolver, SendDefaults, validate_draft

logger = logging.getLogger(__name__)

#: A policy check run on a valid request before anything is written as pending.
PolicyCheck = Callable[[SendRequest, Actor], None]
#: Called with every outcome that reached Octopush (e.g. the low-credit watch).
OutcomeObserver = Callable[[SendOutcome], None]


@runtime_checkable
class Limits(Protocol):
    """A policy with counted limits (the :class:`~bot.sending.guard.Guard`)."""

    def lock_keys(self, request: SendRequest, actor: Actor) -> tuple[str, ...]: ...

    def check_limits(
        self, conn: Connection, request: SendRequest, actor: Actor
    ) -> None: ...


@runtime_checkable
class BeforeLock(Protocol):
    """A policy that leaves part of its check to :meth:`Limits.check_limits`."""

    def check_before_lock(self, request: SendRequest, actor: Actor) -> None: ...


def utc_now() -> datetime:
    return datetime.now(UTC)


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
        lease: timedelta | None = None,
        completion_delays: Sequence[float] = RETRY_DELAYS,
    ) -> None:
        self.octopush = octopush
        self.store = store
        self.defaults = defaults
        self.force_simulation = force_simulation
        self._policy = policy
        #: A policy with counted limits, checked in the admission; found once here
        #: (``isinstance`` of a runtime-checkable protocol costs ~5 us per send).
        self._limits = policy if isinstance(policy, Limits) else None
        #: A policy whose last checks run in the admission transaction (the guard).
        self._split_policy = (
            policy
            if isinstance(policy, Limits) and isinstance(policy, BeforeLock)
            else None
        )
        self._ledger = SendLedger(store)
        #: Leases on the attempts this process works on (the sweep leaves them alone).
        self.leases = LeaseKeeper(self._ledger, lease=lease)
        self._completer = Completer(store, self.leases, delays=completion_delays)
        self.observers = list(observers)
        self.refusal_observers: list[Callable[[Source], None]] = []  # metrics
        #: Told the audit id and the receipts stored so far once its Slack post is
        #: remembered (receipts that beat the post update it then).
        self.post_observers: list[Callable[[int, Sequence[Delivery]], None]] = []
        self._deliveries = DeliveryLog(store)
        self._clock = clock

    def check_policy(self, request: SendRequest, actor: Actor) -> None:
        """Run the admin's rules that need no count; raises ``PolicyError``; writes nothing."""
        if self._policy is not None:
            self._policy(request, actor)

    def _check_before_lock(self, request: SendRequest, actor: Actor) -> None:
        """The policy's rules before the send lock; a policy with counted limits reads
        the rest (the opt-outs) in the admission transaction (:meth:`_admit`)."""
        if self._split_policy is not None:
            self._split_policy.check_before_lock(request, actor)
        else:
            self.check_policy(request, actor)

    def check_actor(self, actor: Actor) -> None:
        """Who and where only (raises ``PolicyError``): may ``actor`` send at all?"""
        check = getattr(self._policy, "check_actor", None)
        if check is not None:
            check(actor)

    def validate(
        self, draft: SendDraft, *, resolve: Resolver | None = None
    ) -> SendRequest:
        """Run every message rule; raise ``InputError`` listing each problem; write nothing."""
        if draft.request_id is not None and len(draft.request_id) > REQUEST_ID_MAX:
            raise InputError(
                "request_id",
                N_(
                    "is %(length)s characters long; at most %(limit)s",
                    length=len(draft.request_id),
                    limit=REQUEST_ID_MAX,
                ),
            )
        request = validate_draft(
            draft, defaults=self.defaults, now=self._clock(), resolve=resolve
        )
        if self.force_simulation and not request.simulation:
            request = request.model_copy(update={"simulation": True})
        return request

    def send(
        self,
        draft: SendDraft,
        actor: Actor,
        *,
        resolve: Resolver | None = None,
        retry_failed: bool = False,
    ) -> SendOutcome:
        """Validate, record, send and record again; return how the attempt ended.

        Raises ``InputError`` or ``PolicyError`` (after recording a ``rejected``
        attempt, whose id is in ``error.audit_id``). Nothing raises once Octopush is
        called: failures come back as an outcome (``failed`` with the Octopush code,
        message and hint; or ``problems`` naming what failed after the send).
        A ``request_id`` already in the audit trail returns that attempt's outcome
        instead of sending again; with ``retry_failed`` (``sms-bot send --request-id``,
        "safe to retry") an attempt that definitely did not go out is tried again, as
        a new attempt under a derived ``request_id`` (``key#2``).
        """
        request_id = draft.request_id or new_request_id()
        try:
            request = self.validate(draft, resolve=resolve)
            self._check_before_lock(request, actor)
            record_id, attempt_id = self._admit(
                request, actor, request_id, retry_failed=retry_failed
            )
        except (InputError, PolicyError) as refusal:
            self._record_rejection(draft, actor, request_id, refusal)
            for observe in self.refusal_observers:
                observe(actor.source)
            raise
        except DuplicateAttemptError as duplicate:
            logger.info(
                "request %s already recorded as #%s; not sending again",
                request_id,
                duplicate.existing.id,
            )
            return outcome_from_record(duplicate.existing, duplicate=True)
        return self._deliver(record_id, attempt_id, request, actor.source)

    def record_refusal(
        self, draft: SendDraft, actor: Actor, refusal: InputError | PolicyError
    ) -> None:
        """Record an attempt its caller refused before :meth:`send` could run (a
        Workflow Builder step whose recipients cannot be read): every attempt has a
        record. Sets ``refusal.audit_id``."""
        request_id = draft.request_id or new_request_id()
        self._record_rejection(draft, actor, request_id, refusal)
        for observe in self.refusal_observers:
            observe(actor.source)

    def resend(self, record: AuditRecord) -> AttemptResult:
        """Send a ``pending`` record again under its own ``request_id``, and settle it.

        Octopush refuses a repeat of an attempt that got through (code 120), so this
        never texts twice within its 24-hour window. Raises ``ValidationError`` or
        ``ValueError`` when the record cannot be rebuilt (nothing is sent), and
        ``AuditStoreError`` when another instance settled it first, or when the
        answer could not be written yet (this process keeps trying, and holds the
        lease meanwhile; a refusal is noted on the record first, never resent).
        """
        campaign = campaign_for(
            request_from_record(record),
            record.request_id,
            language=self.defaults.language,
        )
        with self.leases.holding(record.id):
            delivered = deliver(self.octopush, campaign, audit_id=record.id)
            result = resend_result(delivered)
            refused = result.status is AuditStatus.FAILED and not (
                delivered.maybe_sent or result.error_code in MAYBE_SENT_CODES
            )
            problem = self._completer.complete(
                record.id, result, refused=refused, request_id=record.request_id
            )
        if problem is not None:  # held (and leased) here until it is written
            raise AuditStoreError(str(problem))
        return result

    def retry_completions(self) -> None:
        """Try now to write the answers held since their write failed (the background
        does it every few seconds; tests and a shutdown need not wait for it)."""
        self._completer.retry_now()

    def holds(self, audit_id: int) -> bool:
        """Whether this process is sending ``audit_id`` or holds its unwritten answer."""
        return self.leases.holds(audit_id) or self._completer.holds(audit_id)

    def remember_post(self, audit_id: int, *, channel: str, ts: str) -> None:
        """Remember the Slack post that shows attempt ``audit_id`` (receipts update it).

        Then the post observers run with the receipts read in the same transaction:
        a receipt stored before this (it found no post to update) is shown now, by
        whoever remembers the post, even after a restart.
        """
        receipts = self._deliveries.remember_post(audit_id, channel=channel, ts=ts)
        for observe in self.post_observers:
            try:
                observe(audit_id, receipts)
            except Exception:
                logger.exception("post observer %r failed for #%s", observe, audit_id)

    def balance(self) -> Balance:
        """The Octopush credit left (raises ``OctopushError``)."""
        return self.octopush.get_balance()

    def voice_balance(self) -> Balance | None:
        """The voice credit for calls to ``SMS_DEFAULT_REGION``; None when it cannot be
        read (voice not enabled on the account, or Octopush unreachable)."""
        try:
            return self.octopush.get_voice_balance(self.defaults.region)
        except OctopushError as error:
            logger.info("voice credit not read: %s", error)
            return None

    def history(
        self, *, channel_id: str | None = None, limit: int = 10
    ) -> list[AuditRecord]:
        """The last ``limit`` attempts, newest first, optionally in one channel."""
        return self.store.recent(limit=limit, channel_id=channel_id)

    def _admit(
        self, request: SendRequest, actor: Actor, key: str, *, retry_failed: bool
    ) -> tuple[int, str]:
        """Check the counted limits and insert the ``pending`` record, atomically.

        Returns the record's id and its Octopush ``request_id``: ``key`` itself, or
        ``key#n`` for the n-th try of a key whose last attempt went nowhere.
        """
        limits = self._limits
        keys = [f"request:{key}"]
        if limits is not None:
            keys += limits.lock_keys(request, actor)
        with self._ledger.locked(keys) as conn:
            latest, tried = self._ledger.latest(conn, key)
            if latest is not None and not (retry_failed and went_nowhere(latest)):
                raise DuplicateAttemptError(latest)
            if limits is not None:
                limits.check_limits(conn, request, actor)
            if latest is None:
                attempt = new_attempt(request, actor, key)
            else:
                retry_id = retry_request_id(key, tried + 1)
                attempt = new_attempt(request, actor, retry_id, request_key=key)
            record_id = self._ledger.begin(
                conn,
                attempt,
                owner=self.leases.owner,
                lease_until=self.leases.until(),
                checked=latest is None,  # ``key`` was just looked up, under its lock
            )
            return record_id, attempt.request_id

    def _deliver(
        self, record_id: int, request_id: str, request: SendRequest, source: Source
    ) -> SendOutcome:
        with self.leases.holding(record_id):  # renewed until the answer is written
            delivered = self._call(record_id, request_id, request)
            refused = (
                delivered.result.status is AuditStatus.FAILED
                and not delivered.maybe_sent
            )
            problem = self._completer.complete(
                record_id, delivered.result, refused=refused, request_id=request_id
            )
        outcome = build_outcome(
            audit_id=record_id,
            request_id=request_id,
            request=request,
            result=delivered.result,
            hint=delivered.hint,
            maybe_sent=delivered.maybe_sent,
            # Shown with the result: deferred, in the reader's language.
            problems=(problem,) if problem is not None else (),
            source=source,
        )
        self._notify(outcome)
        return outcome

    def _call(self, record_id: int, request_id: str, request: SendRequest) -> Delivered:
        try:
            campaign = campaign_for(
                request, request_id, language=self.defaults.language
            )
        except ValidationError as error:  # nothing was sent: say so, and record it
            logger.exception("send #%s could not be built", record_id)
            return Delivered(
                AttemptResult(
                    status=AuditStatus.FAILED,
                    error_message=f"internal error: the request could not be built "
                    f"({error.error_count()} problems); nothing was sent",
                )
            )
        return deliver(self.octopush, campaign, audit_id=record_id)

    def _notify(self, outcome: SendOutcome) -> None:
        for observer in self.observers:
            try:
                observer(outcome)
            except Exception:
                # An observer (a Slack notice) must not turn a sent SMS into an error.
                logger.exception(
                    "outcome observer %r failed for #%s", observer, outcome.audit_id
                )

    def _record_rejection(
        self, draft: SendDraft, actor: Actor, request_id: str, refusal: BotError
    ) -> None:
        # Unvalidated on purpose: the record keeps what was typed, even invalid.
        typed = as_typed(draft, self.defaults, force_simulation=self.force_simulation)
        attempt = new_attempt(typed, actor, rejected_request_id(request_id))
        code = f"policy:{refusal.rule}" if isinstance(refusal, PolicyError) else "input"
        refusal.audit_id = self.store.reject(
            attempt, error_message=str(refusal), error_code=code
        )
        logger.warning("send refused (%s): %s", code, scrub_numbers(str(refusal)))
