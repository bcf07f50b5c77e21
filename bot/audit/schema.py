"""The audit table, its versioned migrations, and an engine tuned for each backend.

Column names are the contract's audit fields, so a row reads straight into
:class:`~bot.audit.records.AuditRecord`. Nothing here connects at import time.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Dialect, Engine

from bot.errors import AuditStoreError

logger = logging.getLogger(__name__)

#: The schema version this code writes; :func:`migrate` brings a database up to it.
SCHEMA_VERSION = 4

#: Execution option that makes a SQLite transaction start with ``BEGIN IMMEDIATE``.
#: Taking the write lock up front avoids SQLITE_BUSY on a read-to-write upgrade.
WRITE = {"sms_bot_write": True}

#: Key of the PostgreSQL advisory lock held while migrating ("smsbot" in ASCII).
_MIGRATION_LOCK = 0x736D73626F74


class UtcDateTime(sa.types.TypeDecorator[datetime]):
    """A timezone-aware timestamp that always reads back as aware UTC.

    SQLite has no time zone type and drops ``tzinfo``; storing UTC and re-attaching it
    on read keeps both backends alike (and string order equal to time order on SQLite).
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(
        self, value: datetime | None, dialect: Dialect
    ) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(
                f"naive datetime {value!r}: audit times must carry a time zone"
            )
        return value.astimezone(UTC)

    def process_result_value(
        self, value: datetime | None, dialect: Dialect
    ) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _audit_records_v1(metadata: sa.MetaData) -> sa.Table:
    """``audit_records`` as migration 1 creates it. Never change it: add a migration."""
    return sa.Table(
        "audit_records",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("completed_at", UtcDateTime),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("slack_team_id", sa.String(64)),
        sa.Column("slack_user_id", sa.String(64)),
        sa.Column("slack_channel_id", sa.String(64)),
        sa.Column("recipients", sa.JSON, nullable=False),
        sa.Column("text", sa.Text),
        sa.Column("sender", sa.String(64)),
        sa.Column("sms_type", sa.String(32)),
        sa.Column("purpose", sa.String(32)),
        sa.Column("send_at", UtcDateTime),
        sa.Column("simulation", sa.Boolean, nullable=False),
        sa.Column("request_id", sa.String(128), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("sms_ticket", sa.String(128)),
        sa.Column("number_of_contacts", sa.Integer),
        sa.Column("number_of_sms_needed", sa.Integer),
        sa.Column("total_cost", sa.Float),
        sa.Column("residual_credit", sa.Float),
        sa.Column("error_code", sa.String(64)),
        sa.Column("error_message", sa.Text),
        sa.Column("duration_ms", sa.Integer),
        sa.Column("slack_message_channel", sa.String(64)),
        sa.Column("slack_message_ts", sa.String(64)),
        sa.Index("ux_audit_records_request_id", "request_id", unique=True),
        sa.Index("ix_audit_records_created_at", "created_at"),
        sa.Index("ix_audit_records_channel_created", "slack_channel_id", "created_at"),
        sa.Index("ix_audit_records_user_created", "slack_user_id", "created_at"),
        sa.Index("ix_audit_records_status", "status"),
    )


def _audit_records_v3(metadata: sa.MetaData) -> sa.Table:
    """``audit_records`` since migration 3: status is indexed with the time."""
    table = _audit_records_v1(metadata)
    status = next(i for i in table.indexes if i.name == "ix_audit_records_status")
    table.indexes.discard(status)
    sa.Index("ix_audit_records_status_created", table.c.status, table.c.created_at)
    return table


metadata = sa.MetaData()

#: The current shape of the table. Version 1 is also the current one; the first
#: migration that alters the table replaces this line with its own definition.
audit_records = _audit_records_v3(metadata)

#: One row holding the number of the last migration applied.
schema_versions = sa.Table(
    "sms_bot_schema",
    metadata,
    sa.Column("version", sa.Integer, nullable=False),
)


def _tables_v2(metadata: sa.MetaData) -> tuple[sa.Table, ...]:
    """Tables migration 2 adds. Never change them: add a migration."""
    opt_outs = sa.Table(
        "opt_outs",
        metadata,
        sa.Column("number", sa.String(32), primary_key=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("message_id", sa.String(128)),
        sa.Column("note", sa.Text),
    )
    notices = sa.Table(
        "notices",
        metadata,
        sa.Column("key", sa.String(128), primary_key=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
    )
    deliveries = sa.Table(
        "deliveries",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "audit_id",
            sa.Integer,
            sa.ForeignKey("audit_records.id", ondelete="CASCADE"),
        ),
        sa.Column("message_id", sa.String(128), nullable=False),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("raw_status", sa.String(64), nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.Index("ux_deliveries_message_number", "message_id", "number", unique=True),
        sa.Index("ix_deliveries_audit_id", "audit_id"),
    )
    pages = sa.Table(
        "pages",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("target", sa.String(128), nullable=False),
        sa.Column("text", sa.Text),
        sa.Column("slack_team_id", sa.String(64)),
        sa.Column("slack_user_id", sa.String(64)),
        sa.Column("slack_channel_id", sa.String(64)),
        sa.Column("slack_message_ts", sa.String(64)),
        sa.Column("members", sa.JSON, nullable=False),
        sa.Column("member_index", sa.Integer, nullable=False),
        sa.Column("audit_ids", sa.JSON, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("escalate_after_s", sa.Integer),
        sa.Column("next_escalation_at", UtcDateTime),
        sa.Column("acknowledged_by", sa.String(128)),
        sa.Column("acknowledged_at", UtcDateTime),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Index("ix_pages_due", "state", "next_escalation_at"),
    )
    return opt_outs, notices, deliveries, pages


def _migration_1(conn: Connection) -> None:
    _audit_records_v1(sa.MetaData()).create(conn)


def _migration_2(conn: Connection) -> None:
    """Opt-outs, once-only notices, delivery receipts and pages."""
    migration_metadata = sa.MetaData()
    _audit_records_v1(migration_metadata)  # for the foreign key
    for table in _tables_v2(migration_metadata):
        table.create(conn)


def _tables_v3(metadata: sa.MetaData) -> tuple[sa.Table, ...]:
    """Migration 3: one row per Octopush ticket (a batched send has several)."""
    tickets = sa.Table(
        "audit_tickets",
        metadata,
        sa.Column("ticket", sa.String(128), nullable=False),
        sa.Column(
            "audit_id",
            sa.Integer,
            sa.ForeignKey("audit_records.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("ticket", "audit_id", name="pk_audit_tickets"),
        sa.Index("ix_audit_tickets_audit_id", "audit_id"),
    )
    return (tickets,)


def _tables_v4(metadata: sa.MetaData) -> tuple[sa.Table, ...]:
    """Migration 4: Octopush callbacks, stored before they are answered."""
    inbox = sa.Table(
        "callback_inbox",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("received_at", UtcDateTime, nullable=False),
        sa.Column("content_type", sa.String(255)),
        sa.Column("body", sa.LargeBinary, nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("claimed_by", sa.String(64)),
        sa.Column("claimed_until", UtcDateTime),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("processed_at", UtcDateTime),
        sa.Column("outcome", sa.String(32)),
        sa.Index("ux_callback_inbox_digest", "digest", unique=True),
        sa.Index("ix_callback_inbox_unprocessed", "processed_at", "id"),
    )
    return (inbox,)


def _migration_3(conn: Connection) -> None:
    """Tickets get their own indexed table (backfilled); status+time index."""
    migration_metadata = sa.MetaData()
    records = _audit_records_v1(migration_metadata)
    (tickets,) = _tables_v3(migration_metadata)
    tickets.create(conn)
    single = sa.select(records.c.sms_ticket, records.c.id).where(
        records.c.sms_ticket.is_not(None), records.c.sms_ticket.not_like("%,%")
    )
    conn.execute(sa.insert(tickets).from_select(["ticket", "audit_id"], single))
    batched = conn.execute(
        sa.select(records.c.id, records.c.sms_ticket).where(
            records.c.sms_ticket.like("%,%")
        )
    ).all()
    rows = [
        {"ticket": ticket, "audit_id": audit_id}
        for audit_id, joined in batched
        for ticket in dict.fromkeys(t.strip() for t in joined.split(","))
        if ticket
    ]
    if rows:
        conn.execute(sa.insert(tickets), rows)
    sa.Index("ix_audit_records_status", records.c.status).drop(conn)
    sa.Index(
        "ix_audit_records_status_created", records.c.status, records.c.created_at
    ).create(conn)


def _migration_4(conn: Connection) -> None:
    for table in _tables_v4(sa.MetaData()):
        table.create(conn)


#: ``MIGRATIONS[n]`` takes a database from version ``n`` to ``n + 1``.
MIGRATIONS: list[Callable[[Connection], None]] = [
    _migration_1,
    _migration_2,
    _migration_3,
    _migration_4,
]

#: The current shape of the tables added by migration 2.
opt_outs, notices, deliveries, pages = _tables_v2(metadata)
(audit_tickets,) = _tables_v3(metadata)
(callback_inbox,) = _tables_v4(metadata)


def schema_version(conn: Connection) -> int:
    """The version recorded in the database, 0 when it has never been migrated."""
    if not sa.inspect(conn).has_table(schema_versions.name):
        return 0
    version = conn.execute(sa.select(sa.func.max(schema_versions.c.version))).scalar()
    return int(version or 0)


def migrate(engine: Engine) -> int:
    """Apply the missing migrations in one transaction; return the version reached.

    Safe when several processes start at once: PostgreSQL takes an advisory lock and
    SQLite's ``BEGIN IMMEDIATE`` serialises. A database newer than this code is refused.

    Raises:
        AuditStoreError: the database is newer than the code, or a migration failed.
    """
    if len(MIGRATIONS) != SCHEMA_VERSION:
        raise AuditStoreError(
            f"{len(MIGRATIONS)} migrations for schema version {SCHEMA_VERSION}"
        )
    try:
        return _migrate(engine)
    except sa.exc.SQLAlchemyError as exc:
        # Another process may have created the same objects first; accept its work.
        try:
            with engine.connect() as conn:
                reached = schema_version(conn)
        except sa.exc.SQLAlchemyError:
            reached = -1
        if reached == SCHEMA_VERSION:
            return reached
        where = engine.url.render_as_string(hide_password=True)
        raise AuditStoreError(
            f"could not open or migrate the audit store at {where}: {describe(exc)}"
        ) from exc


def _migrate(engine: Engine) -> int:
    with engine.execution_options(**WRITE).begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_MIGRATION_LOCK)))
        current = schema_version(conn)
        if current > SCHEMA_VERSION:
            where = engine.url.render_as_string(hide_password=True)
            raise AuditStoreError(
                f"the audit store at {where} has schema version {current}, newer "
                f"than this sms-bot knows ({SCHEMA_VERSION}); upgrade sms-bot or use "
                "another database"
            )
        if current == SCHEMA_VERSION:
            return current
        schema_versions.create(conn, checkfirst=True)
        for number in range(current, SCHEMA_VERSION):
            MIGRATIONS[number](conn)
        conn.execute(sa.delete(schema_versions))
        conn.execute(sa.insert(schema_versions).values(version=SCHEMA_VERSION))
        logger.info(
            "audit schema migrated from version %d to %d", current, SCHEMA_VERSION
        )
        return SCHEMA_VERSION


def describe(exc: BaseException) -> str:
    """First line of a driver error, never its SQL or parameters (texts, numbers)."""
    orig = getattr(exc, "orig", None)
    detail = str(orig if orig is not None else exc).strip().splitlines()
    first = detail[0] if detail else ""
    return f"{type(orig or exc).__name__}: {first}"[:300]


def create_engine(url: str | sa.URL) -> Engine:
    """An engine for the audit store; connects lazily.

    SQLite gets WAL and ``BEGIN IMMEDIATE`` for writes, and its file's directory is
    created; PostgreSQL gets ``pool_pre_ping`` and a connect timeout.
    """
    parsed = sa.make_url(url)
    connect_args: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        connect_args = {"check_same_thread": False, "timeout": 30}
        engine = sa.create_engine(parsed, connect_args=connect_args)
        _tune_sqlite(engine)
        return engine
    if (
        parsed.get_backend_name() == "postgresql"
        and "connect_timeout" not in parsed.query
    ):
        connect_args["connect_timeout"] = 10
    return sa.create_engine(parsed, connect_args=connect_args, pool_pre_ping=True)


def _tune_sqlite(engine: Engine) -> None:
    """Make SQLite safe for many threads and processes (the pysqlite recipe)."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        # Stop pysqlite from issuing its own BEGIN; ours below says which kind.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA busy_timeout=30000")
            _enable_wal(cursor)
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get("sms_bot_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _enable_wal(cursor: Any) -> None:
    """Switch the file to WAL (persistent), retrying while another process does it.

    SQLite answers a concurrent ``journal_mode`` change with "database is locked" at
    once, without waiting for the busy timeout.
    """
    deadline = time.monotonic() + 30
    while True:
        try:
            if cursor.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)
