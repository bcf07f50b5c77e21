"""Coalesced ``views.publish`` of App Homes: one per person every few seconds, latest wins.

``views.publish`` is Tier 4 (about 100 a minute); a page seen by 30 people and then
acknowledged would otherwise publish 60 Homes in a second. This reuses
:class:`~bot.slack.update_queue.UpdateQueue` (keyed by person instead of post): the
Home is read and built on its worker thread when due, never in an ack, and a 429
waits for its ``Retry-After`` there.

Who has looked at their Home recently is kept in memory (per process, forgotten after
``viewer_ttl``): a change is published to them as well as to the people it concerns.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.slack.api import slack_error_code
from bot.slack.update_queue import RateLimited, UpdateQueue, retry_after_of

logger = logging.getLogger(__name__)

#: Seconds between two publishes of one person's Home.
PUBLISH_INTERVAL = 3.0
#: Seconds between any two publishes: Tier 4 is about 100 a minute for the workspace,
#: so a change seen by 300 people is spread over 3 minutes instead of drawing 429s.
PUBLISH_GAP = 0.6
#: A person who opened their Home this long ago no longer gets it refreshed.
VIEWER_TTL = 3600.0
#: The queue's "channel" for Homes: a Home is keyed by its user id alone.
_HOME = "home"

#: Builds a person's Home view (``{"type": "home", ...}``); None publishes nothing.
BuildHome = Callable[[str], dict[str, Any] | None]
#: Publishes ``view`` as ``user_id``'s Home; raises :class:`RateLimited` on a 429.
Publish = Callable[[str, dict[str, Any]], None]


class HomePublisher:
    """Thread-safe; :meth:`request` returns at once, the worker starts on first use."""

    def __init__(
        self,
        publish: Publish,
        build: BuildHome,
        *,
        interval: float = PUBLISH_INTERVAL,
        viewer_ttl: float = VIEWER_TTL,
        gap: float = PUBLISH_GAP,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._build = build
        self._publish = publish
        self._gap = gap
        self._sleep = sleep
        self._last_publish = float("-inf")
        self._queue = UpdateQueue(
            lambda _home, user_id, view: self._paced(user_id, view),
            interval=interval,
            clock=clock,
        )
        self._clock = clock
        self._viewer_ttl = viewer_ttl
        self._viewers: dict[str, float] = {}
        self._lock = threading.Lock()
        self._started = False

    def opened(self, user_id: str) -> None:
        """``user_id`` opened their Home: publish it, and keep it fresh for a while."""
        with self._lock:
            self._viewers[user_id] = self._clock()
        self.request([user_id])

    def changed(self, concerned: Iterable[str]) -> None:
        """Something a Home shows changed: publish for ``concerned`` and recent viewers."""
        self.request([*concerned, *self.viewers()])

    def viewers(self) -> list[str]:
        """People who opened their Home within ``viewer_ttl`` (expired ones forgotten)."""
        horizon = self._clock() - self._viewer_ttl
        with self._lock:
            for user_id in [u for u, at in self._viewers.items() if at < horizon]:
                del self._viewers[user_id]
            return list(self._viewers)

    def request(self, user_ids: Iterable[str]) -> None:
        """Publish these people's Homes soon (each at most once per ``interval``)."""
        self._ensure_started()
        for user_id in dict.fromkeys(u for u in user_ids if u):
            self._queue.submit(_HOME, user_id, self._render(user_id))

    def idle(self) -> bool:
        """True when no publish waits and none is running (tests wait for this)."""
        return self._queue.idle()

    def wake(self) -> None:
        self._queue.wake()

    def stop(self) -> None:
        """Stop the worker; pending Homes are dropped (the next opening redraws them)."""
        if self._started:
            self._queue.stop(flush=False)

    def _ensure_started(self) -> None:
        with self._lock:
            if self._started:
                return
            self._started = True
        self._queue.start()

    def _paced(self, user_id: str, view: dict[str, Any]) -> None:
        """Publish, ``gap`` seconds at least after the previous one (on the worker)."""
        wait = self._last_publish + self._gap - self._clock()
        if wait > 0:
            self._sleep(wait)
        try:
            self._publish(user_id, view)
        finally:
            self._last_publish = self._clock()

    def _render(self, user_id: str) -> Callable[[], dict[str, Any] | None]:
        def render() -> dict[str, Any] | None:
            view = self._build(user_id)
            return None if view is None else {"view": view}

        return render


def slack_publisher(client: WebClient) -> Publish:
    """``views.publish`` through ``client`` (give it one without slack-sdk's 429 retry:
    the queue waits for ``Retry-After`` itself). Other errors are logged, not retried."""

    def publish(user_id: str, message: dict[str, Any]) -> None:
        try:
            client.views_publish(user_id=user_id, view=message["view"])
        except SlackApiError as error:
            response = error.response
            if response is not None and response.status_code == 429:
                raise RateLimited(retry_after_of(response.headers)) from None
            logger.warning("views.publish failed: %s", slack_error_code(error))

    return publish
