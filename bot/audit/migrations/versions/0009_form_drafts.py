"""Send-form drafts kept server-side when they exceed Slack's private_metadata (issue 18).

A form whose recipients and message made more than 3,000 characters showed **Send**
and then sent nothing; its draft now waits here, under a random id bound to the user.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "form_drafts",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
    )
    op.create_index("ix_form_drafts_created_at", "form_drafts", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_form_drafts_created_at", "form_drafts")
    op.drop_table("form_drafts")
