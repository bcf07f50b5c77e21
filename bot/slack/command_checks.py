"""What the ``/sms`` ack can judge with no lookup: pure checks that cost microseconds.

Malformed numbers, an empty or too long text, a channel or person outside the
allow-lists, too many plain numbers: each is answered in the ack itself. These reuse the
send path's own rules (:mod:`bot.sending.rules`, :mod:`bot.sending.policy`), so the ack
refuses only what the send path would refuse too; the send path still runs after the
ack to record the refused attempt in the audit trail.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

from bot.domain import Actor, SendRequest
from bot.errors import InputError, PolicyError
from bot.sending.phones import parse_phone
from bot.sending.policy import Policy, Usage, check_actor, check_request
from bot.sending.rules import SendDefaults, check_stop_mention, check_text
from bot.sending.rules import resolve_recipients as resolve_numbers
from bot.slack.grammar import mention_user_id, subteam_id


def precheck(
    recipients: Sequence[str],
    text: str,
    *,
    actor: Actor,
    policy: Policy,
    defaults: SendDefaults,
    is_name: Callable[[str], bool],
) -> InputError | PolicyError | None:
    """The first problem found without a lookup, or ``None`` (the lookups decide)."""
    problems: dict[str, str] = {}
    numbers: tuple[str, ...] = ()
    typed = [t for t in recipients if not _needs_lookup(t, is_name)]
    if typed:
        try:
            numbers = resolve_numbers(typed, region=defaults.region, resolve=_no_name)
        except InputError as error:
            problems.update(error.problems)
    try:
        check_text(text)
        check_stop_mention(text, defaults.purpose)
    except InputError as error:
        problems.update(error.problems)
    if problems:
        return InputError.from_problems(problems)
    try:
        check_actor(_without_lookups(policy, actor), actor)
        if numbers:
            request = SendRequest(
                recipients=numbers,
                text=text,
                sender=None,
                sms_type=defaults.sms_type,
                purpose=defaults.purpose,
            )
            check_request(policy, request, actor, Usage())
    except PolicyError as refusal:
        return refusal
    return None


def display_tokens(recipients: Sequence[str], region: str) -> list[str]:
    """Recipient tokens as a reply shows them: numbers in E.164 (then masked)."""
    shown = []
    for token in recipients:
        try:
            shown.append(parse_phone(token, region))
        except InputError:
            shown.append(token)
    return shown


def _needs_lookup(token: str, is_name: Callable[[str], bool]) -> bool:
    """Mentions, user groups and directory names resolve later; numbers are checked now."""
    return (
        mention_user_id(token) is not None
        or subteam_id(token) is not None
        or is_name(token)
    )


def _no_name(_token: str) -> None:
    """A resolver that knows no names, so an unknown word is named as such."""
    return None


def _without_lookups(policy: Policy, actor: Actor) -> Policy:
    """The allow-lists the ack can apply: user groups need Slack, so they wait."""
    if policy.allowed_usergroups and actor.slack_user_id not in policy.allowed_users:
        return dataclasses.replace(
            policy, allowed_users=frozenset(), allowed_usergroups=frozenset()
        )
    return policy
