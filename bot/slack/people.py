"""Slack people as recipients: a mention's phone comes from their Slack profile.

Profiles are read with ``users.profile.get`` (scope ``users.profile:read``) and cached
for a few minutes, so a burst of pages to the same person costs one lookup.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection, Sequence
from typing import Generic, TypeVar

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.errors import InputError
from bot.i18n import N_
from bot.slack.api import slack_error_code
from bot.slack.grammar import mention_user_id
from bot.slack.lookup_cache import LookupCache

logger = logging.getLogger(__name__)


_V = TypeVar("_V")


class _CachedSlackLookup(Generic[_V]):
    """A Slack Web API lookup whose answers are cached for ``ttl_seconds``."""

    def __init__(
        self,
        client: WebClient,
        *,
        ttl_seconds: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._client = client
        self._cache: LookupCache[_V] = LookupCache(ttl_seconds=ttl_seconds, clock=clock)


class ProfilePhones(_CachedSlackLookup[tuple[str, str]]):
    """Resolves ``<@U…>`` tokens to the phone in the person's Slack profile."""

    def resolve(self, token: str) -> Sequence[str] | None:
        """The phone of a mentioned person; ``None`` when the token is not a mention.

        Raises ``InputError`` naming the person when their profile has no phone or
        cannot be read, so the person who typed the command knows whom to fix.
        """
        user_id = mention_user_id(token)
        if user_id is None:
            return None
        name, phone = self.profile_of(user_id)
        if not phone:
            raise InputError(
                "recipients",
                N_(
                    "%(name)s has no phone number in their Slack profile; "
                    "ask them to add one, or type the number instead",
                    name=name,
                ),
            )
        return [phone]

    def profile_of(self, user_id: str) -> tuple[str, str]:
        """The display name and profile phone ('' when empty) of ``user_id``, cached."""
        return self._cache.get(user_id, lambda: self._load_profile(user_id))

    def _load_profile(self, user_id: str) -> tuple[str, str]:
        try:
            response = self._client.users_profile_get(user=user_id)
        except SlackApiError as error:
            code = slack_error_code(error)
            logger.warning("users.profile.get for %s failed: %s", user_id, code)
            raise InputError(
                "recipients",
                N_(
                    "Could not read the Slack profile of %(user)s (%(code)s)",
                    user=user_id,
                    code=code,
                ),
            ) from error
        profile = response.get("profile") or {}
        name = str(profile.get("display_name") or profile.get("real_name") or user_id)
        return (name, str(profile.get("phone") or "").strip())


class UsergroupMembers(_CachedSlackLookup[frozenset[str]]):
    """Members of Slack user groups (``usergroups.users.list``, scope ``usergroups:read``).

    The method is rate-limited (Tier 2), so each group's members are cached.
    """

    def members(self, group_id: str) -> frozenset[str]:
        """User ids in ``group_id``; raises ``SlackApiError`` when Slack refuses."""
        return self._cache.get(group_id, lambda: self._load_members(group_id))

    def _load_members(self, group_id: str) -> frozenset[str]:
        response = self._client.usergroups_users_list(usergroup=group_id)
        return frozenset(str(user) for user in response.get("users") or [])

    def groups_of(self, user_id: str, candidates: Collection[str]) -> list[str]:
        """Which of ``candidates`` contain ``user_id``; a group Slack refuses counts as not."""
        found = []
        for group_id in sorted(candidates):
            try:
                if user_id in self.members(group_id):
                    found.append(group_id)
            except SlackApiError as error:
                code = slack_error_code(error)
                logger.warning("usergroups.users.list %s failed: %s", group_id, code)
        return found
