"""The simulated phones: what each number received, what it answered, and the callbacks
Octopush would post about them (receipts, replies, STOP) to the bot's callback URL."""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import requests

from bot.playground.changes import Changes

logger = logging.getLogger(__name__)

#: Octopush dates carry no zone; the account's zone is Paris.
OCTOPUSH_ZONE = ZoneInfo("Europe/Paris")
CALLBACK_TIMEOUT_SECONDS = 5.0


def octopush_date(when: datetime | None = None) -> str:
    """``Y-m-d H:i:s`` in Paris time, as Octopush writes its callback dates."""
    return (
        (when or datetime.now(OCTOPUSH_ZONE))
        .astimezone(OCTOPUSH_ZONE)
        .strftime("%Y-%m-%d %H:%M:%S")
    )


@dataclass
class PhoneMessage:
    """One bubble: ``received`` (an SMS from the gateway) or ``sent`` (the phone's reply)."""

    id: int
    direction: str
    sender: str
    text: str
    at: str
    ticket: str | None = None
    status: str | None = None
    #: Unix time, for the page to show in the reader's own zone.
    epoch: float = 0.0


class PhoneBook:
    """Every number that received an SMS, with its conversation; thread-safe."""

    def __init__(self, changes: Changes) -> None:
        self._changes = changes
        self._lock = threading.Lock()
        self._phones: dict[str, list[PhoneMessage]] = {}
        self._ids = itertools.count(1)

    def deliver(self, number: str, *, sender: str, text: str, ticket: str) -> None:
        self._add(number, "received", sender, text, ticket=ticket, status="sent")

    def answer(self, number: str, text: str) -> None:
        self._add(number, "sent", number, text)

    def last_ticket(self, number: str) -> str | None:
        """The ticket of the last SMS this number received (what a reply refers to)."""
        with self._lock:
            received = [
                m for m in self._phones.get(number, []) if m.direction == "received"
            ]
        return received[-1].ticket if received else None

    def set_status(self, number: str, ticket: str, status: str) -> None:
        with self._lock:
            for item in self._phones.get(number, []):
                if item.ticket == ticket and item.direction == "received":
                    item.status = status
        self._changes.bump()

    def numbers(self) -> list[str]:
        with self._lock:
            return list(self._phones)

    def snapshot(self) -> list[dict[str, Any]]:
        with self._lock:
            return [
                {"number": number, "messages": [asdict(m) for m in messages]}
                for number, messages in self._phones.items()
            ]

    def _add(
        self,
        number: str,
        direction: str,
        sender: str,
        text: str,
        *,
        ticket: str | None = None,
        status: str | None = None,
    ) -> None:
        item = PhoneMessage(
            next(self._ids),
            direction,
            sender,
            text,
            octopush_date(),
            ticket,
            status,
            time.time(),
        )
        with self._lock:
            self._phones.setdefault(number, []).append(item)
        self._changes.bump()


class CallbackPoster:
    """Posts callbacks to the bot like Octopush: JSON, in order of their due time, from
    one thread of its own (so a phone's replies arrive in the order they were typed)."""

    def __init__(self) -> None:
        self.url: str | None = None
        self._queue: list[
            tuple[float, int, dict[str, Any], Callable[[], None] | None]
        ] = []
        self._seq = itertools.count()
        self._wake = threading.Condition()
        self._closed = False
        self._session = requests.Session()
        self._session.trust_env = False  # 127.0.0.1 only: never through a proxy
        self._thread = threading.Thread(
            target=self._run, name="playground-callbacks", daemon=True
        )
        self._thread.start()

    def post(
        self,
        payload: dict[str, Any],
        *,
        delay: float = 0.0,
        before: Callable[[], None] | None = None,
    ) -> None:
        """Post ``payload`` in ``delay`` seconds, calling ``before()`` just before."""
        with self._wake:
            due = time.monotonic() + delay
            heapq.heappush(self._queue, (due, next(self._seq), payload, before))
            self._wake.notify()

    def close(self) -> None:
        with self._wake:
            self._closed = True
            self._queue.clear()
            self._wake.notify()
        self._thread.join(timeout=5)
        self._session.close()

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._closed and (
                    not self._queue or self._queue[0][0] > time.monotonic()
                ):
                    wait = self._queue[0][0] - time.monotonic() if self._queue else None
                    self._wake.wait(timeout=wait)
                if self._closed:
                    return
                _due, _seq, payload, before = heapq.heappop(self._queue)
            if before is not None:
                before()
            self._post_now(payload)

    def _post_now(self, payload: dict[str, Any]) -> None:
        if self.url is None:
            logger.warning("no callback URL configured; callback dropped")
            return
        try:
            response = self._session.post(
                self.url, json=payload, timeout=CALLBACK_TIMEOUT_SECONDS
            )
        except requests.RequestException as error:
            logger.warning("callback to the bot failed: %s", type(error).__name__)
            return
        if response.status_code != 200 or response.content:
            logger.warning(
                "the bot answered a callback with HTTP %s and %d bytes",
                response.status_code,
                len(response.content),
            )
