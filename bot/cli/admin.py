"""The operator's ``sms-bot`` commands: audit trail, opt-outs, directory check.

Kept apart from :mod:`bot.cli.main` (sending and serving) so each module has one job.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.audit.overrides import Override
from bot.cli.alerts import add_alert_audit
from bot.cli.output import format_audit
from bot.cli.support import (
    EXIT_OK,
    EXIT_USAGE,
    positive,
    reason_of,
    settings_from,
)
from bot.config import Settings
from bot.errors import AuditStoreError, InputError
from bot.i18n import Translator, translator
from bot.runtime.wiring import OCTOPUSH_REQUIRED, build_service, build_store


def add_admin_commands(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    tr: Translator | None = None,
) -> None:
    """Add ``audit``, ``optout`` and ``directory`` to the ``sms-bot`` sub-commands."""
    _ = (tr or translator()).gettext
    audit = commands.add_parser("audit", help=_("the audit trail, newest first"))
    audit.add_argument(
        "--limit",
        type=positive,
        default=50,
        metavar=_("LIMIT"),
        help=_("how many records (default 50)"),
    )
    audit.add_argument("--format", choices=["table", "json", "csv"], default="table")
    audit.set_defaults(handler=_audit)
    audit_commands = audit.add_subparsers(dest="audit_command", metavar=_("ACTION"))
    purge = audit_commands.add_parser(
        "purge", help=_("remove records older than SMS_AUDIT_RETENTION_DAYS")
    )
    purge.add_argument(
        "--days",
        type=positive,
        metavar=_("DAYS"),
        help=_("override SMS_AUDIT_RETENTION_DAYS"),
    )
    purge.set_defaults(handler=_purge)

    recover = audit_commands.add_parser(
        "recover",
        help=_("settle attempts left pending by a crash (serve does it at start)"),
    )
    recover.set_defaults(handler=_recover)
    add_alert_audit(audit_commands, tr)

    optout = commands.add_parser(
        "optout", help=_("numbers that replied STOP (never texted)")
    )
    optout_commands = optout.add_subparsers(
        dest="optout_command", metavar=_("ACTION"), required=True
    )
    optout_commands.add_parser("list", help=_("list opted-out numbers")).set_defaults(
        handler=_optout
    )
    for action, words in (
        ("add", _("never text NUMBER again")),
        ("remove", _("lift the opt-out of NUMBER")),
    ):
        sub = optout_commands.add_parser(action, help=words)
        sub.add_argument("number", metavar=_("NUMBER"))
        sub.set_defaults(handler=_optout)

    directory = commands.add_parser(
        "directory", help=_("the SMS_DIRECTORY file of people, groups, rotations")
    )
    directory_commands = directory.add_subparsers(
        dest="directory_command", metavar=_("ACTION"), required=True
    )
    directory_check = directory_commands.add_parser(
        "check",
        help=_("validate SMS_DIRECTORY and print who is on call now in each rotation"),
    )
    directory_check.add_argument(
        "--file",
        type=Path,
        metavar=_("FILE"),
        help=_("check this file instead of SMS_DIRECTORY"),
    )
    directory_check.set_defaults(handler=_directory_check)


def _audit(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    store = build_store(settings)
    try:
        print(
            format_audit(store.recent(limit=args.limit), args.format, _tr(args)),
            end="",
        )
    finally:
        store.close()
    return EXIT_OK


def _tr(args: argparse.Namespace) -> Translator:
    """The translator ``main`` chose for this run (English when called without it)."""
    chosen = getattr(args, "tr", None)
    return chosen if isinstance(chosen, Translator) else translator()


def _purge(args: argparse.Namespace) -> int:
    tr = _tr(args)
    settings = settings_from(args)
    days = args.days or settings.sms.audit_retention_days
    if days is None:
        print(
            tr.gettext(
                "sms-bot: set SMS_AUDIT_RETENTION_DAYS or pass --days: "
                "records are kept by default"
            ),
            file=sys.stderr,
        )
        return EXIT_USAGE
    store = build_store(settings)
    try:
        removed = store.purge(older_than=datetime.now(UTC) - timedelta(days=days))
    finally:
        store.close()
    print(
        tr.ngettext(
            "removed %(n)s audit record older than %(days)s days",
            "removed %(n)s audit records older than %(days)s days",
            removed,
            days=days,
        )
    )
    return EXIT_OK


def _recover(args: argparse.Namespace) -> int:
    from bot.sending.recovery import recover_pending

    settings = settings_from(args, OCTOPUSH_REQUIRED)
    service = build_service(settings)
    try:
        settled = recover_pending(service)
    finally:
        service.octopush.close()
        service.store.close()
    tr = _tr(args)
    for item in settled:
        print(tr.gettext(item.summary))
    print(
        tr.ngettext(
            "%(n)s pending attempt settled",
            "%(n)s pending attempts settled",
            len(settled),
        )
    )
    return EXIT_OK


def _optout(args: argparse.Namespace) -> int:
    from bot.audit import OptOutList
    from bot.phones import parse_phone

    tr = _tr(args)
    settings = settings_from(args)
    store = build_store(settings)
    optouts = OptOutList(store)
    try:
        if args.optout_command == "list":
            entries = optouts.all()
            for entry in entries:
                print(
                    tr.gettext(
                        "%(number)s  since %(when)s  (%(source)s)",
                        number=entry.number,
                        when=entry.created_at.strftime("%Y-%m-%d %H:%M"),
                        source=entry.source,
                    )
                )
            print(
                tr.ngettext(
                    "%(n)s opted-out number", "%(n)s opted-out numbers", len(entries)
                )
            )
            return EXIT_OK
        try:
            number = parse_phone(args.number, settings.sms.default_region)
        except InputError as error:
            print(f"sms-bot: {tr.gettext(error.message)}", file=sys.stderr)
            return EXIT_USAGE
        if args.optout_command == "add":
            added = optouts.add(number, source="admin")
            done = (
                tr.gettext("%(number)s opted out", number=number)
                if added
                else tr.gettext("%(number)s was already opted out", number=number)
            )
        else:
            removed = optouts.remove(number)
            done = (
                tr.gettext("%(number)s may be texted again", number=number)
                if removed
                else tr.gettext("%(number)s was not opted out", number=number)
            )
        print(done)
        return EXIT_OK
    finally:
        store.close()


def _directory_check(args: argparse.Namespace) -> int:
    from bot.directory.files import load_directory
    from bot.directory.model import DirectoryError
    from bot.directory.report import check_report

    tr = _tr(args)
    settings = settings_from(args)
    path = args.file or settings.sms.directory
    if path is None:
        print(
            tr.gettext(
                "sms-bot: set SMS_DIRECTORY (or pass --file) to the directory file"
            ),
            file=sys.stderr,
        )
        return EXIT_USAGE
    try:
        directory = load_directory(
            path, region=settings.sms.default_region, timezone=settings.sms.timezone
        )
    except DirectoryError as error:
        print(
            tr.gettext("sms-bot: %(path)s cannot be used:", path=str(path)),
            file=sys.stderr,
        )
        for problem in error.problems:
            print(f"  {tr.gettext(problem)}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as error:
        print(
            tr.gettext(
                "sms-bot: cannot read %(path)s: %(reason)s",
                path=str(path),
                reason=error.strerror,
            ),
            file=sys.stderr,
        )
        return EXIT_USAGE
    now = datetime.now(UTC)
    overrides = _overrides_in_force(settings, now, tr)
    print(check_report(directory, now, overrides=overrides, tr=tr))
    return EXIT_OK


def _overrides_in_force(
    settings: Settings, now: datetime, tr: Translator
) -> dict[str, Override]:
    """The overrides in the shared store; none (said on stderr) when it cannot be read."""
    from bot.audit.overrides import OverrideStore

    try:
        store = build_store(settings)
    except AuditStoreError as error:
        print(
            tr.gettext(
                "sms-bot: overrides not shown: %(error)s", error=reason_of(error)
            ),
            file=sys.stderr,
        )
        return {}
    try:
        return OverrideStore(store).active(now)
    finally:
        store.close()
