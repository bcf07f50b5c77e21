"""``sms-bot``: argument parsing, exit codes and output; the service does the work.

Exit status: 0 success, 1 Octopush refused or could not be reached, 2 bad input or
settings.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from datetime import datetime

from bot import __version__
from bot.cli.admin import add_admin_commands
from bot.cli.db import add_db_commands
from bot.cli.output import format_outcome, outcome_json
from bot.cli.playground import add_playground_command
from bot.cli.support import EXIT_FAILED, EXIT_OK, EXIT_USAGE, settings_from
from bot.directory.source import directory_resolver, open_directory
from bot.domain import Actor, Purpose, SendDraft, SendOutcome, SmsType, Source
from bot.errors import AuditStoreError, InputError, PolicyError, SettingsError
from bot.log import configure_logging
from bot.octopush import OctopushError
from bot.runtime.wiring import (
    OCTOPUSH_REQUIRED,
    admin_announcer,
    build_octopush,
    build_service,
    secrets_of,
)

logger = logging.getLogger(__name__)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sms-bot",
        description="Send SMS through Octopush from Slack or the command line, "
        "with an audit trail.",
        epilog="Settings come from the environment and from .env in the working "
        "directory (see README).",
    )
    parser.add_argument("--version", action="version", version=f"sms-bot {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="log debug details to stderr"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    serve = commands.add_parser(
        "serve", help="run the Slack app (HTTP on $PORT, or Socket Mode)"
    )
    serve.set_defaults(handler=_serve)

    send = commands.add_parser(
        "send",
        help="send one SMS campaign",
        description="Send one SMS campaign. Exit 0 on success, 1 when Octopush "
        "refused or was unreachable, 2 for bad input.",
    )
    send.add_argument(
        "--to",
        required=True,
        action="append",
        metavar="N[,N...]",
        help="recipients (repeatable)",
    )
    send.add_argument(
        "--sender",
        help="sender name, 3-11 letters, digits or spaces (default SMS_DEFAULT_SENDER)",
    )
    send.add_argument(
        "--purpose",
        choices=[p.value for p in Purpose],
        help="default SMS_DEFAULT_PURPOSE",
    )
    send.add_argument(
        "--type",
        dest="sms_type",
        choices=[t.value for t in SmsType],
        help="default SMS_DEFAULT_TYPE",
    )
    send.add_argument(
        "--at",
        type=_iso_datetime,
        metavar="ISO8601",
        help="schedule, e.g. 2026-11-25T09:00:00+01:00",
    )
    send.add_argument(
        "--replies", action="store_true", help="collect replies (France only)"
    )
    send.add_argument(
        "--simulate",
        action="store_true",
        help="Octopush simulation mode: nothing is sent",
    )
    send.add_argument(
        "--request-id", help="idempotency key: the same id is never sent twice"
    )
    send.add_argument("--json", action="store_true", help="print the outcome as JSON")
    send.add_argument(
        "text",
        nargs="+",
        metavar="TEXT",
        help="the message ('-' reads it from standard input)",
    )
    send.set_defaults(handler=_send)

    balance = commands.add_parser("balance", help="the Octopush credit left")
    balance.add_argument("--json", action="store_true", help="print JSON")
    balance.set_defaults(handler=_balance)

    add_admin_commands(commands)
    add_db_commands(commands)
    add_playground_command(commands)

    check = commands.add_parser(
        "check", help="check settings and reach Octopush and Slack"
    )
    check.set_defaults(handler=_check)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``sms-bot`` and ``python -m bot``; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except SettingsError as error:
        print("sms-bot: settings are missing or malformed:", file=sys.stderr)
        for line in error.problems:
            print(f"  {line}", file=sys.stderr)
        return EXIT_USAGE
    except AuditStoreError as error:
        print(f"sms-bot: audit store error: {error}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130


def _send(args: argparse.Namespace) -> int:
    settings = settings_from(args, OCTOPUSH_REQUIRED)
    text = sys.stdin.read().rstrip("\n") if args.text == ["-"] else " ".join(args.text)
    recipients = tuple(
        token.strip()
        for group in args.to
        for token in group.split(",")
        if token.strip()
    )
    draft = SendDraft(
        recipients=recipients,
        text=text,
        sender=args.sender,
        sms_type=SmsType(args.sms_type) if args.sms_type else None,
        purpose=Purpose(args.purpose) if args.purpose else None,
        send_at=args.at,
        with_replies=args.replies,
        simulation=args.simulate,
        request_id=args.request_id,
    )
    resolve = directory_resolver(open_directory(settings))
    service = build_service(settings, announce=admin_announcer(settings))
    try:
        outcome = service.send(draft, Actor(source=Source.CLI), resolve=resolve)
    except (InputError, PolicyError) as refusal:
        problems = (
            refusal.problems
            if isinstance(refusal, InputError)
            else {refusal.rule: refusal.message}
        )
        for field, message in problems.items():
            print(f"sms-bot: {field}: {message}", file=sys.stderr)
        print(
            f"sms-bot: nothing was sent (audit #{refusal.audit_id}, rejected)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    finally:
        service.octopush.close()
    return _report(outcome, as_json=args.json)


def _report(outcome: SendOutcome, *, as_json: bool) -> int:
    if as_json:
        print(json.dumps(outcome_json(outcome), indent=2))
    else:
        print(format_outcome(outcome), file=sys.stdout if outcome.ok else sys.stderr)
    return EXIT_OK if outcome.status.value in ("sent", "pending") else EXIT_FAILED


def _balance(args: argparse.Namespace) -> int:
    settings = settings_from(args, OCTOPUSH_REQUIRED)
    with build_octopush(settings) as client:
        try:
            balance = client.get_balance()
        except OctopushError as error:
            print(
                f"sms-bot: Octopush: {error}"
                + (f" ({error.hint})" if error.hint else ""),
                file=sys.stderr,
            )
            return EXIT_FAILED
    if args.json:
        print(json.dumps({"amount": balance.amount, "unit": balance.unit}))
    else:
        print(f"{balance.amount:g} {balance.unit}")
    return EXIT_OK


def _check(args: argparse.Namespace) -> int:
    from bot.cli.checks import run_checks

    return run_checks(print)


def _serve(args: argparse.Namespace) -> int:
    from bot.runtime.server import serve

    settings = settings_from(args, ("SLACK_BOT_TOKEN", *OCTOPUSH_REQUIRED))
    configure_logging("DEBUG" if args.verbose else "INFO", secrets=secrets_of(settings))
    open_directory(settings)  # a bad SMS_DIRECTORY stops here, one line per problem
    return serve(settings)


def _iso_datetime(value: str) -> datetime:
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not an ISO-8601 date-time such as 2026-11-25T09:00:00+01:00"
        ) from None
