"""On-call overrides: someone covers a rotation's shift for a while (issue 11).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "oncall_overrides",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("rotation", sa.String(128), nullable=False),
        sa.Column("person", sa.String(128), nullable=False),
        sa.Column("starts_at", _TIME, nullable=False),
        sa.Column("ends_at", _TIME, nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("created_by", sa.String(64)),
        sa.Column("cleared_at", _TIME),
        sa.Column("cleared_by", sa.String(64)),
    )
    op.create_index(
        "ix_oncall_overrides_rotation_ends",
        "oncall_overrides",
        ["rotation", "ends_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_oncall_overrides_rotation_ends", "oncall_overrides")
    op.drop_table("oncall_overrides")
