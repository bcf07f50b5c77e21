"""The schema code of the last release before Alembic, frozen: what its users' databases hold.

A copy of ``_audit_records_v1``, ``_tables_v2`` and the migration steps of
``bot/audit/schema.py`` at that release, so the upgrade tests start from a database
made exactly as that release made it. Never change it.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from bot.audit.tables import UtcDateTime


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


schema_versions = sa.Table(
    "sms_bot_schema",
    sa.MetaData(),
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


#: ``MIGRATIONS[n]`` takes a database from version ``n`` to ``n + 1``.
MIGRATIONS: list[Callable[[Connection], None]] = [_migration_1, _migration_2]


def create_legacy_database(engine: Engine, version: int) -> None:
    """Make the database that release made, at ``version`` (1 or 2)."""
    with engine.begin() as conn:
        schema_versions.create(conn)
        for number in range(version):
            MIGRATIONS[number](conn)
        conn.execute(sa.insert(schema_versions).values(version=version))
