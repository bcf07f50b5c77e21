"""The admin's rules (``SMS_*`` settings) as pure functions of a request, an actor and usage.

The guard (:mod:`bot.sending.guard`) gathers the usage from the audit store and Slack; these
functions only decide. Every refusal says the rule in plain words and what to do: a sender in
Slack never reads a setting name. The setting stays on the error (``PolicyError.rule``) for
the audit trail, the logs and the CLI, which operators read; :func:`rule_label` is its name
for everyone else. The composition root (:mod:`bot.runtime.wiring`) builds the
:class:`Policy` from the settings, so nothing here reads them.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import phonenumbers

from bot.domain import Actor, RateLimit, SendRequest, Source
from bot.errors import PolicyError
from bot.i18n import N_, N_plural, Number
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
            N_(
                "Sending SMS is not allowed from this conversation. "
                "Ask an admin, or send from a channel where SMS are allowed."
            ),
        )
    if policy.restricts_people:
        if actor.slack_user_id in policy.allowed_users:
            return
        if policy.allowed_usergroups.intersection(usergroups):
            return
        raise PolicyError(
            "SMS_ALLOWED_USERS",
            N_(
                "You are not allowed to send SMS with this app. Ask an admin to add "
                "you to the people or user groups allowed to send."
            ),
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
            N_plural(
                "This send has %(n)s recipient; the limit is %(limit)s per send. "
                "Split it, or ask an admin to raise the limit.",
                "This send has %(n)s recipients; the limit is %(limit)s per send. "
                "Split it, or ask an admin to raise the limit.",
                count,
                limit=Number(policy.max_recipients),
            ),
        )
    blocked = [
        number for number in request.recipients if _is_blocked(number, policy.blocked)
    ]
    if blocked:
        raise PolicyError(
            "SMS_BLOCKED_NUMBERS",
            # The count picks the verb's form in languages that need it (French).
            N_plural(
                "%(numbers)s may never be texted: an admin blocked them. "
                "Remove them and send again.",
                "%(numbers)s may never be texted: an admin blocked them. "
                "Remove them and send again.",
                len(blocked),
                numbers=_list(blocked),
            ),
        )
    check_opted_out(opted_out)


def check_opted_out(opted_out: Sequence[str]) -> None:
    """To whom not: numbers that replied STOP (read under the send lock by the send)."""
    if opted_out:
        raise PolicyError(
            "OPT_OUT",
            N_plural(
                "%(numbers)s replied STOP and opted out of SMS from this account. "
                "Remove them; an admin can lift an opt-out with "
                "`sms-bot optout remove NUMBER`.",
                "%(numbers)s replied STOP and opted out of SMS from this account. "
                "Remove them; an admin can lift an opt-out with "
                "`sms-bot optout remove NUMBER`.",
                len(opted_out),
                numbers=_list(opted_out),
            ),
        )


def check_limits(
    policy: Policy, request: SendRequest, actor: Actor, usage: Usage
) -> None:
    """How often and how much: run under the send lock, on counts read inside it."""
    rate = policy.rate
    if rate is not None and actor.slack_user_id and usage.sends_in_window >= rate.count:
        raise PolicyError("SMS_RATE_LIMIT", _rate_limited(rate, usage.window_started))
    cap = policy.escalation_rate
    if (
        cap is not None
        and actor.source is Source.ESCALATION
        and usage.escalations_in_window >= cap.count
    ):
        raise PolicyError(
            "SMS_ESCALATION_LIMIT",
            N_(
                "The escalation cap of %(rate)s system sends is reached; "
                "an admin can raise it.",
                rate=_rate_text(cap),
            ),
        )
    budget = policy.daily_budget
    if budget is not None:
        estimate = usage.estimated_cost or 0.0
        if usage.spent_today + estimate > budget:
            raise PolicyError(
                "SMS_DAILY_BUDGET", _over_budget(usage.spent_today, budget, estimate)
            )


#: The units of ``SMS_RATE_LIMIT`` and ``SMS_ESCALATION_LIMIT``, in the reader's words.
_PERIOD_WORDS = {60: N_("minute"), 3600: N_("hour"), 86400: N_("day")}


def _rate_text(rate: RateLimit) -> str:
    """``30/hour`` as the admin wrote it in English; ``30/heure`` for a French reader."""
    period = _PERIOD_WORDS.get(rate.period_seconds)
    if period is None:
        return rate.text
    return N_("%(count)s/%(period)s", count=Number(rate.count), period=period)


def _rate_limited(rate: RateLimit, window_started: datetime | None) -> str:
    """The rate-limit refusal; when the window start is known, when to try again."""
    if window_started is None:
        return N_(
            "You have reached the limit of %(rate)s sends.",
            rate=_rate_text(rate),
        )
    again = window_started + timedelta(seconds=rate.period_seconds)
    return N_(
        "You have reached the limit of %(rate)s sends. "
        "You can send again after %(time)s UTC.",
        rate=_rate_text(rate),
        time=again.strftime("%H:%M"),
    )


def _over_budget(spent: float, budget: float, estimate: float) -> str:
    """The daily-budget refusal: what was spent and, when known, what this would cost."""
    amounts = {"spent": Number(spent, places=2), "budget": Number(budget)}
    if not estimate:
        return N_(
            "The daily SMS budget is used up (%(spent)s of %(budget)s credits spent "
            "today). It resets at midnight UTC; an admin can raise it.",
            **amounts,
        )
    return N_(
        "The daily SMS budget is used up (%(spent)s of %(budget)s credits spent "
        "today; this send would cost about %(estimate)s). "
        "It resets at midnight UTC; an admin can raise it.",
        estimate=Number(estimate, places=2),
        **amounts,
    )


#: Each rule in the sender's words, for a refusal shown in Slack (the setting is not).
_RULE_LABELS = {
    "SMS_ALLOWED_CHANNELS": N_("Where SMS may be sent from"),
    "SMS_ALLOWED_USERS": N_("Who may send SMS"),
    "SMS_ALLOWED_USERGROUPS": N_("Who may send SMS"),
    "SMS_MAX_RECIPIENTS": N_("Recipients per send"),
    "SMS_BLOCKED_NUMBERS": N_("Blocked numbers"),
    "OPT_OUT": N_("Opted out"),
    "SMS_RATE_LIMIT": N_("Sends per person"),
    "SMS_ESCALATION_LIMIT": N_("Escalation cap"),
    "SMS_DAILY_BUDGET": N_("Daily budget"),
}


def rule_label(rule: str) -> str:
    """The rule behind a refusal as a sender reads it (untranslated: ``N_``-marked).

    Slack surfaces show this instead of ``PolicyError.rule``, a setting name only an
    admin knows; the CLI and the audit trail keep the setting.
    """
    return _RULE_LABELS.get(rule, N_("A rule set by your admins"))


def _is_blocked(number: str, blocked: Sequence[str]) -> bool:
    return any(number == entry or number.startswith(entry) for entry in blocked)


def _list(numbers: Sequence[str]) -> str:
    """The first five numbers, masked; the rest counted ("and 3 more")."""
    shown = ", ".join(mask_number(number) for number in numbers[:5])
    if len(numbers) <= 5:
        return shown
    return N_plural(
        "%(head)s and %(n)s more",
        "%(head)s and %(n)s more",
        len(numbers) - 5,
        head=shown,
    )
