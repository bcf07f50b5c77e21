"""``sms-bot playground``: the real app with a local Slack and simulated phones."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import webbrowser
from typing import Any

from bot.cli.support import EXIT_FAILED, EXIT_OK
from bot.log import configure_logging

DEFAULT_PORT = 3000


def add_playground_command(commands: Any) -> None:
    """Register ``playground`` on the ``sms-bot`` sub-command parser."""
    parser = commands.add_parser(
        "playground",
        help="try the bot in your browser: a local Slack channel and phones, "
        "nothing is sent",
        description="Run the real app on 127.0.0.1 against a local stand-in for "
        "Slack and a simulated Octopush gateway. Needs no settings; real credentials "
        "in the environment or .env are ignored.",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"port on 127.0.0.1 (default {DEFAULT_PORT}; 0 picks a free one)",
    )
    parser.add_argument(
        "--open", action="store_true", help="open the page in the default browser"
    )
    parser.set_defaults(handler=run_playground)


def run_playground(args: argparse.Namespace) -> int:
    from bot.playground.app import Playground

    configure_logging("DEBUG" if getattr(args, "verbose", False) else "WARNING")
    playground = Playground(port=args.port)
    try:
        started = playground.start()
    except OSError as error:
        print(
            f"sms-bot playground: cannot listen on 127.0.0.1:{args.port} "
            f"({error.strerror or error}); try --port {args.port + 1} or --port 0",
            file=sys.stderr,
        )
        return EXIT_FAILED
    print(f"sms-bot playground: open {started.url}", flush=True)
    print(
        "  Slack and Octopush are local stand-ins: nothing is sent, "
        "no account is needed.",
        flush=True,
    )
    if started.ignored:
        print(
            "  Ignored here (the stand-ins replace them): "
            + ", ".join(started.ignored),
            flush=True,
        )
    print(
        f"  Audit trail: {started.audit_file} "
        f"(DATABASE_URL=sqlite:///{started.audit_file.name} sms-bot audit)",
        flush=True,
    )
    print("  Press Ctrl-C to stop.", flush=True)
    if args.open:
        webbrowser.open(started.url)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        print("\nsms-bot playground: stopped.", flush=True)
    finally:
        playground.stop()
    return EXIT_OK


def _interrupt(signum: int, frame: object) -> None:
    """SIGTERM stops the playground as Ctrl-C does: sends in flight finish first."""
    raise KeyboardInterrupt
