"""A fake Octopush v1 API on 127.0.0.1: answers sends and balance checks like Octopush.

Real HTTP/1.1 with keep-alive, threaded, so the real ``OctopushClient`` (its
urllib3 pool, headers, JSON, timeouts) runs against it. ``delay`` makes
every answer late, to stand in for a slow gateway. Used by the benchmarks in ``bench/``;
``python -m tests.fakes.octopush --delay 0.1`` runs it alone and prints its base URL.

Control (for a fake in another process): ``GET /_fake/stats`` returns the counters,
``POST /_fake/delay?seconds=S`` changes the delay, ``POST /_fake/reset`` zeroes counters.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.fakes.serving import SHUTDOWN_POLL

SEND_PATH = "/v1/public/sms-campaign/send"
BALANCE_PATH = "/v1/public/wallet/check-balance"
COST_PER_SMS = 0.0333


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # a burst of new connections must not hit a full backlog


@dataclass
class FakeOctopushState:
    """Counters of what the fake received; ``send_times`` are ``time.monotonic()`` values."""

    delay: float = 0.0
    sends: int = 0
    recipients: int = 0
    balance_checks: int = 0
    rejected: int = 0
    credit: float = 1_000_000.0
    send_times: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {
                "delay": self.delay,
                "sends": self.sends,
                "recipients": self.recipients,
                "balance_checks": self.balance_checks,
                "rejected": self.rejected,
                "send_times": list(self.send_times),
            }

    def reset(self) -> None:
        with self.lock:
            self.sends = self.recipients = self.balance_checks = self.rejected = 0
            self.send_times.clear()


class FakeOctopush:
    """Start with ``FakeOctopush(delay=...).start()``; ``url`` goes into ``OCTOPUSH_BASE_URL``."""

    def __init__(self, *, delay: float = 0.0, port: int = 0) -> None:
        self.state = FakeOctopushState(delay=delay)
        state = self.state

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, like the real gateway
            # Headers and body go out in two writes: without TCP_NODELAY the body
            # waits for the client's delayed ACK, 40 ms per answer on Linux.
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:
                return

            def do_GET(self) -> None:
                path = urlsplit(self.path).path
                if path == "/_fake/stats":
                    self._json(200, state.snapshot())
                elif path == BALANCE_PATH:
                    if not self._authorized():
                        return
                    with state.lock:
                        state.balance_checks += 1
                        credit = state.credit
                    self._late()
                    self._json(200, {"amount": round(credit, 4), "unit": "credit"})
                else:
                    self._json(404, {"code": 404, "message": "not found"})

            def do_POST(self) -> None:
                parts = urlsplit(self.path)
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if parts.path == "/_fake/delay":
                    seconds = float(parse_qs(parts.query).get("seconds", ["0"])[0])
                    with state.lock:
                        state.delay = seconds
                    self._json(200, {"delay": seconds})
                elif parts.path == "/_fake/reset":
                    state.reset()
                    self._json(200, {"reset": True})
                elif parts.path == SEND_PATH:
                    if self._authorized():
                        self._send(raw)
                else:
                    self._json(404, {"code": 404, "message": "not found"})

            def _authorized(self) -> bool:
                if self.headers.get("api-login") and self.headers.get("api-key"):
                    return True
                self._json(
                    401, {"code": 101, "message": "Invalid api-login or api-key"}
                )
                return False

            def _send(self, raw: bytes) -> None:
                received = time.monotonic()
                try:
                    body = json.loads(raw)
                    count = len(body["recipients"])
                except (ValueError, KeyError, TypeError):
                    with state.lock:
                        state.rejected += 1
                    self._json(400, {"code": 100, "message": "invalid JSON body"})
                    return
                with state.lock:
                    state.sends += 1
                    state.recipients += count
                    state.send_times.append(received)
                    number = state.sends
                    state.credit -= count * COST_PER_SMS
                    credit = state.credit
                self._late()
                self._json(
                    201,
                    {
                        "sms_ticket": f"sms_fake{number:08d}",
                        "number_of_contacts": count,
                        "number_of_sms_needed": 1,
                        "total_cost": round(count * COST_PER_SMS, 4),
                        "residual_credit": round(credit, 4),
                    },
                )

            def _late(self) -> None:
                if state.delay > 0:
                    time.sleep(state.delay)

            def _json(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True  # the client gave up (its timeout)

        self._server = _Server(("127.0.0.1", port), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": SHUTDOWN_POLL},
            daemon=True,
        )

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    @property
    def url(self) -> str:
        """The base URL the client appends ``/sms-campaign/send`` to."""
        return f"{self.root}/v1/public"

    def start(self) -> FakeOctopush:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def main() -> None:
    """Serve until killed; print the base URL on the first line of stdout."""
    parser = argparse.ArgumentParser(description="A fake Octopush API on 127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds per answer")
    args = parser.parse_args()
    fake = FakeOctopush(delay=args.delay, port=args.port).start()
    print(fake.url, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()


if __name__ == "__main__":
    main()
