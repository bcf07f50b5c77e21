"""Who each number of a send is, for its post: ``Bob Durand (+33 6 •• •• •• 78)``.

Only recipients the sender named get a name: a directory name (a person, or the people
of a group or rotation) or a Slack mention (the member's Slack name). A number typed as
a number stays a masked number. The names are stored with the audit record
(:mod:`bot.sending.recipient_names`), so the post rebuilt for each delivery receipt
still shows them. The lookups are the send's own, cached: at most a mentioned member's
Slack name is read once more when the directory gave their number.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime

from bot.directory.model import Directory
from bot.domain import SendOutcome
from bot.errors import InputError
from bot.phones import parse_phone
from bot.sending.recipient_names import RecipientNames
from bot.slack.deps import SlackDeps
from bot.slack.grammar import mention_user_id

logger = logging.getLogger(__name__)


def remember_names(
    deps: SlackDeps, tokens: Sequence[str], outcome: SendOutcome
) -> dict[str, str]:
    """The names of ``outcome``'s numbers that ``tokens`` named, stored for its post.

    Never raises: the SMS went out already, and a post without names is still true.
    """
    try:
        names = _names(deps, tokens, set(outcome.request.recipients))
        if names:
            RecipientNames(deps.service.store).remember(outcome.audit_id, names)
        return names
    except Exception:
        logger.exception("naming the recipients of #%s failed", outcome.audit_id)
        return {}


def _names(deps: SlackDeps, tokens: Sequence[str], sent: set[str]) -> dict[str, str]:
    directory = deps.directory.current()
    now = datetime.now(UTC)
    names: dict[str, str] = {}
    for token in tokens:
        for number, name in _named(deps, directory, token, now).items():
            if number in sent:
                names.setdefault(number, name)
    return names


def _named(
    deps: SlackDeps, directory: Directory, token: str, now: datetime
) -> dict[str, str]:
    """``number -> name`` for one recipient token; empty for a typed number."""
    if directory.is_name(token):
        people = directory.members_for(token, at=now)
        return {directory.people[name].phone: name for name in people}
    user_id = mention_user_id(token)
    if user_id is None:
        return {}
    numbers = [
        _e164(n, deps.settings.sms.default_region) for n in deps.resolve(token) or ()
    ]
    try:
        profile = deps.phones.profile_of(user_id)
        name = profile.real_name or profile.name  # "Bob Durand", as the post shows it
    except InputError:
        person = directory.person_by_slack_id(user_id)
        name = person.name if person is not None else ""
    return dict.fromkeys(numbers, name) if name and name != user_id else {}


def _e164(number: str, region: str) -> str:
    """A profile phone as the send used it (``+33 6 12…`` -> ``+336…``); else as is."""
    try:
        return parse_phone(number, region)
    except InputError:
        return number
