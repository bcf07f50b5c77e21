"""Brings an audit store's schema to the code's Alembic head, safely across processes.

``sms-bot serve`` (through :meth:`AuditStore.from_url`) and ``sms-bot db upgrade`` call
:func:`migrate`. The whole upgrade runs in one transaction that first takes a lock:
a PostgreSQL advisory lock, or SQLite's ``BEGIN IMMEDIATE``, so instances starting
together upgrade once and the others find the work done. Databases made before
Alembic (a ``sms_bot_schema`` table holding a version number) are adopted by stamping
the revision that matches their version; that table is left in place so the previous
release can still open the database.
"""

from __future__ import annotations

import functools
import logging

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy.engine import Connection, Engine

from bot.audit.engine import WRITE, describe
from bot.errors import AuditStoreError
from bot.i18n import N_

logger = logging.getLogger(__name__)

#: Key of the PostgreSQL advisory lock held while migrating ("smsbot" in ASCII).
_MIGRATION_LOCK = 0x736D73626F74

#: The table the releases before Alembic kept their schema version in.
LEGACY_VERSION_TABLE = "sms_bot_schema"

#: The Alembic revision equal to each version of the hand-written migrations.
LEGACY_REVISIONS = {1: "0001", 2: "0002"}


def alembic_config(connection: Connection | None = None) -> Config:
    """The Alembic configuration of the packaged revisions, on ``connection`` if given."""
    config = Config()
    config.set_main_option("script_location", "bot.audit:migrations")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@functools.cache
def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    """The revision this code writes."""
    head = _scripts().get_current_head()
    if head is None:  # pragma: no cover - the package always ships revisions
        raise AuditStoreError("sms-bot ships no schema revisions")
    return head


def current_revision(conn: Connection) -> str | None:
    """The revision recorded in the database; ``None`` when Alembic never ran on it."""
    return MigrationContext.configure(conn).get_current_revision()


def recorded_revision(engine: Engine) -> str | None:
    """The database's revision, counting a pre-Alembic version; ``None`` when empty.

    Raises:
        AuditStoreError: the database cannot be read.
    """
    try:
        with engine.connect() as conn:
            return current_revision(conn) or _legacy_revision(conn)
    except sa.exc.SQLAlchemyError as exc:
        raise AuditStoreError(
            N_("cannot read the audit store: %(error)s", error=describe(exc))
        ) from exc


def describe_revision(engine: Engine) -> str:
    """What ``sms-bot db current`` prints: the database's revision against the code's.

    Marked (``N_``): English as it is, translated by the CLI for its reader.

    Raises:
        AuditStoreError: the database cannot be read.
    """
    current = recorded_revision(engine)
    head = head_revision()
    if current is None:
        return N_(
            "no schema yet (the code's revision is %(head)s; run 'sms-bot db upgrade')",
            head=head,
        )
    if current == head:
        return N_("%(current)s (head: up to date)", current=current)
    if _is_known(current):
        return N_(
            "%(current)s (behind head %(head)s; run 'sms-bot db upgrade')",
            current=current,
            head=head,
        )
    return N_(
        "%(current)s (unknown to this sms-bot, whose head is %(head)s: newer release?)",
        current=current,
        head=head,
    )


def migrate(engine: Engine) -> str:
    """Apply the missing revisions in one locked transaction; return the revision reached.

    Raises:
        AuditStoreError: the database is newer than the code, or an upgrade failed.
    """
    try:
        return _migrate(engine)
    except sa.exc.SQLAlchemyError as exc:
        # Another process may have created the same objects first; accept its work.
        try:
            with engine.connect() as conn:
                reached = current_revision(conn)
        except sa.exc.SQLAlchemyError:
            reached = None
        if reached == head_revision():
            return reached
        where = engine.url.render_as_string(hide_password=True)
        raise AuditStoreError(
            N_(
                "could not open or migrate the audit store at %(where)s: %(error)s",
                where=where,
                error=describe(exc),
            )
        ) from exc


def _migrate(engine: Engine) -> str:
    head = head_revision()
    with engine.execution_options(**WRITE).begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_MIGRATION_LOCK)))
        current = current_revision(conn)
        if current is None:
            current = _adopt_legacy(conn)
        if current == head:
            return head
        if current is not None and not _is_known(current):
            where = engine.url.render_as_string(hide_password=True)
            raise AuditStoreError(
                N_(
                    "the audit store at %(where)s has schema revision %(current)s, "
                    "newer than this sms-bot knows (head %(head)s); upgrade sms-bot "
                    "or use another database",
                    where=where,
                    current=current,
                    head=head,
                )
            )
        command.upgrade(alembic_config(conn), "head")
        logger.info("audit schema upgraded from %s to %s", current or "empty", head)
        return head


def _is_known(revision: str) -> bool:
    try:
        return _scripts().get_revision(revision) is not None
    except CommandError:
        return False


def _legacy_revision(conn: Connection) -> str | None:
    """The revision matching a pre-Alembic database's version; ``None`` if not one."""
    if not sa.inspect(conn).has_table(LEGACY_VERSION_TABLE):
        return None
    version = conn.execute(
        sa.text(f"SELECT MAX(version) FROM {LEGACY_VERSION_TABLE}")
    ).scalar()
    if not version:
        return None
    if int(version) not in LEGACY_REVISIONS:
        return f"legacy-{int(version)}"
    return LEGACY_REVISIONS[int(version)]


def _adopt_legacy(conn: Connection) -> str | None:
    """Stamp a database made before Alembic with the revision its version matches."""
    revision = _legacy_revision(conn)
    if revision is None or not _is_known(revision):
        return revision
    command.stamp(alembic_config(conn), revision)
    logger.info(
        "audit schema: adopted a database of the previous release as %s", revision
    )
    return revision
