"""The playground's one WSGI app: the page, its JSON API, the two stand-ins, and the bot.

``/slack/events``, ``/octopush/callback/…`` and ``/healthz`` go to the bot's own WSGI
app (:func:`bot.runtime.web.create_wsgi_app`), untouched; ``/slack-api/`` and
``/slack-hooks/`` are the Slack stand-in, ``/octopush-sim/v1/public/`` the gateway,
``/ui/`` what the page calls, ``/ui-alert/`` the *Fire an alert* control (it plays
Alertmanager, :mod:`bot.playground.alerts`), and everything else the static page.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import requests

from bot.playground.alerts import AlertError, AlertFirer
from bot.playground.octopush_sim import OctopushSimulator
from bot.playground.slack_api import SlackWebApi
from bot.playground.ui import UiApi, UiError

logger = logging.getLogger(__name__)

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

STATIC = Path(__file__).parent / "static"
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
}
BODY_MAX = 1024 * 1024


class PlaygroundSite:
    """Routes by path; the bot's WSGI app is plugged in once it is built."""

    def __init__(
        self, *, slack: SlackWebApi, octopush: OctopushSimulator, ui: UiApi
    ) -> None:
        self.slack = slack
        self.octopush = octopush
        self.ui = ui
        self.bot: WSGIApp | None = None
        self.alerts: AlertFirer | None = None

    def __call__(
        self, environ: dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "") or "/"
        method = environ.get("REQUEST_METHOD", "GET")
        if path.startswith("/slack-api/"):
            return self._slack_api(environ, start_response, path[len("/slack-api/") :])
        if path.startswith("/slack-hooks/") and method == "POST":
            return self._hook(environ, start_response, path[len("/slack-hooks/") :])
        if path.startswith("/octopush-sim/v1/public/"):
            sub = path[len("/octopush-sim/v1/public") :]
            headers = {
                "api-login": environ.get("HTTP_API_LOGIN", ""),
                "api-key": environ.get("HTTP_API_KEY", ""),
            }
            status, body = self.octopush.handle(method, sub, headers, _body(environ))
            if status == 204:  # a cancel: no content
                return _text(start_response, 204, "")
            return _json(start_response, status, body)
        if path.startswith("/ui-alert/") and method == "POST":
            return self._alert(start_response, path[len("/ui-alert/") :])
        if path.startswith("/ui/"):
            return self._ui(environ, start_response, method, path[len("/ui/") :])
        if path in ("/", "/index.html") or path.startswith("/static/"):
            return _static(start_response, path)
        if self.bot is None:
            return _json(start_response, 503, {"error": "the bot is starting"})
        return self.bot(environ, start_response)

    def _slack_api(
        self, environ: dict[str, Any], start_response: StartResponse, method: str
    ) -> Iterable[bytes]:
        args: dict[str, Any] = {
            k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()
        }
        raw = _body(environ)
        if "json" in environ.get("CONTENT_TYPE", ""):
            try:
                loaded = json.loads(raw or b"{}")
            except ValueError:
                return _json(
                    start_response, 200, {"ok": False, "error": "invalid_json"}
                )
            args.update(loaded if isinstance(loaded, dict) else {})
        elif raw:
            args.update({k: v[0] for k, v in parse_qs(raw.decode()).items()})
        auth = environ.get("HTTP_AUTHORIZATION", "")
        token = auth.removeprefix("Bearer ").strip() or args.pop("token", None)
        answer, headers = self.slack.handle(method.strip("/"), args, token)
        return _json(start_response, 200, answer, headers)

    def _hook(
        self, environ: dict[str, Any], start_response: StartResponse, hook: str
    ) -> Iterable[bytes]:
        try:
            payload = json.loads(_body(environ) or b"{}")
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            return _text(start_response, 400, "invalid_payload")
        status, text = self.slack.respond(hook, payload)
        return _text(start_response, status, text)

    def _ui(
        self,
        environ: dict[str, Any],
        start_response: StartResponse,
        method: str,
        name: str,
    ) -> Iterable[bytes]:
        if method == "GET" and name == "state":
            query = {
                k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()
            }
            return _json(start_response, 200, self.ui.state(query))
        if method != "POST":
            return _json(start_response, 405, {"error": "POST only"})
        try:
            data = json.loads(_body(environ) or b"{}")
            if not isinstance(data, dict):
                raise UiError("the body must be a JSON object")
            return _json(start_response, 200, self.ui.do(name, data))
        except (UiError, ValueError) as error:
            return _json(start_response, 400, {"error": str(error)})

    def _alert(self, start_response: StartResponse, status: str) -> Iterable[bytes]:
        """Fire or resolve the sample alert; the app's own answer goes to the page."""
        if self.alerts is None:
            return _json(start_response, 503, {"error": "the bot is starting"})
        try:
            return _json(start_response, 200, self.alerts.send(status))
        except AlertError as error:
            return _json(start_response, 400, {"error": str(error)})
        except requests.RequestException:
            logger.warning("the sample alert did not reach the app", exc_info=True)
            return _json(start_response, 502, {"error": "the app did not answer"})


def _body(environ: dict[str, Any]) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    return (
        bytes(environ["wsgi.input"].read(min(length, BODY_MAX))) if length > 0 else b""
    )


def _static(start_response: StartResponse, path: str) -> Iterable[bytes]:
    name = "index.html" if path in ("/", "/index.html") else path[len("/static/") :]
    file = STATIC / name
    if "/" in name or name.startswith(".") or not file.is_file():
        return _json(start_response, 404, {"error": "not found"})
    data = file.read_bytes()
    start_response(
        "200 OK",
        [
            ("Content-Type", _TYPES.get(file.suffix, "application/octet-stream")),
            ("Content-Length", str(len(data))),
            ("Cache-Control", "no-store"),
        ],
    )
    return [data]


_REASONS = {
    200: "OK",
    201: "Created",
    204: "No Content",
    400: "Bad Request",
    401: "Unauthorized",
}


def _status(code: int) -> str:
    return f"{code} {_REASONS.get(code, 'Status')}"


def _json(
    start_response: StartResponse,
    status: int,
    body: dict[str, Any],
    headers: dict[str, str] | None = None,
) -> list[bytes]:
    data = json.dumps(body).encode()
    start_response(
        _status(status),
        [
            ("Content-Type", "application/json; charset=utf-8"),
            ("Content-Length", str(len(data))),
            *(headers or {}).items(),
        ],
    )
    return [data]


def _text(start_response: StartResponse, status: int, text: str) -> list[bytes]:
    data = text.encode()
    start_response(
        _status(status),
        [("Content-Type", "text/plain"), ("Content-Length", str(len(data)))],
    )
    return [data]
