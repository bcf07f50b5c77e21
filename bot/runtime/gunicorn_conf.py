"""Gunicorn settings shared by the Procfile and ``sms-bot serve``.

One worker process with threads: listeners are I/O-bound, and lazy listeners run on the
worker's thread pool. Scale out with more instances behind a load balancer sharing one
PostgreSQL (see README, Deploying).

Nothing is read at import: gunicorn imports this module whenever a command line names
it, and a test or a tool may import it too. The settings are read when gunicorn starts a
run (:func:`on_starting`, in the master before it opens its socket): that binds
``PORT`` (unless ``--bind`` chose), or stops with one line per missing or malformed
setting. ``sms-bot serve`` already holds its settings and passes :data:`OPTIONS`,
:func:`bind_address` and the hooks to gunicorn itself. (A ``HUP`` reload re-reads this
module without ``on_starting``: gunicorn's own default bind, ``0.0.0.0:$PORT`` when
``PORT`` is set as on every platform that sets it, applies then.)
"""

from __future__ import annotations

import sys
from typing import Any

workers = 1
worker_class = "gthread"
threads = 8
timeout = 30
graceful_timeout = 20
accesslog = "-"
logger_class = "bot.runtime.gunicorn_log.RedactingLogger"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(D)sus'


def bind_address(port: int) -> str:
    """Every interface on ``port``: the platform's router reaches the dyno from outside."""
    return f"0.0.0.0:{port}"


def on_starting(server: Any) -> None:
    """Gunicorn hook, once in the master before it listens: settings, port, metrics."""
    from bot.config import load_settings, terminal_language
    from bot.errors import SettingsError
    from bot.i18n import translator

    try:
        port = load_settings().port
    except SettingsError as error:
        print(error.report(translator(terminal_language())), file=sys.stderr)
        raise SystemExit(2) from None
    bind = server.cfg.settings["bind"]
    if bind.value == bind.default:  # a --bind on the command line still wins
        server.cfg.set("bind", [bind_address(port)])
    prepare_metrics(server)


def prepare_metrics(server: object) -> None:
    """In the master, before any worker: a clean directory for multiprocess metrics."""
    from bot.runtime.metrics import prepare_multiprocess_dir

    prepare_multiprocess_dir()


def when_ready(server: object) -> None:
    """Gunicorn hook, in the master once it listens: start the sender beside the web
    process (``SMS_SENDER=process``), so one command still runs a whole bot."""
    from bot.config import load_settings
    from bot.runtime.sender_process import start_sender_child

    start_sender_child(load_settings())


def on_exit(server: object) -> None:
    """Gunicorn hook, in the master as it exits: stop the sender (sends in hand finish)."""
    from bot.runtime.sender_process import stop_sender_child

    stop_sender_child()


def child_exit(server: object, worker: object) -> None:
    """A worker is gone: its live gauges must not linger in ``/metrics``."""
    from bot.runtime.metrics import mark_process_dead

    mark_process_dead(int(getattr(worker, "pid", 0)))


#: The settings above by gunicorn name, for ``sms-bot serve`` (gunicorn ignores this
#: upper-case name when it reads the module). ``serve`` binds and runs
#: :func:`prepare_metrics` itself, as it has read the settings already.
OPTIONS: dict[str, object] = {
    "workers": workers,
    "worker_class": worker_class,
    "threads": threads,
    "timeout": timeout,
    "graceful_timeout": graceful_timeout,
    "accesslog": accesslog,
    "logger_class": logger_class,
    "access_log_format": access_log_format,
    "child_exit": child_exit,
    "when_ready": when_ready,
    "on_exit": on_exit,
}
