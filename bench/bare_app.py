"""The floor: a bare Bolt app that only acks ``/sms``, served like sms-bot.

Same Bolt mode as ``bot/app.py`` (``process_before_response=True``, a lazy listener,
a token checked once with ``auth.test`` against ``SLACK_API_URL``) and the same WSGI
adapter, so the ack path differs from ours only by what our listeners do. Gunicorn
serves it with ``bot/gunicorn_conf.py``: ``bench.bare_app:application()``.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterable
from typing import Any

import requests
from slack_bolt import Ack, App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def _ack(ack: Ack) -> None:
    ack()


def _nothing() -> None:
    """The lazy listener: scheduled on Bolt's executor like ours, does no work."""


def _sender() -> Callable[..., None]:
    """A lazy listener doing only the two calls a send needs: Octopush, then the post.

    No parsing, rules, audit trail or guard rails: the floor of a send under Bolt.
    """
    octopush = requests.Session()
    url = os.environ["OCTOPUSH_BASE_URL"].rstrip("/") + "/sms-campaign/send"
    headers = {
        "api-login": os.environ["OCTOPUSH_API_LOGIN"],
        "api-key": os.environ["OCTOPUSH_API_KEY"],
        "Content-Type": "application/json",
    }

    def send(command: dict[str, Any], client: WebClient) -> None:
        number, _, text = str(command.get("text", "")).partition(" ")
        body = {
            "text": text,
            "recipients": [{"phone_number": number}],
            "type": "sms_premium",
            "purpose": "alert",
            "request_id": f"bare-{uuid.uuid4().hex}",
        }
        answer = octopush.post(url, data=json.dumps(body), headers=headers, timeout=10)
        ticket = answer.json()["sms_ticket"]
        client.chat_postMessage(channel=command["channel_id"], text=f"sent: {ticket}")

    return send


def build_app() -> App:
    """``BENCH_BARE_SENDS=1`` makes the lazy listener send (see :func:`_sender`)."""
    client = WebClient(
        token=os.environ["SLACK_BOT_TOKEN"],
        base_url=os.environ.get("SLACK_API_URL", "http://127.0.0.1:9/api/"),
    )
    app = App(
        client=client,
        signing_secret=os.environ["SLACK_SIGNING_SECRET"],
        process_before_response=True,
    )
    lazy = _sender() if os.environ.get("BENCH_BARE_SENDS") == "1" else _nothing
    app.command("/sms")(ack=_ack, lazy=[lazy])
    return app


def application() -> WSGIApp:
    """Gunicorn factory: ``/slack/events`` to Bolt, ``/healthz`` a constant 200."""
    slack = SlackRequestHandler(build_app(), path="/slack/events")

    def wsgi(
        environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/healthz":
            body = b'{"status": "ok"}'
            start_response(
                "200 OK",
                [
                    ("Content-Type", "application/json"),
                    ("Content-Length", str(len(body))),
                ],
            )
            return [body]
        return slack(environ, start_response)

    return wsgi
