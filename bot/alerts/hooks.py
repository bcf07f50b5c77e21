"""The ``/hooks`` routes: check who posts, check the body, store it, then answer.

``POST /hooks/alertmanager/<integration>`` (Alertmanager v4 and Grafana) and
``POST /hooks/events/v2`` (PagerDuty's Events API v2, ``routing_key`` = the token).
The event is stored before the answer; only a fault of ours (the database) answers
5xx, which the sender retries. Unknown integration 404, bad token 401, malformed
body 400 naming the problem, over 512 KB 413. Tokens never reach a log or an answer.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.alerts.auth import bearer, find_by_token, signature_ok, token_matches
from bot.alerts.payloads import (
    AlertEvent,
    PayloadError,
    parse_alertmanager,
    parse_events_v2,
)
from bot.audit.alerts import AlertInbox
from bot.directory.source import DirectorySource
from bot.errors import AuditStoreError

logger = logging.getLogger(__name__)

HOOKS_PREFIX = "/hooks/"
ALERTMANAGER_PREFIX = "/hooks/alertmanager/"
EVENTS_V2_PATH = "/hooks/events/v2"
#: PagerDuty's payload limit; Alertmanager bodies are far smaller.
MAX_BYTES = 512 * 1024


@dataclass(frozen=True)
class Answer:
    status: str
    body: dict[str, Any] | None = None
    headers: tuple[tuple[str, str], ...] = ()


@dataclass
class Hooks:
    """Answers the hook requests; ``wake`` tells the worker an event was stored."""

    directory: DirectorySource
    inbox: AlertInbox
    wake: Callable[[], None] = lambda: None
    #: Counts each answer by integration and outcome (metrics).
    record: Callable[[str, str], None] = lambda integration, outcome: None
    env: Mapping[str, str] = field(default_factory=lambda: os.environ)

    def answer(
        self, path: str, environ: Mapping[str, Any], read: Callable[[int], bytes]
    ) -> Answer:
        """``read(limit)`` reads the body (only once the sender is let in)."""
        length = _length(environ)
        if path == EVENTS_V2_PATH:
            return self._events_v2(environ, length, read)
        if path.startswith(ALERTMANAGER_PREFIX):
            name = path[len(ALERTMANAGER_PREFIX) :].strip("/").lower()
            return self._alertmanager(name, environ, length, read)
        return Answer("404 Not Found", {"error": "not found"})

    def _alertmanager(
        self,
        name: str,
        environ: Mapping[str, Any],
        length: int,
        read: Callable[[int], bytes],
    ) -> Answer:
        integration = self.directory.current().integrations.get(name)
        if integration is None:
            self.record("unknown", "not-found")
            return Answer("404 Not Found", {"error": "no such integration"})
        if length > MAX_BYTES:
            self.record(name, "too-large")
            return Answer("413 Content Too Large", {"error": "body over 512 KB"})
        if not token_matches(integration, bearer(environ), self.env):
            self.record(name, "unauthorized")
            logger.warning("alert hook %s: wrong or missing bearer token", name)
            return _unauthorized()
        body = read(MAX_BYTES)
        if not signature_ok(integration, environ, body, env=self.env):
            self.record(name, "unauthorized")
            logger.warning("alert hook %s: bad or stale Grafana signature", name)
            return _unauthorized()
        try:
            event = parse_alertmanager(body)
        except PayloadError as error:
            self.record(name, "malformed")
            return Answer("400 Bad Request", {"error": str(error)})
        return self._store(name, event, body, environ, "200 OK", {"status": "ok"})

    def _events_v2(
        self, environ: Mapping[str, Any], length: int, read: Callable[[int], bytes]
    ) -> Answer:
        if length > MAX_BYTES:
            self.record("unknown", "too-large")
            return Answer(
                "413 Content Too Large",
                {"status": "invalid event", "message": "body over 512 KB"},
            )
        body = read(MAX_BYTES)
        try:
            routing_key, event = parse_events_v2(body)
        except PayloadError as error:
            self.record("unknown", "malformed")
            return Answer(
                "400 Bad Request",
                {
                    "status": "invalid event",
                    "message": "Event object is invalid",
                    "errors": [str(error)],
                },
            )
        integration = find_by_token(
            self.directory.current().integrations, routing_key, self.env
        )
        if integration is None:
            self.record("unknown", "unauthorized")
            logger.warning("alert hook events/v2: unknown routing key")
            return _unauthorized()
        answer = {
            "status": "success",
            "message": "Event processed",
            "dedup_key": event.dedup_key,
        }
        return self._store(
            integration.name, event, body, environ, "202 Accepted", answer
        )

    def _store(
        self,
        name: str,
        event: AlertEvent,
        body: bytes,
        environ: Mapping[str, Any],
        status: str,
        answer: dict[str, Any],
    ) -> Answer:
        try:
            self.inbox.put_event(
                integration=name,
                kind=event.kind,
                dedup_key=event.dedup_key,
                action=event.action,
                body=body,
                content_type=environ.get("CONTENT_TYPE"),
            )
        except AuditStoreError as error:
            # Not stored, so not accepted: the sender retries a 5xx.
            self.record(name, "unavailable")
            logger.error("alert event for %s not stored, answered 503: %s", name, error)
            return Answer(
                "503 Service Unavailable",
                {"error": "temporarily unavailable"},
                (("Retry-After", "30"),),
            )
        self.record(name, "stored")
        self.wake()
        return Answer(status, answer)


def _length(environ: Mapping[str, Any]) -> int:
    try:
        return int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _unauthorized() -> Answer:
    return Answer(
        "401 Unauthorized", {"error": "unauthorized"}, (("WWW-Authenticate", "Bearer"),)
    )
