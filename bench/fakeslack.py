"""The test suite's fake Slack Web API, run as its own process for the benchmarks.

A benchmark needs to know when the lazy work finished (the ``chat.postMessage`` of a
result, the ``views.open`` of a form) without polling: every call is time-stamped, and
a small control server answers ``/count`` and a blocking ``/wait``. Prints
``{"api_url": ..., "control_url": ...}`` on its first line, then serves until killed.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.fakes.slack import FakeSlack, SlackCall

#: Room for a burst of new connections: the fake speaks HTTP/1.0, one per call.
BACKLOG = 128


class TimedCalls(list[SlackCall]):
    """The fake's call list, noting when each call arrived and waking waiters."""

    def __init__(self) -> None:
        super().__init__()
        self.arrived: dict[str, list[float]] = {}
        self.changed = threading.Condition()

    def append(self, call: SlackCall) -> None:
        now = time.monotonic()
        with self.changed:
            super().append(call)
            self.arrived.setdefault(call.method, []).append(now)
            self.changed.notify_all()

    def count_of(self, method: str) -> int:
        with self.changed:
            return len(self.arrived.get(method, ()))

    def wait(self, method: str, count: int, timeout: float) -> float | None:
        """The arrival time of call number ``count`` of ``method``, or ``None``."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while len(self.arrived.get(method, ())) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.changed.wait(left)
            return self.arrived[method][count - 1]


def control_server(calls: TimedCalls) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            return

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = {key: values[0] for key, values in parse_qs(parts.query).items()}
            method = query.get("method", "")
            if parts.path == "/count":
                body: dict[str, Any] = {"count": calls.count_of(method)}
            elif parts.path == "/wait":
                timeout = min(float(query.get("timeout", "10")), 300.0)
                found = calls.wait(method, int(query.get("count", "1")), timeout)
                body = {"time": found}
            else:
                self.send_error(404)
                return
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    return server


def main() -> None:
    slack = FakeSlack()
    calls = TimedCalls()
    slack.state.calls = calls
    slack._server.socket.listen(BACKLOG)  # the fake's default backlog is 5
    # It writes headers and body separately: without TCP_NODELAY the body waits for
    # the client's delayed ACK (40 ms per call on Linux), which is no Slack's doing.
    slack._server.RequestHandlerClass.disable_nagle_algorithm = True  # type: ignore[attr-defined]
    slack.start()
    control = control_server(calls)
    threading.Thread(target=control.serve_forever, daemon=True).start()
    urls = {
        "api_url": slack.api_url,
        "control_url": f"http://127.0.0.1:{control.server_port}",
    }
    print(json.dumps(urls), flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        control.shutdown()
        slack.stop()


if __name__ == "__main__":
    main()
