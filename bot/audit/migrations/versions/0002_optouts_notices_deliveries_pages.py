"""Opt-outs, once-only notices, delivery receipts and pages (schema version 2).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "opt_outs",
        sa.Column("number", sa.String(32), primary_key=True),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("message_id", sa.String(128)),
        sa.Column("note", sa.Text),
    )
    op.create_table(
        "notices",
        sa.Column("key", sa.String(128), primary_key=True),
        sa.Column("created_at", _TIME, nullable=False),
    )
    op.create_table(
        "deliveries",
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
        sa.Column("updated_at", _TIME, nullable=False),
    )
    op.create_index(
        "ux_deliveries_message_number",
        "deliveries",
        ["message_id", "number"],
        unique=True,
    )
    op.create_index("ix_deliveries_audit_id", "deliveries", ["audit_id"])
    op.create_table(
        "pages",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("created_at", _TIME, nullable=False),
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
        sa.Column("next_escalation_at", _TIME),
        sa.Column("acknowledged_by", sa.String(128)),
        sa.Column("acknowledged_at", _TIME),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_index("ix_pages_due", "pages", ["state", "next_escalation_at"])


def downgrade() -> None:
    for table in ("pages", "deliveries", "notices", "opt_outs"):
        op.drop_table(table)
