"""The admin's policy as the service runs it: before anything is written, and under the lock.

The pure rules live in :mod:`bot.sending.policy`; the guard gathers what they need (Slack
user-group membership, opt-outs, counts from the audit store) and runs them in two steps:

* ``guard(request, actor)`` — who, where, how many and to whom. It may call Slack, so it
  runs before the send lock is taken; nothing is counted. The send itself runs
  ``guard.check_before_lock``, the same minus the opt-outs, which it reads in the next
  step's transaction (one transaction less per send).
* ``guard.check_limits(conn, request, actor)`` — the opt-outs, then the rate
  (``SMS_RATE_LIMIT``, per Slack user) and the daily budget (``SMS_DAILY_BUDGET``, the
  whole deployment), counted in the service's check-and-insert transaction, which
  holds the locks named by ``guard.lock_keys(request, actor)`` (``rate:<team>:<user>``,
  ``budget``). Pending attempts count toward the rate, and toward the budget at their
  estimated cost, so a burst cannot pass a limit on one instance or several.

A caller that needs other limits for some sends (escalations with their own cap) adds a
rule to ``check_limits`` and a key to ``lock_keys``: both see the request and the actor.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Connection

from bot.audit import AuditRecord, AuditStore, OptOutList
from bot.audit.ledger import SendLedger
from bot.audit.optouts import among_in
from bot.audit.pages import escalations_since
from bot.config import Settings
from bot.domain import Actor, SendRequest, Source
from bot.sending.policy import (
    Policy,
    Usage,
    check_actor,
    check_limits,
    check_opted_out,
    check_recipients,
    normalise_blocked,
)
from bot.sending.segments import analyse

#: ``usergroups_of(user_id, candidates)``: which of ``candidates`` the user belongs to.
UsergroupLookup = Callable[[str, Collection[str]], Collection[str]]


def policy_from(settings: Settings) -> Policy:
    """The admin's ``SMS_*`` limits as the plain values the pure rules work with."""
    sms = settings.sms
    return Policy(
        allowed_users=frozenset(sms.allowed_users),
        allowed_usergroups=frozenset(sms.allowed_usergroups),
        allowed_channels=frozenset(sms.allowed_channels),
        max_recipients=sms.max_recipients,
        rate=sms.rate,
        daily_budget=sms.daily_budget,
        blocked=normalise_blocked(sms.blocked_numbers, sms.default_region),
        escalation_rate=sms.escalation_rate,
    )


class Guard:
    """Raises ``PolicyError`` on a refusal; see the module docstring for the two steps."""

    def __init__(
        self,
        *,
        policy: Policy,
        store: AuditStore,
        usergroups_of: UsergroupLookup | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.policy = policy
        self._ledger = SendLedger(store)
        self._optouts = OptOutList(store)
        self._usergroups_of = usergroups_of
        self._clock = clock

    def check_actor(self, actor: Actor) -> None:
        """Who and where only: cheap enough to run before anything else."""
        groups: Collection[str] = ()
        if (
            self.policy.allowed_usergroups
            and actor.slack_user_id
            and self._usergroups_of
        ):
            if actor.slack_user_id not in self.policy.allowed_users:
                groups = self._usergroups_of(
                    actor.slack_user_id, self.policy.allowed_usergroups
                )
        check_actor(self.policy, actor, usergroups=groups)

    def __call__(self, request: SendRequest, actor: Actor) -> None:
        """Every rule that needs no count (the form's check before it asks to confirm)."""
        self.check_before_lock(request, actor)
        check_opted_out(self._optouts.among(request.recipients))

    def check_before_lock(self, request: SendRequest, actor: Actor) -> None:
        """Who, where, how many and which numbers: all but the opt-outs, which
        :meth:`check_limits` reads inside the send's transaction."""
        self.check_actor(actor)
        check_recipients(self.policy, request)

    def lock_keys(self, request: SendRequest, actor: Actor) -> tuple[str, ...]:
        """The locks :meth:`check_limits` needs held while it counts and the send is recorded."""
        keys = []
        if self.policy.rate is not None and actor.slack_user_id:
            keys.append(f"rate:{actor.slack_team_id or ''}:{actor.slack_user_id}")
        if self.policy.daily_budget is not None and not request.simulation:
            keys.append("budget")
        if (
            self.policy.escalation_rate is not None
            and actor.source is Source.ESCALATION
        ):
            keys.append("escalations")
        return tuple(keys)

    def check_limits(
        self, conn: Connection, request: SendRequest, actor: Actor
    ) -> None:
        """The opt-outs, the rate and the budget, read inside ``conn`` (the send lock's
        transaction)."""
        check_opted_out(among_in(conn, request.recipients))
        check_limits(self.policy, request, actor, self._usage(conn, request, actor))

    def _usage(self, conn: Connection, request: SendRequest, actor: Actor) -> Usage:
        now = self._clock()
        count, oldest = 0, None
        rate = self.policy.rate
        if rate is not None and actor.slack_user_id:
            since = now - timedelta(seconds=rate.period_seconds)
            count, oldest = self._ledger.send_window(
                conn, user_id=actor.slack_user_id, since=since
            )
        spent, estimate = 0.0, None
        if self.policy.daily_budget is not None and not request.simulation:
            midnight = now.astimezone(UTC).replace(
                hour=0, minute=0, second=0, microsecond=0
            )
            spent, in_flight = self._ledger.spending(conn, midnight)
            unit = self._unit_price(conn)
            if unit is not None:
                estimate = _estimate(unit, request.text, len(request.recipients))
                spent += sum(_estimate(unit, text, n) for text, n in in_flight)
        escalations = 0
        cap = self.policy.escalation_rate
        if cap is not None and actor.source is Source.ESCALATION:
            since = now - timedelta(seconds=cap.period_seconds)
            escalations = escalations_since(conn, since)
        return Usage(
            escalations_in_window=escalations,
            sends_in_window=count,
            window_started=oldest,
            spent_today=spent,
            estimated_cost=estimate,
        )

    def _unit_price(self, conn: Connection) -> float | None:
        """The price of one SMS at the last real send, to estimate the next one."""
        for record in self._ledger.last_priced(conn, limit=1):
            return _unit_of(record)
        return None


def _unit_of(record: AuditRecord) -> float:
    contacts = record.number_of_contacts or len(record.recipients) or 1
    parts = record.number_of_sms_needed or 1
    return (record.total_cost or 0.0) / (contacts * parts)


def _estimate(unit: float, text: str | None, recipients: int) -> float:
    """``unit`` × segments × recipients; a redacted text counts as one segment."""
    parts = analyse(text).parts if text else 1
    return unit * parts * recipients
