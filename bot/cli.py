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
from datetime import UTC, datetime
from pathlib import Path

from bot import __version__
from bot.config import Settings, load_settings
from bot.directory_source import directory_resolver, open_directory
from bot.domain import Actor, Purpose, SendDraft, SendOutcome, SmsType, Source
from bot.errors import AuditStoreError, InputError, PolicyError, SettingsError
from bot.log import configure_logging
from bot.octopush import OctopushError
from bot.output import format_audit, format_outcome, outcome_json
from bot.wiring import (
    OCTOPUSH_REQUIRED,
    build_octopush,
    build_service,
    build_store,
    secrets_of,
)

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

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

    audit = commands.add_parser("audit", help="the audit trail, newest first")
    audit.add_argument(
        "--limit", type=_positive, default=50, help="how many records (default 50)"
    )
    audit.add_argument("--format", choices=["table", "json", "csv"], default="table")
    audit.set_defaults(handler=_audit)
    audit_commands = audit.add_subparsers(dest="audit_command", metavar="ACTION")
    purge = audit_commands.add_parser(
        "purge", help="remove records older than SMS_AUDIT_RETENTION_DAYS"
    )
    purge.add_argument(
        "--days", type=_positive, help="override SMS_AUDIT_RETENTION_DAYS"
    )
    purge.set_defaults(handler=_purge)

    recover = audit_commands.add_parser(
        "recover",
        help="settle attempts left pending by a crash (serve does it at start)",
    )
    recover.set_defaults(handler=_recover)

    optout = commands.add_parser(
        "optout", help="numbers that replied STOP (never texted)"
    )
    optout_commands = optout.add_subparsers(
        dest="optout_command", metavar="ACTION", required=True
    )
    optout_commands.add_parser("list", help="list opted-out numbers").set_defaults(
        handler=_optout
    )
    for action, words in (
        ("add", "never text NUMBER again"),
        ("remove", "lift the opt-out of NUMBER"),
    ):
        sub = optout_commands.add_parser(action, help=words)
        sub.add_argument("number", metavar="NUMBER")
        sub.set_defaults(handler=_optout)

    directory = commands.add_parser(
        "directory", help="the SMS_DIRECTORY file of people, groups, rotations"
    )
    directory_commands = directory.add_subparsers(
        dest="directory_command", metavar="ACTION", required=True
    )
    directory_check = directory_commands.add_parser(
        "check",
        help="validate SMS_DIRECTORY and print who is on call now in each rotation",
    )
    directory_check.add_argument(
        "--file", type=Path, help="check this file instead of SMS_DIRECTORY"
    )
    directory_check.set_defaults(handler=_directory_check)

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


def _settings(args: argparse.Namespace, required: Sequence[str] = ()) -> Settings:
    settings = load_settings(required=required)
    configure_logging(
        "DEBUG" if args.verbose else "ERROR", secrets=secrets_of(settings)
    )
    return settings


def _send(args: argparse.Namespace) -> int:
    settings = _settings(args, OCTOPUSH_REQUIRED)
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
    service = build_service(settings)
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
    settings = _settings(args, OCTOPUSH_REQUIRED)
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


def _audit(args: argparse.Namespace) -> int:
    settings = _settings(args)
    store = build_store(settings)
    try:
        print(format_audit(store.recent(limit=args.limit), args.format), end="")
    finally:
        store.close()
    return EXIT_OK


def _purge(args: argparse.Namespace) -> int:
    from datetime import timedelta

    settings = _settings(args)
    days = args.days or settings.sms.audit_retention_days
    if days is None:
        print(
            "sms-bot: set SMS_AUDIT_RETENTION_DAYS or pass --days: "
            "records are kept by default",
            file=sys.stderr,
        )
        return EXIT_USAGE
    store = build_store(settings)
    try:
        removed = store.purge(older_than=datetime.now(UTC) - timedelta(days=days))
    finally:
        store.close()
    print(f"removed {removed} audit records older than {days} days")
    return EXIT_OK


def _recover(args: argparse.Namespace) -> int:
    from bot.recovery import recover_pending

    settings = _settings(args, OCTOPUSH_REQUIRED)
    service = build_service(settings)
    try:
        settled = recover_pending(service)
    finally:
        service.octopush.close()
        service.store.close()
    for item in settled:
        print(item.summary)
    print(f"{len(settled)} pending attempt(s) settled")
    return EXIT_OK


def _optout(args: argparse.Namespace) -> int:
    from bot.audit import OptOutList
    from bot.parsing import parse_phone

    settings = _settings(args)
    store = build_store(settings)
    optouts = OptOutList(store)
    try:
        if args.optout_command == "list":
            entries = optouts.all()
            for entry in entries:
                print(
                    f"{entry.number}  since {entry.created_at:%Y-%m-%d %H:%M}  ({entry.source})"
                )
            print(f"{len(entries)} opted-out number(s)")
            return EXIT_OK
        try:
            number = parse_phone(args.number, settings.sms.default_region)
        except InputError as error:
            print(f"sms-bot: {error}", file=sys.stderr)
            return EXIT_USAGE
        if args.optout_command == "add":
            added = optouts.add(number, source="admin")
            print(f"{number} {'opted out' if added else 'was already opted out'}")
        else:
            removed = optouts.remove(number)
            print(
                f"{number} {'may be texted again' if removed else 'was not opted out'}"
            )
        return EXIT_OK
    finally:
        store.close()


def _directory_check(args: argparse.Namespace) -> int:
    from bot.directory import DirectoryError, check_report, load_directory

    settings = _settings(args)
    path = args.file or settings.sms.directory
    if path is None:
        print(
            "sms-bot: set SMS_DIRECTORY (or pass --file) to the directory file",
            file=sys.stderr,
        )
        return EXIT_USAGE
    try:
        directory = load_directory(path, region=settings.sms.default_region)
    except DirectoryError as error:
        print(f"sms-bot: {path} cannot be used:", file=sys.stderr)
        for problem in error.problems:
            print(f"  {problem}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as error:
        print(f"sms-bot: cannot read {path}: {error.strerror}", file=sys.stderr)
        return EXIT_USAGE
    print(check_report(directory, datetime.now(UTC)))
    return EXIT_OK


def _check(args: argparse.Namespace) -> int:
    from bot.checks import run_checks

    return run_checks(print)


def _serve(args: argparse.Namespace) -> int:
    from bot.server import serve

    settings = _settings(args, ("SLACK_BOT_TOKEN", *OCTOPUSH_REQUIRED))
    configure_logging("DEBUG" if args.verbose else "INFO", secrets=secrets_of(settings))
    return serve(settings)


def _iso_datetime(value: str) -> datetime:
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not an ISO-8601 date-time such as 2026-11-25T09:00:00+01:00"
        ) from None


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a whole number of at least 1"
        )
    return number
