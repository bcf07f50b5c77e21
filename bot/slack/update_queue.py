"""Coalesced ``chat.update``: at most one update per post every few seconds, latest wins.

``chat.update`` is a tier-3 method (about 50 a minute). A send to 200 people brings 200
delivery receipts within seconds; one update each would hit 429s and lose updates.
Callers submit a *render* function per post (channel, ts); a worker thread calls it when
the post is due, so each update shows the state at the moment it is sent and the last
one always shows the final state. A 429 is retried after its ``Retry-After`` on the
worker, never on a request thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.slack.api import slack_error_code

logger = logging.getLogger(__name__)

#: A post, as Slack names it: (channel id, message ts).
PostKey = tuple[str, str]
#: Builds the post's message from the current state; None means "nothing to show".
Render = Callable[[], dict[str, Any] | None]
#: Sends one update; raises :class:`RateLimited` on a 429 (other errors are retried).
Send = Callable[[str, str, dict[str, Any]], None]

#: Seconds between two updates of one post (a burst gives one now, one at the end).
DEFAULT_INTERVAL = 3.0
#: Failed updates (network, 5xx) are retried this many times, ``interval`` apart.
MAX_ATTEMPTS = 3
#: Longest real wait of the worker, so an injected clock is noticed soon enough.
MAX_IDLE_SECONDS = 1.0


class RateLimited(Exception):
    """Slack answered 429: wait ``retry_after`` seconds before the next ``chat.update``."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"rate limited; retry after {retry_after} s")
        self.retry_after = retry_after


@dataclass
class _Pending:
    render: Render
    due: float
    failures: int = 0


class UpdateQueue:
    """Thread-safe; :meth:`submit` never blocks on Slack, the worker does the calls."""

    def __init__(
        self,
        send: Send,
        *,
        interval: float = DEFAULT_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
        max_idle: float = MAX_IDLE_SECONDS,
    ) -> None:
        self._send = send
        self._interval = interval
        self._clock = clock
        self._max_idle = max_idle
        self._pending: dict[PostKey, _Pending] = {}
        self._last_sent: dict[PostKey, float] = {}
        #: Slack limits a method per workspace: after a 429 nothing is sent before this.
        self._blocked_until = float("-inf")
        self._cond = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None
        #: Updates taken off ``_pending`` whose ``chat.update`` has not returned yet.
        self._in_flight = 0

    def submit(self, channel: str, ts: str, render: Render) -> None:
        """Update the post ``(channel, ts)`` with ``render()`` soon; replaces an older one."""
        key = (channel, ts)
        with self._cond:
            pending = self._pending.get(key)
            if pending is not None:
                pending.render = render  # the latest state wins; the due time stays
                return
            earliest = self._last_sent.get(key, float("-inf")) + self._interval
            self._pending[key] = _Pending(render, max(self._clock(), earliest))
            self._cond.notify()

    def pending(self) -> int:
        """How many posts wait for an update (for metrics and tests)."""
        with self._cond:
            return len(self._pending)

    def idle(self) -> bool:
        """True when no update waits and none is being sent (tests wait for this)."""
        with self._cond:
            return not self._pending and self._in_flight == 0

    def run_due(self) -> float | None:
        """Send every update that is due now; return seconds until the next, or None."""
        while True:
            with self._cond:
                now = self._clock()
                key = self._next_due(now)
                if key is None:
                    return self._wait_locked(now)
                pending = self._pending.pop(key)
                self._last_sent[key] = now
                self._in_flight += 1
            try:
                self._deliver(key, pending)
            finally:
                with self._cond:
                    self._in_flight -= 1

    def start(self) -> threading.Thread:
        """Run the worker thread until :meth:`stop`."""
        thread = threading.Thread(
            target=self._run, name="sms-bot-slack-updates", daemon=True
        )
        self._thread = thread
        thread.start()
        return thread

    def wake(self) -> None:
        """Look at the clock again now (tests that move an injected clock call this)."""
        with self._cond:
            self._cond.notify()

    def stop(self, *, flush: bool = True, timeout: float = 5.0) -> None:
        """Stop the worker; with ``flush`` send what is still pending once, now."""
        with self._cond:
            self._stopping = True
            self._cond.notify()
        if self._thread is not None:
            self._thread.join(timeout)
        if flush:
            with self._cond:
                left = list(self._pending.items())
                self._pending.clear()
            for key, pending in left:
                try:
                    self._send_once(key, pending)
                except Exception:
                    logger.warning("chat.update of %s lost at shutdown", key[1])

    # --- worker ------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            try:
                self.run_due()
            except Exception:  # a bug here must not stop every later update
                logger.exception("Slack update worker pass failed")
            with self._cond:
                if self._stopping:
                    return
                wait = self._wait_locked(self._clock())
                self._cond.wait(self._max_idle if wait is None else wait)
                if self._stopping:
                    return

    def _next_due(self, now: float) -> PostKey | None:
        if now < self._blocked_until:
            return None
        due = [(p.due, key) for key, p in self._pending.items() if p.due <= now]
        return min(due)[1] if due else None

    def _wait_locked(self, now: float) -> float | None:
        """Seconds until something is due (capped at ``max_idle``); prunes old keys."""
        horizon = now - self._interval
        for key in [k for k, t in self._last_sent.items() if t < horizon]:
            if key not in self._pending:
                del self._last_sent[key]
        if not self._pending:
            return None
        due = max(min(p.due for p in self._pending.values()), self._blocked_until)
        return min(max(due - now, 0.0), self._max_idle)

    def _deliver(self, key: PostKey, pending: _Pending) -> None:
        try:
            self._send_once(key, pending)
        except RateLimited as limited:
            with self._cond:
                self._blocked_until = max(
                    self._blocked_until, self._clock() + limited.retry_after
                )
                self._requeue(key, pending, self._blocked_until)
            logger.info(
                "chat.update rate limited; retrying in %s s", limited.retry_after
            )
        except Exception as error:
            pending.failures += 1
            if pending.failures >= MAX_ATTEMPTS:
                logger.warning(
                    "chat.update of %s failed %s times (%s); giving up",
                    key[1],
                    pending.failures,
                    type(error).__name__,
                )
                return
            with self._cond:
                self._requeue(key, pending, self._clock() + self._interval)

    def _requeue(self, key: PostKey, pending: _Pending, due: float) -> None:
        newer = self._pending.get(key)
        if newer is not None:  # a newer state arrived meanwhile: it replaces this one
            newer.due = max(newer.due, due)
            return
        pending.due = due
        self._pending[key] = pending

    def _send_once(self, key: PostKey, pending: _Pending) -> None:
        message = pending.render()
        if message is not None:
            self._send(key[0], key[1], message)


def slack_sender(client: WebClient) -> Send:
    """``chat.update`` through ``client``; a 429 raises :class:`RateLimited`.

    Give it a client without slack-sdk's rate-limit retry handler: that one sleeps
    in place, and the queue already waits for ``Retry-After`` itself.
    Other Slack errors (``message_not_found``, …) are final: logged, not retried.
    """

    def send(channel: str, ts: str, message: dict[str, Any]) -> None:
        try:
            client.chat_update(channel=channel, ts=ts, **message)
        except SlackApiError as error:
            response = error.response
            if response is not None and response.status_code == 429:
                raise RateLimited(retry_after_of(response.headers)) from None
            logger.warning("chat.update of %s failed: %s", ts, slack_error_code(error))

    return send


def retry_after_of(headers: dict[str, Any]) -> float:
    """Seconds of a 429's ``Retry-After`` (1 when missing or unreadable)."""
    for name, value in headers.items():
        if name.lower() == "retry-after":
            raw = value[0] if isinstance(value, list) else value
            try:
                return max(float(raw), 0.0)
            except (TypeError, ValueError):
                break
    return 1.0
