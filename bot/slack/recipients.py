"""Every kind of recipient token the Slack app accepts, resolved to phone numbers.

Directory names (people, groups, the on-call member of a rotation), Slack mentions
(the directory's number for that person, else their profile phone) and Slack user
groups (each member's phone). Plain numbers are left to the message rules.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from slack_sdk.errors import SlackApiError

from bot.directory.source import DirectorySource
from bot.errors import InputError
from bot.i18n import N_
from bot.slack.api import slack_error_code
from bot.slack.grammar import mention_user_id, subteam_id
from bot.slack.people import ProfilePhones, UsergroupMembers

logger = logging.getLogger(__name__)


class SlackRecipients:
    """``resolve(token)`` for :func:`~bot.sending.rules.validate_draft`; ``is_name``: grammar."""

    def __init__(
        self,
        *,
        directory: DirectorySource,
        phones: ProfilePhones,
        groups: UsergroupMembers,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.directory = directory
        self._phones = phones
        self._groups = groups
        self._clock = clock

    def is_name(self, token: str) -> bool:
        return self.directory.current().is_name(token)

    def resolve(self, token: str) -> Sequence[str] | None:
        directory = self.directory.current()
        if directory.is_name(token):
            return directory.numbers_for(token, at=self._clock())
        user_id = mention_user_id(token)
        if user_id is not None:
            person = directory.person_by_slack_id(user_id)
            return [person.phone] if person is not None else self._phones.resolve(token)
        group_id = subteam_id(token)
        if group_id is not None:
            return self._usergroup_numbers(group_id, token)
        return None

    def unreachable(self, tokens: Sequence[str]) -> list[str]:
        """Slack ids of the user groups' members among ``tokens`` who were not texted.

        They have no phone (directory or Slack profile); the lookups are cached, so this
        right after a send costs no Slack call. A group Slack refuses to list counts as
        none: the send itself already reported it.
        """
        missing: dict[str, None] = {}
        for token in tokens:
            group_id = subteam_id(token)
            if group_id is None:
                continue
            try:
                _, without = self._members_by_phone(group_id)
            except (SlackApiError, InputError):
                continue
            missing.update(dict.fromkeys(without))
        return list(missing)

    def _usergroup_numbers(self, group_id: str, token: str) -> list[str]:
        """Phones of a user group's members; those without one are skipped, and named
        to the sender afterwards (:meth:`unreachable`)."""
        try:
            numbers, missing = self._members_by_phone(group_id)
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
        if missing:
            logger.warning(
                "%s: %d member(s) without a phone were skipped", group_id, len(missing)
            )
        if not numbers:
            raise InputError(
                "recipients",
                N_(
                    "Nobody in %(group)s has a phone number in their Slack profile",
                    group=token,
                ),
            )
        return numbers

    def _members_by_phone(self, group_id: str) -> tuple[list[str], list[str]]:
        """The group's members' phones, and the ids of those who have none."""
        members = sorted(self._groups.members(group_id))
        directory = self.directory.current()
        numbers: list[str] = []
        missing: list[str] = []
        for user_id in members:
            person = directory.person_by_slack_id(user_id)
            phone = (
                person.phone
                if person is not None
                else self._phones.profile_of(user_id).number
            )
            if phone:
                numbers.append(phone)
            else:
                missing.append(user_id)
        return numbers, missing
