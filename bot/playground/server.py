"""A small threaded WSGI server on 127.0.0.1 (the standard library's, without access logs).

Threaded because the page's requests wait on the bot, which calls the stand-ins back
on the same port.
"""

from __future__ import annotations

import socketserver
import threading
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

HOST = "127.0.0.1"


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return


class _ThreadingServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64


class LocalServer:
    """Binds at once (``port=0`` picks a free one); serves ``app`` after :meth:`start`."""

    def __init__(self, port: int) -> None:
        self._server = _ThreadingServer((HOST, port), _Quiet)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="playground-http", daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self._server.server_port}"

    def start(self, app: Any) -> None:
        self._server.set_app(app)
        self._thread.start()

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()
