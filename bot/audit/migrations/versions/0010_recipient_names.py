"""The names a send's post shows next to masked numbers, kept for receipt updates.

A post is rebuilt from its audit record when a delivery receipt arrives; the record
keeps only numbers, so without this a recipient named at send time (``Bob Durand``)
became a bare masked number at the first receipt.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "recipient_names",
        sa.Column(
            "audit_id",
            sa.Integer,
            sa.ForeignKey("audit_records.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("number", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("recipient_names")
