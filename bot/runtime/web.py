"""The WSGI application gunicorn serves: Slack events, Octopush callbacks, a health check.

``create_wsgi_app`` is pure wiring; ``application()`` is the factory named in the
Procfile and used by ``sms-bot serve``, so production and the documented command run
exactly the same code.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

from bot.alerts.handler import AlertHandler
from bot.alerts.hooks import HOOKS_PREFIX, Hooks
from bot.alerts.worker import AlertWorker
from bot.audit import AuditStore
from bot.audit.commands import CommandQueue
from bot.audit.inbox import CallbackInbox
from bot.errors import AuditStoreError
from bot.paging.inbound import InboundProcessor
from bot.paging.inbox import InboxWorker
from bot.runtime import metrics
from bot.runtime.callback_gate import CallbackGate, Refusal
from bot.runtime.sender import sender_health

logger = logging.getLogger(__name__)

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

SLACK_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
CALLBACK_PREFIX = "/octopush/callback/"
GUNICORN_BOOT_ERROR = 3
#: Octopush callbacks are small; anything bigger is not one.
CALLBACK_MAX_BYTES = 64 * 1024


class WebApp:
    """The WSGI callable, plus the callback inbox worker it owns (:meth:`close`)."""

    def __init__(
        self,
        wsgi: WSGIApp,
        worker: InboxWorker | None,
        inbox: CallbackInbox | None,
        alert_worker: AlertWorker | None = None,
    ) -> None:
        self._wsgi = wsgi
        self.worker = worker
        self.inbox = inbox
        #: Handles the stored alert events (``/hooks``).
        self.alert_worker = alert_worker

    def __call__(
        self, environ: dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        return self._wsgi(environ, start_response)

    def close(self) -> None:
        """Stop the inbox workers; stored callbacks and alerts wait for the next start."""
        if self.worker is not None:
            self.worker.stop()
        if self.alert_worker is not None:
            self.alert_worker.stop()


def create_wsgi_app(
    app: App,
    *,
    store: AuditStore,
    inbound: InboundProcessor | None = None,
    callback_token: str | None = None,
    callback_gate: CallbackGate | None = None,
    metrics_token: str | None = None,
    start_worker: bool = True,
    alerts: AlertHandler | None = None,
    commands: CommandQueue | None = None,
) -> WebApp:
    """Route ``POST /slack/events`` to Bolt, ``GET /healthz`` to a store ping,
    ``POST /octopush/callback/<token>`` to the callback inbox (stored, then answered)
    and ``GET /metrics`` to Prometheus (with ``Authorization: Bearer <metrics_token>``).

    ``callback_gate`` says which callbacks are let in (tokens, allow-list, proxies);
    ``callback_token`` alone is short for a gate of that one token.

    With ``inbound``, an :class:`InboxWorker` handles the stored callbacks (started
    unless ``start_worker`` is false); :meth:`WebApp.close` stops it. With ``alerts``,
    ``POST /hooks/...`` stores alert events and an :class:`AlertWorker` handles them.
    With ``commands``, ``/healthz`` also says whether a sender is alive, and fails
    when a stored ``/sms`` command has waited a minute with none.
    """
    slack = metrics.timed_ack(SlackRequestHandler(app, path=SLACK_PATH))
    inbox = CallbackInbox(store) if inbound is not None else None
    worker = (
        InboxWorker(inbox, inbound, on_outcome=metrics.record_callback)
        if inbox and inbound
        else None
    )
    if worker is not None and start_worker:
        worker.start()
    gate = callback_gate or CallbackGate.for_token(callback_token)
    alert_worker = (
        AlertWorker(alerts, record=metrics.record_alert_event)
        if alerts is not None
        else None
    )
    if alert_worker is not None and start_worker:
        alert_worker.start()
    hooks = (
        Hooks(
            alerts.directory,
            alerts.inbox,
            wake=alert_worker.wake if alert_worker else lambda: None,
            record=metrics.record_alert_event,
        )
        if alerts is not None
        else None
    )

    def hook(
        environ: dict[str, Any], start_response: StartResponse, path: str
    ) -> Iterable[bytes]:
        if hooks is None:
            return _json(start_response, "404 Not Found", {"error": "not found"})
        answer = hooks.answer(path, environ, lambda limit: _read_body(environ, limit))
        data = json.dumps(answer.body or {}).encode()
        start_response(
            answer.status,
            [
                ("Content-Type", "application/json"),
                ("Content-Length", str(len(data))),
                *answer.headers,
            ],
        )
        return [data]

    def callback(
        environ: dict[str, Any], start_response: StartResponse, token: str
    ) -> Iterable[bytes]:
        refusal = None if inbox is None else gate.refusal(token, environ)
        if inbox is None or refusal is not None:
            # The same 404 whatever the reason: the allow-list is not for outsiders to
            # map. Never log the token: it is the guard of this URL.
            reason = refusal or Refusal.TOKEN
            metrics.record_callback_refused(reason.value)
            logger.warning(
                "Octopush callback refused: %s (from %s, peer %s)",
                _REFUSALS[reason],
                gate.client_address(environ) or "an unreadable address",
                environ.get("REMOTE_ADDR"),
            )
            return _json(start_response, "404 Not Found", {"error": "not found"})
        body = _read_body(environ, CALLBACK_MAX_BYTES)
        try:
            if not inbox.put(body, environ.get("CONTENT_TYPE")):
                metrics.record_callback("duplicate")
        except AuditStoreError as error:
            # Not stored, so not answered 200: Octopush sends it again later.
            metrics.record_callback("unavailable")
            logger.error("Octopush callback not stored, answered 503: %s", error)
            start_response(
                "503 Service Unavailable",
                [("Content-Length", "0"), ("Retry-After", "30")],
            )
            return [b""]
        if worker is not None:
            worker.wake()
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
        body: dict[str, Any] = {"status": "ok", "audit_store": "ok"}
        if commands is not None:
            try:
                state = sender_health(commands)
            except AuditStoreError as error:
                logger.error("health check: command queue unavailable: %s", error)
                body.update(status="error", command_queue="down")
                return _json(start_response, "503 Service Unavailable", body)
            body["sender"] = "alive" if state.alive else "not seen"
            if state.waiting is not None:
                body["oldest_command_waiting_s"] = round(state.waiting.total_seconds())
            if state.stalled:
                logger.error(
                    "health check: a stored /sms command has waited %d s and no sender "
                    "is alive (start `sms-bot sender`, or set SMS_SENDER=process)",
                    state.waiting.total_seconds() if state.waiting else 0,
                )
                body["status"] = "error"
                return _json(start_response, "503 Service Unavailable", body)
        return _json(start_response, "200 OK", body)

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
        data, content_type = metrics.render(store, commands)
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
        if path.startswith(HOOKS_PREFIX):
            if method != "POST":
                return _json(
                    start_response, "405 Method Not Allowed", {"error": "POST only"}
                )
            return hook(environ, start_response, path)
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

    return WebApp(wsgi, worker, inbox, alert_worker)


#: What the log says of each refusal (operators read it; English, with setting names).
_REFUSALS = {
    Refusal.TOKEN: "unknown token",
    Refusal.SOURCE: "address not in OCTOPUSH_CALLBACK_ALLOW",
}


def _read_body(environ: dict[str, Any], limit: int) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    stream = environ["wsgi.input"]
    return bytes(stream.read(min(length, limit))) if length > 0 else b""


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
    from bot.config import load_settings, terminal_language
    from bot.errors import SettingsError
    from bot.i18n import translator
    from bot.log import configure_logging
    from bot.runtime.slack_app import build_stack
    from bot.runtime.wiring import OCTOPUSH_REQUIRED, secrets_of
    from bot.sending.recovery import start_recovery

    try:
        settings = load_settings(
            required=("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", *OCTOPUSH_REQUIRED)
        )
        configure_logging("INFO", secrets=secrets_of(settings))
        # Served over HTTP, so signed requests only, even with SLACK_APP_TOKEN set.
        stack = build_stack(settings, transport="http")
    except SettingsError as error:
        print(error.report(translator(terminal_language())), file=sys.stderr)
        # Gunicorn's "worker failed to boot" code: stop, rather than respawn forever.
        raise SystemExit(GUNICORN_BOOT_ERROR) from None
    start_recovery(stack.service, report=stack.announce)
    stack.start_workers(escalation_check_seconds=settings.sms.escalation_check_seconds)
    scrape_token = settings.sms.metrics_token
    return create_wsgi_app(
        stack.app,
        store=stack.service.store,
        inbound=stack.inbound,
        callback_gate=CallbackGate.from_settings(settings),
        metrics_token=scrape_token.get_secret_value() if scrape_token else None,
        alerts=stack.alerts,
        commands=stack.sender.queue if stack.sender is not None else None,
    )
