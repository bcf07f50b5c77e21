"""Octopush callbacks stored before they are answered, and handled from there.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "callback_inbox",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("received_at", _TIME, nullable=False),
        sa.Column("content_type", sa.String(255)),
        sa.Column("body", sa.LargeBinary, nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("claimed_by", sa.String(64)),
        sa.Column("claimed_until", _TIME),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("processed_at", _TIME),
        sa.Column("outcome", sa.String(32)),
    )
    op.create_index(
        "ux_callback_inbox_digest", "callback_inbox", ["digest"], unique=True
    )
    op.create_index(
        "ix_callback_inbox_unprocessed", "callback_inbox", ["processed_at", "id"]
    )


def downgrade() -> None:
    op.drop_table("callback_inbox")
