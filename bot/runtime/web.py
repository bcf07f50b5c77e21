"""The WSGI application gunicorn serves: Slack events, a health check, and nothing else.

``create_wsgi_app`` is pure wiring; ``application()`` is the factory named in the
Procfile and used by ``sms-bot serve``, so production and the documented command run
exactly the same code.
"""

from __future__ import annotations

import hmac
import json
import logging
import sys
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

from bot.audit import AuditStore
from bot.errors import AuditStoreError
from bot.octopush import CallbackParseError, parse_callback
from bot.paging.inbound import InboundProcessor
from bot.runtime import metrics

logger = logging.getLogger(__name__)

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

SLACK_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
CALLBACK_PREFIX = "/octopush/callback/"
GUNICORN_BOOT_ERROR = 3
#: Octopush callbacks are small; anything bigger is not one.
CALLBACK_MAX_BYTES = 64 * 1024


def create_wsgi_app(
    app: App,
    *,
    store: AuditStore,
    inbound: InboundProcessor | None = None,
    callback_token: str | None = None,
    metrics_token: str | None = None,
) -> WSGIApp:
    """Route ``POST /slack/events`` to Bolt, ``GET /healthz`` to a store ping,
    ``POST /octopush/callback/<token>`` to the callback processor (after answering)
    and ``GET /metrics`` to Prometheus (with ``Authorization: Bearer <metrics_token>``)."""
    slack = metrics.timed_ack(SlackRequestHandler(app, path=SLACK_PATH))
    workers = ThreadPoolExecutor(max_workers=4, thread_name_prefix="octopush-callback")

    def callback(
        environ: dict[str, Any], start_response: StartResponse, token: str
    ) -> Iterable[bytes]:
        expected = callback_token or ""
        if (
            inbound is None
            or not expected
            or not hmac.compare_digest(token.encode(), expected.encode())
        ):
            # Never log the token: it is the only guard of this URL.
            metrics.record_callback("refused")
            logger.warning(
                "Octopush callback refused: unknown token (from %s)",
                environ.get("REMOTE_ADDR"),
            )
            return _json(start_response, "404 Not Found", {"error": "not found"})
        body = _read_body(environ, CALLBACK_MAX_BYTES)
        workers.submit(_process_callback, inbound, body, environ.get("CONTENT_TYPE"))
        start_response("200 OK", [("Content-Length", "0")])
        return [b""]

    def health(start_response: StartResponse) -> Iterable[bytes]:
        try:
            store.ping()
        except AuditStoreError as error:
            logger.error("health check: audit store unavailable: %s", error)
            return _json(
                start_response,
                "503 Service Unavailable",
                {"status": "error", "audit_store": "down"},
            )
        return _json(start_response, "200 OK", {"status": "ok", "audit_store": "ok"})

    def scrape(
        environ: dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        status = metrics.authorized(environ, metrics_token)
        if status == 404:
            return _json(start_response, "404 Not Found", {"error": "not found"})
        if status == 401:
            start_response(
                "401 Unauthorized",
                [("WWW-Authenticate", "Bearer"), ("Content-Length", "0")],
            )
            return [b""]
        data, content_type = metrics.render(store)
        start_response(
            "200 OK",
            [("Content-Type", content_type), ("Content-Length", str(len(data)))],
        )
        return [data]

    def wsgi(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path, method = (
            environ.get("PATH_INFO", ""),
            environ.get("REQUEST_METHOD", "GET"),
        )
        if path == SLACK_PATH or path.startswith(CALLBACK_PREFIX):
            if method != "POST":
                return _json(
                    start_response, "405 Method Not Allowed", {"error": "POST only"}
                )
            if path == SLACK_PATH:
                return slack(environ, start_response)
            return callback(environ, start_response, path[len(CALLBACK_PREFIX) :])
        if path == HEALTH_PATH and method in ("GET", "HEAD"):
            return health(start_response)
        if path == metrics.METRICS_PATH and method in ("GET", "HEAD"):
            return scrape(environ, start_response)
        return _json(start_response, "404 Not Found", {"error": "not found"})

    return wsgi


def _read_body(environ: dict[str, Any], limit: int) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    stream = environ["wsgi.input"]
    return bytes(stream.read(min(length, limit))) if length > 0 else b""


def _process_callback(
    inbound: InboundProcessor, body: bytes, content_type: str | None
) -> None:
    """Parse and handle one callback after Octopush got its answer; never raises."""
    try:
        event = parse_callback(body, content_type)
    except CallbackParseError as error:
        logger.warning("Octopush callback ignored: %s", error)
        metrics.record_callback("invalid")
        return
    try:
        outcome = inbound.handle(event)
        metrics.record_callback(outcome.kind)
    except Exception:
        metrics.record_callback("error")
        logger.exception(
            "Octopush callback (%s) could not be handled", type(event).__name__
        )
        return
    logger.info(
        "Octopush callback: %s for audit #%s (changed: %s)",
        outcome.kind,
        outcome.audit_id,
        outcome.changed,
    )


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
    """Gunicorn factory (``bot.runtime.web:application()``): settings → service → app → WSGI."""
    from bot.config import load_settings
    from bot.errors import SettingsError
    from bot.log import configure_logging
    from bot.runtime.slack_app import build_stack
    from bot.runtime.wiring import OCTOPUSH_REQUIRED, secrets_of
    from bot.sending.recovery import start_recovery

    try:
        settings = load_settings(
            required=("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", *OCTOPUSH_REQUIRED)
        )
        configure_logging("INFO", secrets=secrets_of(settings))
        stack = build_stack(settings)
    except SettingsError as error:
        print("sms-bot: settings are missing or malformed:", file=sys.stderr)
        for line in error.problems:
            print(f"  {line}", file=sys.stderr)
        # Gunicorn's "worker failed to boot" code: stop, rather than respawn forever.
        raise SystemExit(GUNICORN_BOOT_ERROR) from None
    start_recovery(stack.service, report=stack.announce)
    stack.start_workers(escalation_check_seconds=settings.sms.escalation_check_seconds)
    token = settings.octopush.callback_token
    scrape_token = settings.sms.metrics_token
    return create_wsgi_app(
        stack.app,
        store=stack.service.store,
        inbound=stack.inbound,
        callback_token=token.get_secret_value() if token else None,
        metrics_token=scrape_token.get_secret_value() if scrape_token else None,
    )
