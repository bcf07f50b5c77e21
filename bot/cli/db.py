"""``sms-bot db``: the operator's view of the audit store's schema (Alembic revisions).

``serve`` upgrades by itself at start; these let an operator upgrade ahead of a
deployment, or see where a database stands, without starting the bot.
"""

from __future__ import annotations

import argparse

from bot.audit.engine import open_engine
from bot.audit.migrate import (
    describe_revision,
    head_revision,
    migrate,
    recorded_revision,
)
from bot.cli.support import EXIT_OK, settings_from
from bot.i18n import Translator, translator


def add_db_commands(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    tr: Translator | None = None,
) -> None:
    """Add ``db upgrade`` and ``db current`` to the ``sms-bot`` sub-commands."""
    _ = (tr or translator()).gettext
    db = commands.add_parser("db", help=_("the audit store's schema (DATABASE_URL)"))
    actions = db.add_subparsers(dest="db_command", metavar=_("ACTION"), required=True)
    actions.add_parser(
        "upgrade", help=_("bring the schema up to date, keeping every record")
    ).set_defaults(handler=_upgrade)
    actions.add_parser(
        "current", help=_("show the schema revision of the database and of this code")
    ).set_defaults(handler=_current)


def _tr(args: argparse.Namespace) -> Translator:
    chosen = getattr(args, "tr", None)
    return chosen if isinstance(chosen, Translator) else translator()


def _upgrade(args: argparse.Namespace) -> int:
    engine = open_engine(settings_from(args).database_url)
    try:
        before = recorded_revision(engine)
        reached = migrate(engine)
    finally:
        engine.dispose()
    tr = _tr(args)
    if before == reached:
        print(
            tr.gettext(
                "audit store already at revision %(revision)s (head)", revision=reached
            )
        )
    else:
        print(
            tr.gettext(
                "audit store upgraded from %(before)s to revision %(revision)s",
                before=before or tr.gettext("empty"),
                revision=reached,
            )
        )
    return EXIT_OK


def _current(args: argparse.Namespace) -> int:
    engine = open_engine(settings_from(args).database_url)
    try:
        print(_tr(args).gettext(describe_revision(engine)))
    finally:
        engine.dispose()
    print(_tr(args).gettext("code head: %(revision)s", revision=head_revision()))
    return EXIT_OK
