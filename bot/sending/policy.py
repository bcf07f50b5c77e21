"""The admin's rules (``SMS_*`` settings) as pure functions of a request, an actor and usage.

The guard (:mod:`bot.sending.guard`) gathers the usage from the audit store and Slack; these
functions only decide, and every refusal names the setting behind it and what to do. The
composition root (:mod:`bot.runtime.wiring`) builds the :class:`Policy` from the settings,
so nothing here reads them.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import phonenumbers

from bot.domain import Actor, RateLimit, SendRequest, Source
from bot.errors import PolicyError
from bot.log import mask_number


@dataclass(frozen=True)
class Policy:
    """The admin's limits, as plain values (built from ``SmsSettings`` by the wiring)."""

    allowed_users: frozenset[str] = frozenset()
    allowed_usergroups: frozenset[str] = frozenset()
    allowed_channels: frozenset[str] = frozenset()
    max_recipients: int = 50
    rate: RateLimit | None = None
    daily_budget: float | None = None
    blocked: tuple[str, ...] = ()
    #: Cap on the system's own escalation sends (``SMS_ESCALATION_LIMIT``).
    escalation_rate: RateLimit | None = None

    @property
    def restricts_people(self) -> bool:
        return bool(self.allowed_users or self.allowed_usergroups)


@dataclass(frozen=True)
class Usage:
    """What the actor and the workspace already used, from the audit store.

    Sends in flight count: ``sends_in_window`` includes ``pending`` attempts and
    ``spent_today`` their estimated cost.
    """

    sends_in_window: int = 0
    window_started: datetime | None = None
    spent_today: float = 0.0
    estimated_cost: float | None = None
    #: Escalation sends in the ``escalation_rate`` window (system sends only).
    escalations_in_window: int = 0


#: Sources no person stands behind: the CLI (an operator) and the system's escalations.
#: They are not subject to the who/where rules, nor to a person's rate limit.
UNLIMITED_ACTOR_SOURCES = frozenset({Source.CLI, Source.ESCALATION})


def normalise_blocked(entries: Sequence[str], region: str) -> tuple[str, ...]:
    """``SMS_BLOCKED_NUMBERS`` entries as E.164 numbers or ``+digits`` prefixes.

    A valid number (national form allowed) is blocked exactly; anything else is read
    as a prefix of digits, e.g. ``+3389`` blocks every French premium-rate 089 number.
    """
    normalised = []
    for entry in entries:
        try:
            parsed = phonenumbers.parse(entry, region)
            if phonenumbers.is_valid_number(parsed):
                normalised.append(
                    phonenumbers.format_number(
                        parsed, phonenumbers.PhoneNumberFormat.E164
                    )
                )
                continue
        except phonenumbers.NumberParseException:
            pass
        digits = "".join(char for char in entry if char.isdigit())
        if digits:
            normalised.append("+" + digits)
    return tuple(normalised)


def check_actor(
    policy: Policy, actor: Actor, *, usergroups: Collection[str] = ()
) -> None:
    """Who may send, and from where. The CLI (an operator on the server) and the
    system's escalations (the page was allowed when it started) are not limited."""
    if actor.source in UNLIMITED_ACTOR_SOURCES:
        return
    if (
        policy.allowed_channels
        and actor.slack_channel_id not in policy.allowed_channels
    ):
        raise PolicyError(
            "SMS_ALLOWED_CHANNELS",
            "Sending SMS is not allowed from this conversation. "
            "Ask an admin, or use one of the channels set in SMS_ALLOWED_CHANNELS.",
        )
    if policy.restricts_people:
        if actor.slack_user_id in policy.allowed_users:
            return
        if policy.allowed_usergroups.intersection(usergroups):
            return
        raise PolicyError(
            "SMS_ALLOWED_USERS",
            "You are not allowed to send SMS with this app. "
            "Ask an admin to add you to SMS_ALLOWED_USERS or to an allowed user group.",
        )


def check_request(
    policy: Policy,
    request: SendRequest,
    actor: Actor,
    usage: Usage,
    *,
    opted_out: Sequence[str] = (),
) -> None:
    """How many, to whom, how often and how much; raises the first rule broken."""
    check_recipients(policy, request, opted_out=opted_out)
    check_limits(policy, request, actor, usage)


def check_recipients(
    policy: Policy, request: SendRequest, *, opted_out: Sequence[str] = ()
) -> None:
    """How many and to whom: needs no count, so it runs before the send lock."""
    count = len(request.recipients)
    if count > policy.max_recipients:
        raise PolicyError(
            "SMS_MAX_RECIPIENTS",
            f"This send has {count} recipients; the limit is {policy.max_recipients} per send "
            "(SMS_MAX_RECIPIENTS). Split it, or ask an admin to raise the limit.",
        )
    blocked = [
        number for number in request.recipients if _is_blocked(number, policy.blocked)
    ]
    if blocked:
        raise PolicyError(
            "SMS_BLOCKED_NUMBERS",
            f"{_list(blocked)} may never be texted (SMS_BLOCKED_NUMBERS). "
            "Remove them and send again.",
        )
    if opted_out:
        raise PolicyError(
            "OPT_OUT",
            f"{_list(opted_out)} replied STOP and opted out of SMS from this account. "
            "Remove them; an admin can lift an opt-out with `sms-bot optout remove NUMBER`.",
        )


def check_limits(
    policy: Policy, request: SendRequest, actor: Actor, usage: Usage
) -> None:
    """How often and how much: run under the send lock, on counts read inside it."""
    rate = policy.rate
    if rate is not None and actor.slack_user_id and usage.sends_in_window >= rate.count:
        retry = ""
        if usage.window_started is not None:
            again = usage.window_started + timedelta(seconds=rate.period_seconds)
            retry = f" You can send again after {again:%H:%M} UTC."
        raise PolicyError(
            "SMS_RATE_LIMIT",
            f"You have reached the limit of {rate.text} sends (SMS_RATE_LIMIT).{retry}",
        )
    cap = policy.escalation_rate
    if (
        cap is not None
        and actor.source is Source.ESCALATION
        and usage.escalations_in_window >= cap.count
    ):
        raise PolicyError(
            "SMS_ESCALATION_LIMIT",
            f"The escalation cap of {cap.text} system sends is reached "
            "(SMS_ESCALATION_LIMIT); an admin can raise it.",
        )
    budget = policy.daily_budget
    if budget is not None:
        estimate = usage.estimated_cost or 0.0
        if usage.spent_today + estimate > budget:
            spent = f"{usage.spent_today:.2f} of {budget:g} credits spent today"
            more = f"; this send would cost about {estimate:.2f}" if estimate else ""
            raise PolicyError(
                "SMS_DAILY_BUDGET",
                f"The daily SMS budget is used up ({spent}{more}, SMS_DAILY_BUDGET). "
                "It resets at midnight UTC; an admin can raise it.",
            )


def _is_blocked(number: str, blocked: Sequence[str]) -> bool:
    return any(number == entry or number.startswith(entry) for entry in blocked)


def _list(numbers: Sequence[str]) -> str:
    shown = ", ".join(mask_number(number) for number in numbers[:5])
    return shown + (f" and {len(numbers) - 5} more" if len(numbers) > 5 else "")
