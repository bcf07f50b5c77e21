"""A fake Slack Web API on 127.0.0.1: records every call, answers like Slack does.

Real HTTP, so the real ``WebClient`` and ``WebhookClient`` code paths (headers, JSON,
timeouts) run in tests. ``/webhook/...`` stands in for ``response_url``. Faults per
method: ``failures`` (``ok: false``), ``stalls`` (answer late) and ``drops`` (close the
connection without answering).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from tests.fakes.serving import SHUTDOWN_POLL


@dataclass
class SlackCall:
    method: str
    args: dict[str, Any]
    headers: dict[str, str]
    #: What the fake answered (``ts`` of a posted message), once it has answered.
    answer: dict[str, Any] | None = None


@dataclass
class FakeSlackState:
    calls: list[SlackCall] = field(default_factory=list)
    profiles: dict[str, dict[str, Any]] = field(default_factory=dict)
    usergroups: dict[str, list[str]] = field(default_factory=dict)
    #: user id -> Slack locale (``fr-FR``) that ``users.info`` gives with include_locale.
    locales: dict[str, str] = field(default_factory=dict)
    #: user id -> IANA time zone (``Europe/Zurich``) that ``users.info`` gives as ``tz``.
    timezones: dict[str, str] = field(default_factory=dict)
    scopes: str = (
        "chat:write,chat:write.public,commands,usergroups:read,"
        "users.profile:read,users:read"
    )
    #: user ids ``users.info`` calls workspace admins (``is_admin``).
    admins: set[str] = field(default_factory=set)
    #: user id -> the last Home view ``views.publish`` received for them.
    homes: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: method name -> Slack error code to answer with (``ok: false``).
    failures: dict[str, str] = field(default_factory=dict)
    #: method name -> Retry-After values: each call takes the next one and gets a 429.
    rate_limits: dict[str, list[int]] = field(default_factory=dict)
    webhook_status: int = 200
    #: method name -> seconds to wait before answering (a client timeout).
    stalls: dict[str, float] = field(default_factory=dict)
    #: method names whose connection is closed without an answer.
    drops: set[str] = field(default_factory=set)
    ts_counter: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class FakeSlack:
    """Start with ``FakeSlack().start()``; ``api_url`` goes into ``SLACK_API_URL``."""

    def __init__(self) -> None:
        self.state = FakeSlackState()
        state = self.state

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode() if length else ""
                if self.headers.get("Content-Type", "").startswith("application/json"):
                    args = json.loads(raw or "{}")
                else:
                    args = {k: v[0] for k, v in parse_qs(raw).items()}
                method = self.path.strip("/").split("?")[0]
                if method.startswith("api/"):
                    method = method[4:]
                call = SlackCall(
                    method, args, {k.lower(): v for k, v in self.headers.items()}
                )
                with state.lock:
                    state.calls.append(call)
                if method in state.drops:
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if method in state.stalls:
                    time.sleep(state.stalls[method])
                if method.startswith("webhook"):
                    self._send(
                        state.webhook_status,
                        b"ok" if state.webhook_status == 200 else b"error",
                        "text/plain",
                    )
                    return
                with state.lock:
                    waits = state.rate_limits.get(method)
                    retry_after = waits.pop(0) if waits else None
                status = 200
                if retry_after is not None:
                    body: dict[str, Any] = {"ok": False, "error": "ratelimited"}
                    headers = {"Retry-After": str(retry_after)}
                    status = 429
                else:
                    body, headers = _answer(state, method, args)
                call.answer = body
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            def _send(self, status: int, data: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": SHUTDOWN_POLL},
            daemon=True,
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    def webhook_url(self, name: str = "hook") -> str:
        return f"{self.url}/webhook/{name}"

    def start(self) -> FakeSlack:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def calls(self, method: str) -> list[SlackCall]:
        with self.state.lock:
            return [call for call in self.state.calls if call.method == method]

    def wait_for(
        self, method: str, count: int = 1, timeout: float = 5.0
    ) -> list[SlackCall]:
        """Lazy listeners run after the ack: wait until ``count`` calls of ``method`` arrived."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.calls(method)
            if len(found) >= count:
                return found
            time.sleep(0.01)
        raise AssertionError(
            f"expected {count} {method} call(s), got {len(self.calls(method))}: {self.methods()}"
        )

    def methods(self) -> list[str]:
        with self.state.lock:
            return [call.method for call in self.state.calls]


def _answer(
    state: FakeSlackState, method: str, args: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    if method in state.failures:
        return {"ok": False, "error": state.failures[method]}, {}
    if method == "auth.test":
        return (
            {
                "ok": True,
                "url": "https://test.slack.com/",
                "team": "Test",
                "user": "sms-bot",
                "team_id": "T1",
                "user_id": "UBOT",
                "bot_id": "B1",
            },
            {"x-oauth-scopes": state.scopes},
        )
    if method == "users.profile.get":
        profile = state.profiles.get(str(args.get("user")))
        if profile is None:
            return {"ok": False, "error": "user_not_found"}, {}
        return {"ok": True, "profile": profile}, {}
    if method in ("chat.postMessage", "chat.update"):
        with state.lock:
            state.ts_counter += 1
            ts = f"1700000000.{state.ts_counter:06d}"
        return {
            "ok": True,
            "channel": args.get("channel"),
            "ts": ts,
            "message": {"text": args.get("text")},
        }, {}
    if method == "users.list":
        members: list[dict[str, Any]] = [
            {"id": user_id, "locale": locale}
            for user_id, locale in state.locales.items()
        ]
        for member in members:
            if member["id"] in state.timezones:
                member["tz"] = state.timezones[member["id"]]
        return {"ok": True, "members": members, "response_metadata": {}}, {}
    if method == "users.info":
        user_id = str(args.get("user"))
        user: dict[str, Any] = {"id": user_id}
        if str(args.get("include_locale")).lower() in ("1", "true"):
            user["locale"] = state.locales.get(user_id, "en-US")
        if user_id in state.timezones:
            user["tz"] = state.timezones[user_id]
        if user_id in state.admins:
            user["is_admin"] = True
        return {"ok": True, "user": user}, {}
    if method == "usergroups.users.list":
        members = state.usergroups.get(str(args.get("usergroup")))
        if members is None:
            return {"ok": False, "error": "no_such_subteam"}, {}
        return {"ok": True, "users": members}, {}
    if method == "views.publish":
        view = args.get("view")
        view = json.loads(view) if isinstance(view, str) else dict(view or {})
        with state.lock:
            state.homes[str(args.get("user_id"))] = view
        return {"ok": True, "view": {**view, "id": "VHOME", "hash": "h1"}}, {}
    if method in ("functions.completeSuccess", "functions.completeError"):
        # A custom step ends once, with the id of the run Slack gave the app.
        if not str(args.get("function_execution_id") or "").startswith("Fx"):
            return {"ok": False, "error": "function_execution_not_found"}, {}
        return {"ok": True}, {}
    if method in ("views.open", "views.update", "views.push"):
        return {"ok": True, "view": {"id": "V1", "hash": "h1"}}, {}
    return {"ok": True}, {}
