"""A fake Octopush that keeps Octopush's promise about ``request_id``, with faults.

The first request with a ``request_id`` sends (201, a ticket of its own); a repeat of
one that sent gets code 120, as Octopush answers within 24 hours. A refused request
(``refuse_next``) sends nothing, so a repeat of it would send. So the fake knows exactly which
SMS went out, however often the bot retried. Faults for the next send: answer late
(``stall``: the SMS went out, the client timed out) or cut the connection after
accepting it (``drop``).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.fakes.serving import SHUTDOWN_POLL

DUPLICATE = {"code": 120, "message": "request_id already used"}


@dataclass(frozen=True)
class Received:
    """One send request as it arrived, and whether it sent anything."""

    request_id: str
    numbers: tuple[str, ...]
    text: str
    #: True when this request sent the SMS (the first with its request_id).
    accepted: bool
    ticket: str | None


class _Server(ThreadingHTTPServer):
    daemon_threads = True


class FaultyOctopush:
    """Start with :meth:`start`; ``url`` goes where ``OCTOPUSH_BASE_URL`` would."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        #: Seconds to hold the answer of the next accepted send (then answered).
        self.stall_next = 0.0
        #: Close the connection of the next accepted send without answering.
        self.drop_next = False
        #: Refuse the next new send with this Octopush error body (nothing goes out).
        self.refuse_next: dict[str, Any] | None = None
        #: How many answers were held or cut as asked.
        self.faults_done = 0
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                body = json.loads(raw)
                status, answer, stall, drop = fake._take(body)
                if drop:
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if stall:
                    time.sleep(stall)
                data = json.dumps(answer).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    self.close_connection = True

        self._server = _Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": SHUTDOWN_POLL},
            daemon=True,
        )

    def _take(self, body: dict[str, Any]) -> tuple[int, dict[str, Any], float, bool]:
        request_id = str(body.get("request_id"))
        numbers = tuple(r["phone_number"] for r in body.get("recipients", []))
        with self._lock:
            accepted = all(
                r.request_id != request_id or not r.accepted for r in self.received
            )
            refusal, self.refuse_next = (
                (self.refuse_next, None) if accepted else (None, self.refuse_next)
            )
            if refusal is not None:
                self.received.append(
                    Received(request_id, numbers, str(body.get("text")), False, None)
                )
                self.faults_done += 1
                return 400, refusal, 0.0, False
            ticket = f"sms_fault{len(self.received) + 1:04d}" if accepted else None
            self.received.append(
                Received(request_id, numbers, str(body.get("text")), accepted, ticket)
            )
            stall, drop = 0.0, False
            if accepted:
                stall, self.stall_next = self.stall_next, 0.0
                drop, self.drop_next = self.drop_next, False
                self.faults_done += int(bool(stall) or drop)
        if not accepted:
            return 400, DUPLICATE, 0.0, False
        answer = {
            "sms_ticket": ticket,
            "number_of_contacts": len(numbers),
            "total_cost": 0.0333 * len(numbers),
            "number_of_sms_needed": len(numbers),
            "residual_credit": 99.5,
        }
        return 201, answer, stall, drop

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}/v1/public"

    def sent(self) -> list[Received]:
        """The requests that sent an SMS (each request_id once)."""
        with self._lock:
            return [r for r in self.received if r.accepted]

    def sent_to(self, number: str) -> list[Received]:
        return [r for r in self.sent() if number in r.numbers]

    def start(self) -> FaultyOctopush:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
