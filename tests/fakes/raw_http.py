"""Octopush fakes for fault and concurrency tests, on 127.0.0.1 only.

``RecordingOctopush`` is a threaded HTTP server (unlike pytest-httpserver, which answers
one request at a time) that keeps every body it received and answers through a
function, so 50 clients at once get quick answers. ``RawHttpServer`` speaks HTTP by
hand on a socket the test owns, so it can do what no HTTP framework will: cut an
answer off mid-body, or only start accepting once the test says so (a socket that
refused or timed out connections first can then serve the next send).
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.fakes.serving import SHUTDOWN_POLL

#: An answer: HTTP status and a JSON body.
Answer = tuple[int, dict[str, Any]]


def ticket_for(number: int) -> dict[str, Any]:
    """A 201 body like Octopush's, with a ticket unique to the ``number``-th send."""
    return {
        "sms_ticket": f"sms_rec{number:04d}",
        "number_of_contacts": 1,
        "total_cost": 0.0333,
        "number_of_sms_needed": 1,
        "residual_credit": 99.5,
    }


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # 50 simultaneous connects must not overflow the backlog


class RecordingOctopush:
    """Answers ``POST`` with ``respond(body, number)``; ``bodies`` holds what came in.

    ``number`` counts sends from 1 in arrival order. The default answer is a 201 with a
    distinct ticket. Use as a context manager.
    """

    def __init__(self, respond: Callable[[dict[str, Any], int], Answer] | None = None):
        self.bodies: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._respond = respond or (lambda body, number: (201, ticket_for(number)))
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                body = json.loads(raw)
                with fake._lock:
                    fake.bodies.append(body)
                    number = len(fake.bodies)
                status, answer = fake._respond(body, number)
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

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}/v1/public"

    def __enter__(self) -> RecordingOctopush:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def http_answer(
    status: str, body: bytes, content_type: str = "application/json"
) -> bytes:
    """A complete HTTP/1.1 answer that closes the connection, e.g. ``"201 Created"``."""
    head = (
        f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body


def _read_request(conn: socket.socket) -> bytes | None:
    """The body of one HTTP request, or ``None`` if the peer closed before sending one."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        body += chunk
    return body


class RawHttpServer:
    """Serves connections on ``sock`` (already listening) by hand, one at a time.

    The n-th request gets ``answers[n]`` (the last one again once they run out),
    written as raw bytes; then the connection is closed, whatever the bytes promised.
    ``bodies`` holds the JSON request bodies. Stops (and closes ``sock``) on exit.
    """

    def __init__(self, sock: socket.socket, answers: list[bytes]) -> None:
        self.sock = sock
        self.answers = answers
        self.bodies: list[dict[str, Any]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        self.sock.settimeout(0.05)
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(5)
                try:
                    body = _read_request(conn)
                    if body is None:  # a filler connection the test already closed
                        continue
                    self.bodies.append(json.loads(body))
                    answer = self.answers[min(len(self.bodies), len(self.answers)) - 1]
                    conn.sendall(answer)
                except OSError:
                    continue

    def __enter__(self) -> RawHttpServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.sock.close()
