"""Every kind of recipient token the Slack app accepts, resolved to phone numbers.

Directory names (people, groups, the on-call member of a rotation), Slack mentions
(the directory's number for that person, else their profile phone) and Slack user
groups (each member's phone). Plain numbers are left to the message rules.

A group (a Slack user group or a directory group) reaches the members who can receive
it: a member who replied STOP, has no phone, or has a profile phone that cannot be read
for sure is skipped, and named to the sender with the reason (:meth:`unreachable`).
A person named on their own, or a number typed, that opted out is still refused whole
by the guard: the sender meant exactly them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from slack_sdk.errors import SlackApiError

from bot.directory.model import Directory
from bot.directory.source import DirectorySource
from bot.errors import InputError
from bot.i18n import N_, joined
from bot.slack.api import slack_error_code
from bot.slack.grammar import mention_user_id, subteam_id
from bot.slack.people import ProfilePhones, UsergroupMembers

logger = logging.getLogger(__name__)

#: Those of some E.164 numbers that replied STOP (the audit store's opt-out list).
OptedOut = Callable[[Sequence[str]], Sequence[str]]

#: Why a member was skipped, said after their name.
OPTED_OUT = N_("replied STOP (opted out of SMS from this account)")


@dataclass(frozen=True)
class Skipped:
    """A group member who was not texted, and why."""

    #: Their Slack user id, when they are a Slack user (to mention them).
    user_id: str | None
    #: How people know them: ``@carol``, ``Carol`` or the directory name ``dave``.
    name: str
    #: Why, as a deferred message to put after their name.
    why: str


@dataclass(frozen=True)
class _Members:
    numbers: list[str]
    skipped: list[Skipped]


class SlackRecipients:
    """``resolve(token)`` for :func:`~bot.sending.rules.validate_draft`; ``is_name``: grammar."""

    def __init__(
        self,
        *,
        directory: DirectorySource,
        phones: ProfilePhones,
        groups: UsergroupMembers,
        opted_out: OptedOut = lambda _numbers: (),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.directory = directory
        self._phones = phones
        self._groups = groups
        self._opted_out = opted_out
        self._clock = clock

    def is_name(self, token: str) -> bool:
        return self.directory.current().is_name(token)

    def resolve(self, token: str) -> Sequence[str] | None:
        directory = self.directory.current()
        if _is_group(directory, token):
            return self._reachable(self._directory_group(directory, token), token)
        if directory.is_name(token):
            return directory.numbers_for(token, at=self._clock())
        user_id = mention_user_id(token)
        if user_id is not None:
            person = directory.person_by_slack_id(user_id)
            return [person.phone] if person is not None else self._phones.resolve(token)
        group_id = subteam_id(token)
        if group_id is not None:
            return self._reachable(self._usergroup(group_id, token), token)
        return None

    def unreachable(self, tokens: Sequence[str]) -> list[Skipped]:
        """The members of the groups among ``tokens`` who were skipped, and why.

        The lookups are cached, so this right after a send costs no Slack call. A group
        that cannot be listed counts as none: the send itself already reported it.
        """
        directory = self.directory.current()
        found: dict[str, Skipped] = {}
        for token in tokens:
            try:
                if _is_group(directory, token):
                    members = self._directory_group(directory, token)
                elif (group_id := subteam_id(token)) is not None:
                    members = self._usergroup(group_id, token)
                else:
                    continue
            except InputError:
                continue
            for skipped in members.skipped:
                found.setdefault(skipped.user_id or skipped.name, skipped)
        return list(found.values())

    def _reachable(self, members: _Members, token: str) -> list[str]:
        """The numbers to text; refuses, naming each member and why, when none is left."""
        if members.skipped:
            logger.warning(
                "%s: %d member(s) skipped (opted out or no phone)",
                token,
                len(members.skipped),
            )
        if members.numbers:
            return members.numbers
        if not members.skipped:
            return []  # an empty group: the rules say it has no phone number
        raise InputError(
            "recipients",
            N_(
                "Nobody in %(group)s can be texted: %(people)s",
                group=token,
                people=joined(
                    [
                        N_("%(name)s %(why)s", name=s.name, why=s.why)
                        for s in members.skipped
                    ],
                    "; ",
                ),
            ),
        )

    def _directory_group(self, directory: Directory, token: str) -> _Members:
        """A directory group's members' phones, less those who opted out."""
        people = [
            directory.people[name]
            for name in directory.groups[token.strip().lower()].members
        ]
        opted = set(self._opted_out([person.phone for person in people]))
        numbers: dict[str, None] = {}
        skipped: list[Skipped] = []
        for person in people:
            if person.phone in opted:
                skipped.append(Skipped(person.slack_id, person.name, OPTED_OUT))
            else:
                numbers[person.phone] = None
        return _Members(list(numbers), skipped)

    def _usergroup(self, group_id: str, token: str) -> _Members:
        """A Slack user group's members' phones, less those who cannot be texted."""
        try:
            member_ids = sorted(self._groups.members(group_id))
        except SlackApiError as error:
            code = slack_error_code(error)
            raise InputError(
                "recipients",
                N_(
                    "Could not list the members of %(group)s (%(code)s)",
                    group=token,
                    code=code,
                ),
            ) from error
        directory = self.directory.current()
        candidates: list[tuple[str, str, str]] = []  # user id, name, number
        skipped: list[Skipped] = []
        for user_id in member_ids:
            person = directory.person_by_slack_id(user_id)
            if person is not None:
                candidates.append((user_id, person.name, person.phone))
                continue
            try:
                profile = self._phones.profile_of(user_id)
            except InputError as error:
                skipped.append(Skipped(user_id, user_id, _why(error)))
                continue
            if profile.number is None:
                if not profile.phone:
                    why = N_("has no phone number in their Slack profile")
                elif profile.phone.startswith("+"):
                    why = N_("has a profile phone that is not a valid number")
                else:
                    why = N_(
                        "has a profile phone without its country code, which their "
                        "Slack time zone does not settle"
                    )
                skipped.append(Skipped(user_id, profile.handle, why))
            else:
                candidates.append((user_id, profile.handle, profile.number))
        opted = set(self._opted_out([number for _, _, number in candidates]))
        numbers: dict[str, None] = {}
        for user_id, name, number in candidates:
            if number in opted:
                skipped.append(Skipped(user_id, name, OPTED_OUT))
            else:
                numbers[number] = None
        return _Members(list(numbers), skipped)


def _is_group(directory: Directory, token: str) -> bool:
    return token.strip().lower() in directory.groups


def _why(error: InputError) -> str:
    """The reason of a profile that could not be read, after the member's name."""
    problem = next(iter(error.problems.values()), None)
    return N_("(%(problem)s)", problem=problem) if problem is not None else ""
