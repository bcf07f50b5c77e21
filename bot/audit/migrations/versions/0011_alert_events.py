"""Alert webhook events (stored before they are answered) and the alert keys that
keep one open page per alert.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

_TIME = sa.DateTime(timezone=True)

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("received_at", _TIME, nullable=False),
        sa.Column("integration", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("dedup_key", sa.String(255), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("content_type", sa.String(255)),
        sa.Column("body", sa.LargeBinary, nullable=False),
        sa.Column("claimed_by", sa.String(64)),
        sa.Column("claimed_until", _TIME),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("processed_at", _TIME),
        sa.Column("outcome", sa.String(32)),
        sa.Column("page_id", sa.Integer),
    )
    op.create_index(
        "ix_alert_events_unprocessed", "alert_events", ["processed_at", "id"]
    )
    op.create_index("ix_alert_events_key", "alert_events", ["integration", "dedup_key"])
    op.create_table(
        "alert_keys",
        sa.Column("integration", sa.String(64), primary_key=True),
        sa.Column("dedup_key", sa.String(255), primary_key=True),
        sa.Column("page_id", sa.Integer),
        sa.Column("is_open", sa.Boolean, nullable=False),
        sa.Column("opened_at", _TIME),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("summary", sa.Text),
        sa.Column("severity", sa.String(32)),
        sa.Column("firing", sa.Integer),
        sa.Column("links", sa.JSON),
    )
    op.create_index("ix_alert_keys_page_id", "alert_keys", ["page_id"])


def downgrade() -> None:
    op.drop_table("alert_keys")
    op.drop_table("alert_events")
