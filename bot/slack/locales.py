"""Each Slack person's language, from their Slack locale (``users.info``).

``users.info`` with ``include_locale=true`` (scope ``users:read``) tells which language
a person set in Slack, e.g. ``fr-FR``. An ephemeral answer or a modal uses it; a channel
post is read by many people, so it uses the workspace default (``SMS_LANGUAGE``).

Answers are cached (a person rarely changes language), so a burst of commands costs one
lookup; a failed lookup falls back to the default and is retried a minute later. An ack
makes no Slack call, so ``serve`` reads everyone's locale once at start
(:meth:`ReaderLanguages.warm`, ``users.list``), and acks know the language from the start.

The same answers carry each person's time zone (``tz``), which tells the country of a
profile phone written without its country code (:mod:`bot.slack.people`): one cached
call serves both.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from cachetools import TTLCache
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.i18n import Translator, language_of, translator
from bot.slack.api import slack_error_code

logger = logging.getLogger(__name__)


class ReaderLanguages:
    """Who reads in which language; ``default`` when Slack does not say."""

    def __init__(
        self,
        client: WebClient,
        *,
        default: str,
        ttl_seconds: float = 3600.0,
        retry_seconds: float = 60.0,
        maxsize: int = 10_000,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self.default = default
        self._known: TTLCache[str, str] = TTLCache(maxsize, ttl_seconds, timer=timer)
        self._failed: TTLCache[str, str] = TTLCache(maxsize, retry_seconds, timer=timer)
        #: Each person's Slack time zone ('' when Slack gives none), from the same calls.
        self._zones: TTLCache[str, str] = TTLCache(maxsize, ttl_seconds, timer=timer)
        self._lock = threading.Lock()

    def cached(self, user_id: str | None) -> str | None:
        """The language of ``user_id`` if already known: no Slack call (safe in an ack)."""
        if not user_id:
            return self.default
        with self._lock:
            return self._known.get(user_id) or self._failed.get(user_id)

    def language_of(self, user_id: str | None) -> str:
        """The language of ``user_id``, asking Slack (outside the lock) when not cached."""
        found = self.cached(user_id)
        if found is not None:
            return found
        assert user_id  # cached() answers the default for a missing id
        return self._remember(user_id)[0]

    def time_zone_of(self, user_id: str) -> str | None:
        """The person's Slack time zone (``Europe/Zurich``; '' when Slack gives none).

        It comes with the language, from the same cached ``users.info`` call (or the
        warm-up's ``users.list``). ``None`` when Slack could not be asked: the caller
        must not guess.
        """
        with self._lock:
            zone = self._zones.get(user_id)
        if zone is not None:
            return zone
        _, zone = self._remember(user_id)
        return zone

    def _remember(self, user_id: str) -> tuple[str, str | None]:
        """Ask Slack (outside the lock) and cache the language and the time zone."""
        language, zone = self._lookup(user_id)
        with self._lock:
            (self._known if zone is not None else self._failed)[user_id] = language
            if zone is not None:
                self._zones[user_id] = zone
        return language, zone

    def without_lookup(self, user_id: str | None) -> Translator:
        """For an ack: the reader's language if already known, else the default."""
        return translator(self.cached(user_id) or self.default)

    def warm(self, *, page_size: int = 200) -> int:
        """Cache every member's language from ``users.list`` (paged); how many were read.

        A refused or unreachable page stops the warm-up (the per-person lookup still
        works); the reason is logged.
        """
        cursor: str | None = None
        count = 0
        while True:
            try:
                response = self._client.users_list(
                    limit=page_size, include_locale=True, cursor=cursor
                )
            except (SlackApiError, OSError) as error:
                reason = (
                    slack_error_code(error)
                    if isinstance(error, SlackApiError)
                    else type(error).__name__
                )
                logger.warning("users.list stopped after %s people: %s", count, reason)
                return count
            with self._lock:
                for member in response.get("members") or []:
                    user_id, locale = member.get("id"), member.get("locale")
                    language = language_of(str(locale or ""))
                    if user_id and "tz" in member:
                        self._zones[str(user_id)] = str(member.get("tz") or "")
                    if user_id and language:
                        self._known[str(user_id)] = language
                        count += 1
            cursor = (response.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return count

    def start_warming(self) -> threading.Thread:
        """:meth:`warm` on a daemon thread (``serve`` and the playground start it)."""
        thread = threading.Thread(target=self.warm, name="sms-bot-locales", daemon=True)
        thread.start()
        return thread

    def translator_for(self, user_id: str | None) -> Translator:
        """The translator of an ephemeral answer or a modal for ``user_id``."""
        return translator(self.language_of(user_id))

    def workspace(self) -> Translator:
        """The translator of channel posts: ``SMS_LANGUAGE``."""
        return translator(self.default)

    def _lookup(self, user_id: str) -> tuple[str, str | None]:
        """The language and the time zone; the default and ``None`` when Slack fails."""
        try:
            response = self._client.users_info(user=user_id, include_locale=True)
        except SlackApiError as error:
            logger.warning(
                "users.info for %s failed (%s); answering in %s",
                user_id,
                slack_error_code(error),
                self.default,
            )
            return self.default, None
        except OSError as error:
            logger.warning(
                "users.info for %s unreachable (%s); answering in %s",
                user_id,
                type(error).__name__,
                self.default,
            )
            return self.default, None
        user = response.get("user") or {}
        language = language_of(str(user.get("locale") or "")) or self.default
        return language, str(user.get("tz") or "")
