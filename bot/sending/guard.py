"""The policy check the service runs before it records a send as pending.

It gathers what the pure rules in :mod:`bot.sending.policy` need: the actor's recent sends and
the day's spending from the audit store, opt-outs, and Slack user-group membership.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import UTC, datetime, timedelta

from bot.audit import AuditStore, OptOutList
from bot.audit.pages import PageStore
from bot.config import Settings
from bot.domain import Actor, AuditStatus, SendRequest, Source
from bot.sending.policy import (
    Policy,
    Usage,
    check_actor,
    check_request,
    normalise_blocked,
)
from bot.sending.segments import analyse

#: ``usergroups_of(user_id, candidates)``: which of ``candidates`` the user belongs to.
UsergroupLookup = Callable[[str, Collection[str]], Collection[str]]


def policy_from(settings: Settings) -> Policy:
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
    """Callable ``(request, actor) -> None`` that raises ``PolicyError`` on a refusal."""

    def __init__(
        self,
        *,
        policy: Policy,
        store: AuditStore,
        usergroups_of: UsergroupLookup | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.policy = policy
        self._store = store
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
        self.check_actor(actor)
        check_request(
            self.policy,
            request,
            actor,
            self._usage(request, actor),
            opted_out=self._optouts.among(request.recipients),
        )

    def _usage(self, request: SendRequest, actor: Actor) -> Usage:
        now = self._clock()
        count, oldest = 0, None
        rate = self.policy.rate
        if rate is not None and actor.slack_user_id:
            since = now - timedelta(seconds=rate.period_seconds)
            count, oldest = self._store.send_window(
                user_id=actor.slack_user_id, since=since
            )
        spent, estimate = 0.0, None
        if self.policy.daily_budget is not None and not request.simulation:
            midnight = now.astimezone(UTC).replace(
                hour=0, minute=0, second=0, microsecond=0
            )
            spent = self._store.spent_since(midnight)
            unit = self._unit_price()
            if unit is not None:
                estimate = unit * analyse(request.text).parts * len(request.recipients)
        escalations = 0
        cap = self.policy.escalation_rate
        if cap is not None and actor.source is Source.ESCALATION:
            since = now - timedelta(seconds=cap.period_seconds)
            escalations = PageStore(self._store).escalations_since(since)
        return Usage(
            escalations_in_window=escalations,
            sends_in_window=count,
            window_started=oldest,
            spent_today=spent,
            estimated_cost=estimate,
        )

    def _unit_price(self) -> float | None:
        """The price of one SMS at the last real send, to estimate the next one."""
        for record in self._store.recent(limit=20):
            if (
                record.status is not AuditStatus.SENT
                or record.simulation
                or not record.total_cost
            ):
                continue
            contacts = record.number_of_contacts or len(record.recipients) or 1
            parts = record.number_of_sms_needed or 1
            return record.total_cost / (contacts * parts)
        return None
