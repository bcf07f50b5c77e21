"""The audit table (schema version 1 of the first release).

Revision ID: 0001
Revises:
Create Date: 2026-11-20
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

#: Frozen here: a revision never changes once released, whatever ``tables.py`` becomes.
_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "audit_records",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("completed_at", _TIME),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("slack_team_id", sa.String(64)),
        sa.Column("slack_user_id", sa.String(64)),
        sa.Column("slack_channel_id", sa.String(64)),
        sa.Column("recipients", sa.JSON, nullable=False),
        sa.Column("text", sa.Text),
        sa.Column("sender", sa.String(64)),
        sa.Column("sms_type", sa.String(32)),
        sa.Column("purpose", sa.String(32)),
        sa.Column("send_at", _TIME),
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
    )
    op.create_index(
        "ux_audit_records_request_id", "audit_records", ["request_id"], unique=True
    )
    op.create_index("ix_audit_records_created_at", "audit_records", ["created_at"])
    op.create_index(
        "ix_audit_records_channel_created",
        "audit_records",
        ["slack_channel_id", "created_at"],
    )
    op.create_index(
        "ix_audit_records_user_created",
        "audit_records",
        ["slack_user_id", "created_at"],
    )
    op.create_index("ix_audit_records_status", "audit_records", ["status"])


def downgrade() -> None:
    op.drop_table("audit_records")
