"""The WSGI application gunicorn serves: Slack events, a health check, and nothing else.

``create_wsgi_app`` is pure wiring; ``application()`` is the factory named in the
Procfile and used by ``sms-bot serve``, so production and the documented command run
exactly the same code.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

from bot.audit import AuditStore
from bot.errors import AuditStoreError

logger = logging.getLogger(__name__)

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

SLACK_PATH = "/slack/events"
HEALTH_PATH = "/healthz"


def create_wsgi_app(app: App, *, store: AuditStore) -> WSGIApp:
    """Route ``POST /slack/events`` to Bolt and ``GET /healthz`` to a store ping."""
    slack = SlackRequestHandler(app, path=SLACK_PATH)

    def wsgi(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path, method = (
            environ.get("PATH_INFO", ""),
            environ.get("REQUEST_METHOD", "GET"),
        )
        if path == SLACK_PATH:
            if method != "POST":
                return _json(
                    start_response, "405 Method Not Allowed", {"error": "POST only"}
                )
            return slack(environ, start_response)
        if path == HEALTH_PATH and method in ("GET", "HEAD"):
            try:
                store.ping()
            except AuditStoreError as error:
                logger.error("health check: audit store unavailable: %s", error)
                return _json(
                    start_response,
                    "503 Service Unavailable",
                    {"status": "error", "audit_store": "down"},
                )
            return _json(
                start_response, "200 OK", {"status": "ok", "audit_store": "ok"}
            )
        return _json(start_response, "404 Not Found", {"error": "not found"})

    return wsgi


def _json(
    start_response: StartResponse, status: str, body: dict[str, Any]
) -> list[bytes]:
    data = json.dumps(body).encode()
    start_response(
        status,
        [("Content-Type", "application/json"), ("Content-Length", str(len(data)))],
    )
    return [data]


def application() -> WSGIApp:
    """Gunicorn factory (``bot.web:application()``): settings → service → app → WSGI."""
    from bot.app import build_stack
    from bot.config import load_settings
    from bot.log import configure_logging
    from bot.recovery import start_recovery
    from bot.wiring import OCTOPUSH_REQUIRED, secrets_of

    settings = load_settings(
        required=("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", *OCTOPUSH_REQUIRED)
    )
    configure_logging("INFO", secrets=secrets_of(settings))
    stack = build_stack(settings)
    start_recovery(stack.service, report=stack.announce)
    return create_wsgi_app(stack.app, store=stack.service.store)
