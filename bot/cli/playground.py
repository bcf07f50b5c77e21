"""``sms-bot playground``: the real app with a local Slack and simulated phones."""

from __future__ import annotations

import argparse
import signal
import sys
import time
import webbrowser
from typing import Any

from bot.cli.support import EXIT_FAILED, EXIT_OK, cli_translator
from bot.i18n import Translator
from bot.log import configure_logging

DEFAULT_PORT = 3000


def add_playground_command(commands: Any, tr: Translator | None = None) -> None:
    """Register ``playground`` on the ``sms-bot`` sub-command parser."""
    _ = (tr or cli_translator()).gettext
    parser = commands.add_parser(
        "playground",
        help=_(
            "try the bot in your browser: a local Slack channel and phones, "
            "nothing is sent"
        ),
        description=_(
            "Run the real app on 127.0.0.1 against a local stand-in for "
            "Slack and a simulated Octopush gateway. Needs no settings; real "
            "credentials in the environment or .env are ignored."
        ),
    )
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        metavar=_("PORT"),
        help=_(
            "port on 127.0.0.1 (default %(port)s; 0 picks a free one)",
            port=DEFAULT_PORT,
        ),
    )
    parser.add_argument(
        "--open", action="store_true", help=_("open the page in the default browser")
    )
    parser.set_defaults(handler=run_playground)


def run_playground(args: argparse.Namespace) -> int:
    from bot.playground.app import Playground

    chosen = getattr(args, "tr", None)
    _ = (chosen if isinstance(chosen, Translator) else cli_translator()).gettext
    sys.stdout.flush()  # anything printed before us goes out before the start's logs
    configure_logging("DEBUG" if getattr(args, "verbose", False) else "WARNING")
    playground = Playground(port=args.port)
    try:
        started = playground.start()
    except OSError as error:
        print(
            _(
                "sms-bot playground: cannot listen on 127.0.0.1:%(port)s "
                "(%(reason)s); try --port %(next)s or --port 0",
                port=args.port,
                reason=error.strerror or error,
                next=args.port + 1,
            ),
            file=sys.stderr,
        )
        return EXIT_FAILED
    lines = [
        _("sms-bot playground: open %(url)s", url=started.url),
        "  "
        + _(
            "Slack and Octopush are local stand-ins: nothing is sent, "
            "no account is needed."
        ),
    ]
    if started.ignored:
        lines.append(
            "  "
            + _(
                "Ignored here (the stand-ins replace them): %(names)s",
                names=", ".join(started.ignored),
            )
        )
    lines += [
        "  "
        + _(
            "Audit trail: %(file)s (DATABASE_URL=sqlite:///%(name)s sms-bot audit)",
            file=started.audit_file,
            name=started.audit_file.name,
        ),
        "  " + _("Press Ctrl-C to stop."),
    ]
    # Before the banner: a SIGTERM as soon as it is read stops it cleanly too.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        _banner(lines)
        if args.open:
            webbrowser.open(started.url)
        _wait_for_a_signal()
    except KeyboardInterrupt:
        print("\n" + _("sms-bot playground: stopped."), flush=True)
    finally:
        playground.stop()
    return EXIT_OK


def _banner(lines: list[str]) -> None:
    """The banner in one write, once whatever came before it (pip's output, a log line
    of the start) has gone out: it is never cut by other output in the terminal."""
    sys.stderr.flush()
    sys.stdout.flush()
    sys.stdout.write("\n".join(lines) + "\n")
    sys.stdout.flush()


def _wait_for_a_signal() -> None:
    """Sleep until Ctrl-C or SIGTERM, waking now and then: a signal the kernel hands
    to one of the workers' threads runs its handler only when the main thread next
    runs Python, so an endless wait here would never see it and the process would hang."""
    while True:
        time.sleep(0.2)


def _interrupt(signum: int, frame: object) -> None:
    """SIGTERM stops the playground as Ctrl-C does: sends in flight finish first."""
    raise KeyboardInterrupt
