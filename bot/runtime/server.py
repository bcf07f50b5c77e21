"""``sms-bot serve``: gunicorn (HTTP mode) or a Socket Mode connection.

HTTP mode runs the very gunicorn configuration and app factory the Procfile names, so
the documented command and production cannot drift apart.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from types import FrameType
from typing import Any

from bot.config import Settings

logger = logging.getLogger(__name__)


def serve(settings: Settings) -> int:
    """Serve until stopped: Socket Mode with ``SLACK_APP_TOKEN``, else HTTP on ``PORT``.

    The choice made here is passed on to the app as its transport: the HTTP app checks
    every request's signature whatever else is set (``application()`` re-reads the
    settings, and gunicorn may run it from the Procfile with an app token around).
    """
    if settings.slack.app_token is not None:
        return _serve_socket_mode(settings)
    return _serve_http(settings)


def _serve_http(settings: Settings) -> int:
    from gunicorn.app.base import BaseApplication

    from bot.runtime import gunicorn_conf
    from bot.runtime.slack_app import check_transport
    from bot.runtime.web import application

    check_transport(settings, "http")

    bind = gunicorn_conf.bind_address(settings.port)

    class _Gunicorn(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for key, value in gunicorn_conf.OPTIONS.items():
                self.cfg.set(key, value)
            self.cfg.set("bind", [bind])
            self.cfg.set("on_starting", gunicorn_conf.prepare_metrics)

        def load(self) -> Any:
            return application()

    logger.warning(
        "serving HTTP on %s (POST /slack/events, GET /healthz, GET /metrics)", bind
    )
    _Gunicorn().run()
    return 0


def _serve_socket_mode(settings: Settings) -> int:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    from bot.runtime.sender_process import start_sender_child, stop_sender_child
    from bot.runtime.slack_app import build_stack
    from bot.sending.recovery import start_recovery

    token = settings.slack.app_token
    if token is None:
        raise ValueError("Socket Mode needs SLACK_APP_TOKEN")
    stack = build_stack(settings, transport="socket")
    start_recovery(stack.service, report=stack.announce)
    stack.start_workers(escalation_check_seconds=settings.sms.escalation_check_seconds)
    if settings.octopush.callback_token is not None:
        logger.warning(
            "Socket Mode has no public URL: Octopush callbacks (receipts, replies) need "
            "HTTP mode; they are not received"
        )
    logger.warning("connecting to Slack in Socket Mode")
    handler = SocketModeHandler(stack.app, token.get_secret_value())
    start_sender_child(settings)
    stopping = threading.Event()

    def interrupt(signum: int, frame: FrameType | None) -> None:
        if not stopping.is_set():  # once: the second SIGTERM must not cut the stop
            stopping.set()
            raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        handler.connect()  # type: ignore[no-untyped-call]
        while True:
            time.sleep(0.2)  # wakes the main thread for a signal another thread got
    except KeyboardInterrupt:
        stopping.set()
        logger.warning("stopping: commands in hand finish first")
    finally:
        handler.close()  # type: ignore[no-untyped-call]
        stop_sender_child()
        stack.stop_workers()
        signal.signal(signal.SIGTERM, previous)
    return 0
