"""What an ack can judge with no lookup: pure checks that cost microseconds.

Malformed numbers, an empty or too long text, a bad sender or send time, a channel or
person outside the allow-lists, too many plain numbers: each is answered in the ack
itself (of ``/sms``, or of the form's submission). These reuse the
send path's own rules (:mod:`bot.sending.rules`, :mod:`bot.sending.policy`), so the ack
refuses only what the send path would refuse too; the send path still runs after the
ack to record the refused attempt in the audit trail.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from bot.domain import Actor, SendDraft, SendRequest
from bot.errors import InputError, PolicyError
from bot.phones import parse_phone
from bot.sending.policy import Policy, Usage, check_actor, check_request
from bot.sending.rules import SendDefaults, validate_draft
from bot.slack.grammar import mention_user_id, subteam_id


def precheck(
    draft: SendDraft,
    *,
    actor: Actor,
    policy: Policy,
    defaults: SendDefaults,
    is_name: Callable[[str], bool],
    now: datetime | None = None,
) -> InputError | PolicyError | None:
    """The problems found without a lookup, or ``None`` (the lookups decide).

    The draft goes through the send path's own :func:`validate_draft`, with the tokens
    that need a lookup (mentions, user groups, directory names) left out; then the
    allow-lists and the limits that need no store run on the plain numbers.
    """
    typed = tuple(t for t in draft.recipients if not _needs_lookup(t, is_name))
    request: SendRequest | None = None
    try:
        request = validate_draft(
            draft.model_copy(update={"recipients": typed}),
            defaults=defaults,
            now=now or datetime.now(UTC),
            resolve=_no_name,
        )
    except InputError as error:
        problems = dict(error.problems)
        if not typed:
            problems.pop("recipients", None)  # only people to look up: they decide
        if problems:
            return InputError.from_problems(problems)
    try:
        check_actor(_without_lookups(policy, actor), actor)
        if request is not None:
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
