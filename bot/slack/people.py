"""Slack people as recipients: a mention's phone comes from their Slack profile.

Profiles are read with ``users.profile.get`` (scope ``users.profile:read``) and cached
for a few minutes, so a burst of pages to the same person costs one lookup. A profile
phone in national form is read in the country of its owner's Slack time zone
(``users.info``, scope ``users:read``: the call that also gives their language, cached
with it by :class:`~bot.slack.locales.ReaderLanguages`), asked only for such phones.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace
from typing import Generic, TypeVar

import phonenumbers
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.errors import InputError
from bot.i18n import N_, Deferred
from bot.phones import DEFAULT_REGION, parse_phone
from bot.slack.api import slack_error_code
from bot.slack.grammar import mention_user_id
from bot.slack.locales import ReaderLanguages
from bot.slack.lookup_cache import LookupCache
from bot.slack.zone_countries import country_of_zone

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


@dataclass(frozen=True)
class Profile:
    """What a Slack profile says about texting its owner."""

    user_id: str
    #: The display name, else the real name, else the user id (as before).
    name: str
    #: How the sender knows them: ``@carol`` (display name), else ``name``.
    handle: str
    #: The profile phone as its owner wrote it; '' when empty.
    phone: str
    #: That phone in E.164; ``None`` when there is none or it cannot be read for sure.
    number: str | None
    #: Why ``number`` is ``None``, naming the person and how they fix their profile.
    problem: str | None = None
    #: The full name of the profile (``Bob Durand``); '' when the profile has none.
    real_name: str = ""


@dataclass(frozen=True)
class _RawProfile:
    name: str
    display_name: str
    phone: str
    real_name: str = ""


class ProfilePhones(_CachedSlackLookup[_RawProfile]):
    """Resolves ``<@U…>`` tokens to the phone in the person's Slack profile.

    The profile is written by its owner, who has never heard of ``SMS_DEFAULT_REGION``:
    a number with ``+`` is read as written, a national one (``079 123 45 67``) in the
    country of the owner's Slack time zone (``users.info``'s ``tz``). When that country
    is unknown or the number is not valid there, nobody is texted: a wrong guess would
    text a stranger.
    """

    def __init__(
        self,
        client: WebClient,
        *,
        time_zones: Callable[[str], str | None] | None = None,
        ttl_seconds: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        """``time_zones``: a person's Slack time zone, '' when none, ``None`` when Slack
        could not be asked (``ReaderLanguages.time_zone_of``, sharing its cached
        ``users.info`` call with the locale); by default a lookup of its own."""
        super().__init__(client, ttl_seconds=ttl_seconds, clock=clock)
        self._time_zones = (
            time_zones or ReaderLanguages(client, default="en").time_zone_of
        )

    def resolve(self, token: str) -> Sequence[str] | None:
        """The phone of a mentioned person; ``None`` when the token is not a mention.

        Raises ``InputError`` naming the person when their profile has no phone, one
        that cannot be read for sure, or cannot be read at all, so the person who typed
        the command knows whom to ask to fix it.
        """
        user_id = mention_user_id(token)
        if user_id is None:
            return None
        profile = self.profile_of(user_id)
        if profile.number is None:
            raise InputError("recipients", profile.problem or _no_phone(profile.name))
        return [profile.number]

    def handle_of(self, user_id: str) -> str:
        """``@carol`` (display name), else the real name: how people know them.

        Raises ``InputError`` when the profile cannot be read.
        """
        return self._handle(self._raw(user_id))

    def profile_of(self, user_id: str) -> Profile:
        """The person's names and profile phone, read in their country; cached.

        Raises ``InputError`` when the profile or the time zone cannot be read.
        """
        raw = self._raw(user_id)
        handle = self._handle(raw)
        profile = Profile(
            user_id, raw.name, handle, raw.phone, None, real_name=raw.real_name
        )
        if not raw.phone:
            return replace(profile, problem=_no_phone(raw.name))
        if raw.phone.lstrip().startswith("+"):
            try:
                return replace(profile, number=parse_phone(raw.phone, DEFAULT_REGION))
            except InputError:
                return replace(profile, problem=_invalid(handle))
        country = country_of_zone(self._time_zone(user_id))
        if country is None:
            return replace(profile, problem=_unreadable(handle, None))
        try:
            return replace(profile, number=parse_phone(raw.phone, country))
        except InputError:
            return replace(profile, problem=_unreadable(handle, country))

    def _raw(self, user_id: str) -> _RawProfile:
        return self._cache.get(user_id, lambda: self._load_profile(user_id))

    @staticmethod
    def _handle(raw: _RawProfile) -> str:
        return f"@{raw.display_name}" if raw.display_name else raw.name

    def _load_profile(self, user_id: str) -> _RawProfile:
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
        display = str(profile.get("display_name") or "").strip()
        name = str(display or profile.get("real_name") or user_id)
        real = str(profile.get("real_name") or "").strip()
        return _RawProfile(
            name, display, str(profile.get("phone") or "").strip(), real_name=real
        )

    def _time_zone(self, user_id: str) -> str:
        """The person's Slack time zone ('' when Slack gives none); cached."""
        zone = self._time_zones(user_id)
        if zone is None:
            # Not cached: the next send asks again.
            raise InputError(
                "recipients",
                N_(
                    "Could not read the Slack time zone of %(user)s, which tells the "
                    "country of their profile phone; try again in a minute",
                    user=user_id,
                ),
            )
        return zone


def _no_phone(name: str) -> Deferred:
    return N_(
        "%(name)s has no phone number in their Slack profile; "
        "ask them to add one, or type the number instead",
        name=name,
    )


def _invalid(handle: str) -> Deferred:
    """The phone has its country code but is no valid number."""
    return N_(
        "The phone in the Slack profile of %(name)s is not a valid number; ask them to "
        "correct it in their Slack profile, or type the number instead",
        name=handle,
    )


def _unreadable(handle: str, country: str | None) -> Deferred:
    """The phone is not E.164 and cannot be read for sure in the owner's country."""
    if country is None:
        return N_(
            "The phone in the Slack profile of %(name)s has no country code, and their "
            "Slack time zone does not tell which country it is in; ask them to add "
            "their number with its country code (+ then the country code) in their "
            "Slack profile, or type the number instead",
            name=handle,
        )
    return N_(
        "The phone in the Slack profile of %(name)s is not a valid number in "
        "%(country)s, the country of their Slack time zone; ask them to add their "
        "number with its country code (+%(code)s …) in their Slack profile, or type "
        "the number instead",
        name=handle,
        country=country,
        code=str(phonenumbers.country_code_for_region(country)),
    )


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
