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
from bot.cli.argparse_words import argparse_speaking
from bot.cli.cancel import add_cancel_command
from bot.cli.db import add_db_commands
from bot.cli.manifest import add_manifest_command
from bot.cli.output import format_balance, format_outcome, outcome_json
from bot.cli.playground import add_playground_command
from bot.cli.support import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    cli_translator,
    reason_of,
    settings_from,
)
from bot.directory.source import directory_resolver, open_directory
from bot.domain import Actor, Purpose, SendDraft, SendOutcome, SmsType, Source
from bot.errors import AuditStoreError, InputError, PolicyError, SettingsError
from bot.i18n import Translator
from bot.i18n.octopush_hints import localized_hint
from bot.log import configure_logging
from bot.octopush import Balance, OctopushClient, OctopushError
from bot.runtime.wiring import (
    OCTOPUSH_REQUIRED,
    admin_announcer,
    build_octopush,
    build_service,
    secrets_of,
)
from bot.sending.gateway import gateway_error_text

logger = logging.getLogger(__name__)


def _parser(tr: Translator) -> argparse.ArgumentParser:
    _ = tr.gettext
    parser = argparse.ArgumentParser(
        prog="sms-bot",
        description=_(
            "Send SMS through Octopush from Slack or the command line, "
            "with an audit trail."
        ),
        epilog=_(
            "Settings come from the environment and from .env in the working "
            "directory (see README)."
        ),
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"sms-bot {__version__}",
        help=_("show program's version number and exit"),
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help=_("log debug details to stderr")
    )
    commands = parser.add_subparsers(
        dest="command", metavar=_("COMMAND"), required=True
    )

    serve = commands.add_parser(
        "serve", help=_("run the Slack app (HTTP on $PORT, or Socket Mode)")
    )
    serve.set_defaults(handler=_serve)

    send = commands.add_parser(
        "send",
        help=_("send one SMS campaign"),
        description=_(
            "Send one SMS campaign. Exit 0 on success, 1 when Octopush "
            "refused or was unreachable, 2 for bad input."
        ),
    )
    send.add_argument(
        "--to",
        required=True,
        action="append",
        metavar="N[,N...]",
        help=_("recipients (repeatable)"),
    )
    send.add_argument(
        "--sender",
        metavar=_("SENDER"),
        help=_(
            "sender name, 3-11 letters, digits or spaces (default SMS_DEFAULT_SENDER)"
        ),
    )
    send.add_argument(
        "--purpose",
        choices=[p.value for p in Purpose],
        help=_("default SMS_DEFAULT_PURPOSE"),
    )
    send.add_argument(
        "--type",
        dest="sms_type",
        choices=[t.value for t in SmsType if t is not SmsType.VOICE],
        help=_("default SMS_DEFAULT_TYPE"),
    )
    send.add_argument(
        "--at",
        type=_iso_datetime,
        metavar="ISO8601",
        help=_("schedule, e.g. 2026-11-25T09:00:00+01:00"),
    )
    send.add_argument(
        "--replies", action="store_true", help=_("collect replies (France only)")
    )
    send.add_argument(
        "--simulate",
        action="store_true",
        help=_("Octopush simulation mode: nothing is sent"),
    )
    send.add_argument(
        "--request-id",
        metavar=_("REQUEST_ID"),
        help=_(
            "idempotency key: the same id is never sent twice; a retry sends again "
            "only if the last attempt definitely did not go out"
        ),
    )
    send.add_argument(
        "--json", action="store_true", help=_("print the outcome as JSON")
    )
    send.add_argument(
        "text",
        nargs="+",
        metavar=_("TEXT"),
        help=_("the message ('-' reads it from standard input)"),
    )
    send.set_defaults(handler=_send)

    balance = commands.add_parser("balance", help=_("the Octopush credit left"))
    balance.add_argument("--json", action="store_true", help=_("print JSON"))
    balance.add_argument(
        "--voice",
        action="store_true",
        help=_("also the voice credit for calls to SMS_DEFAULT_REGION"),
    )
    balance.set_defaults(handler=_balance)

    add_admin_commands(commands, tr)
    add_cancel_command(commands, tr)
    add_db_commands(commands, tr)
    add_playground_command(commands, tr)

    sender = commands.add_parser(
        "sender",
        help=_("run the stored /sms sends and pages (beside serve; see SMS_SENDER)"),
    )
    sender.set_defaults(handler=_sender)
    add_manifest_command(commands, tr)

    check = commands.add_parser(
        "check", help=_("check settings and reach Octopush and Slack")
    )
    check.set_defaults(handler=_check)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``sms-bot`` and ``python -m bot``; returns the exit status."""
    tr = cli_translator()
    with argparse_speaking(tr):
        args = _parser(tr).parse_args(argv)
    args.tr = tr
    try:
        return int(args.handler(args))
    except SettingsError as error:
        print(error.report(tr), file=sys.stderr)
        return EXIT_USAGE
    except AuditStoreError as error:
        print(
            tr.gettext("sms-bot: audit store error: %(error)s", error=reason_of(error)),
            file=sys.stderr,
        )
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
        # The operator's --request-id means "safe to retry": an attempt under it that
        # definitely did not go out is tried again; one that may have is not.
        outcome = service.send(
            draft, Actor(source=Source.CLI), resolve=resolve, retry_failed=True
        )
    except (InputError, PolicyError) as refusal:
        tr: Translator = args.tr
        problems = (
            refusal.problems
            if isinstance(refusal, InputError)
            else {refusal.rule: refusal.message}
        )
        for field, message in problems.items():
            # The field (``request_id``) or rule (``SMS_RATE_LIMIT``) is a name scripts
            # and the README use: it stays as it is, the problem is the reader's.
            print(f"sms-bot: {field}: {tr.gettext(message)}", file=sys.stderr)
        print(
            tr.gettext(
                "sms-bot: nothing was sent (audit #%(audit_id)s, rejected)",
                audit_id=refusal.audit_id,
            ),
            file=sys.stderr,
        )
        return EXIT_USAGE
    finally:
        service.octopush.close()
    return _report(outcome, as_json=args.json, tr=args.tr)


def _report(outcome: SendOutcome, *, as_json: bool, tr: Translator) -> int:
    if as_json:
        print(json.dumps(outcome_json(outcome), indent=2))
    else:
        print(
            format_outcome(outcome, tr),
            file=sys.stdout if outcome.ok else sys.stderr,
        )
    return EXIT_OK if outcome.status.value in ("sent", "pending") else EXIT_FAILED


def _balance(args: argparse.Namespace) -> int:
    settings = settings_from(args, OCTOPUSH_REQUIRED)
    with build_octopush(settings) as client:
        try:
            balance = client.get_balance()
        except OctopushError as error:
            tr: Translator = args.tr
            hint = localized_hint(tr, error.hint)
            print(
                tr.gettext(
                    "sms-bot: Octopush: %(error)s (%(hint)s)",
                    error=gateway_error_text(error),
                    hint=hint,
                )
                if hint
                else tr.gettext(
                    "sms-bot: Octopush: %(error)s", error=gateway_error_text(error)
                ),
                file=sys.stderr,
            )
            return EXIT_FAILED
        voice = (
            _voice_credit(client, settings.sms.default_region) if args.voice else None
        )
    if args.json:
        found: dict[str, object] = {"amount": balance.amount, "unit": balance.unit}
        if args.voice:
            found["voice"] = (
                {"amount": voice.amount, "unit": voice.unit} if voice else None
            )
        print(json.dumps(found))
        return EXIT_OK
    print(format_balance(balance.amount, balance.unit, args.tr))
    if args.voice:
        words: Translator = args.tr
        print(
            words.gettext(
                "voice: %(credit)s",
                credit=format_balance(voice.amount, voice.unit, words),
            )
            if voice is not None
            else words.gettext("voice: not enabled on this account, or unreadable")
        )
    return EXIT_OK


def _voice_credit(client: OctopushClient, region: str) -> Balance | None:
    """The voice credit, or None when voice is not enabled (or cannot be read)."""
    try:
        return client.get_voice_balance(region)
    except OctopushError:
        return None


def _check(args: argparse.Namespace) -> int:
    from bot.cli.checks import run_checks

    return run_checks(print, args.tr)


def _serve(args: argparse.Namespace) -> int:
    from bot.runtime.server import serve

    settings = settings_from(args, ("SLACK_BOT_TOKEN", *OCTOPUSH_REQUIRED))
    configure_logging("DEBUG" if args.verbose else "INFO", secrets=secrets_of(settings))
    open_directory(settings)  # a bad SMS_DIRECTORY stops here, one line per problem
    return serve(settings)


def _sender(args: argparse.Namespace) -> int:
    from bot.runtime.sender_process import run_sender

    settings = settings_from(args, ("SLACK_BOT_TOKEN", *OCTOPUSH_REQUIRED))
    configure_logging("DEBUG" if args.verbose else "INFO", secrets=secrets_of(settings))
    open_directory(settings)  # a bad SMS_DIRECTORY stops here, one line per problem
    return run_sender(settings)


def _iso_datetime(value: str) -> datetime:
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            cli_translator().gettext(
                "%(value)r is not an ISO-8601 date-time "
                "such as 2026-11-25T09:00:00+01:00",
                value=value,
            )
        ) from None
