"""Gunicorn settings shared by the Procfile and ``sms-bot serve``.

One worker process with threads: listeners are I/O-bound, and lazy listeners run on the
worker's thread pool. Scale out with more instances behind a load balancer sharing one
PostgreSQL (see README, Deploying).
"""

from __future__ import annotations

import sys

from bot.config import load_settings
from bot.errors import SettingsError

try:
    _port = load_settings().port
except SettingsError as _error:
    print("sms-bot: settings are missing or malformed:", file=sys.stderr)
    for _line in _error.problems:
        print(f"  {_line}", file=sys.stderr)
    raise SystemExit(2) from None

bind = f"0.0.0.0:{_port}"
workers = 1
worker_class = "gthread"
threads = 8
timeout = 30
graceful_timeout = 20
accesslog = "-"
logger_class = "bot.runtime.gunicorn_log.RedactingLogger"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(D)sus'


def on_starting(server: object) -> None:
    """In the master, before any worker: a clean directory for multiprocess metrics."""
    from bot.runtime.metrics import prepare_multiprocess_dir

    prepare_multiprocess_dir()


def child_exit(server: object, worker: object) -> None:
    """A worker is gone: its live gauges must not linger in ``/metrics``."""
    from bot.runtime.metrics import mark_process_dead

    mark_process_dead(int(getattr(worker, "pid", 0)))
