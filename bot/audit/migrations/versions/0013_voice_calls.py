"""Voice escalation steps (issue 22): the call timer of a page, and its calls.

``pages.call_after_s``/``next_call_at`` are the voice step's timer, fired by a
compare-and-set like ``next_escalation_at``; ``page_calls`` keeps the request id of
each member's call, written with the claim before Octopush is called.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

#: Frozen here, as the revision created it (tables.UtcDateTime stores this type).
_TIME = sa.DateTime(timezone=True)

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("pages") as batch:
        batch.add_column(sa.Column("call_after_s", sa.Integer))
        batch.add_column(sa.Column("next_call_at", _TIME))
    op.create_index("ix_pages_call_due", "pages", ["state", "next_call_at"])
    op.create_table(
        "page_calls",
        sa.Column(
            "page_id",
            sa.Integer,
            sa.ForeignKey("pages.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("member_index", sa.Integer, nullable=False),
        sa.Column("request_id", sa.String(128), nullable=False),
        sa.PrimaryKeyConstraint("page_id", "member_index", name="pk_page_calls"),
    )
    op.create_index("ix_page_calls_request_id", "page_calls", ["request_id"])


def downgrade() -> None:
    op.drop_table("page_calls")
    op.drop_index("ix_pages_call_due", table_name="pages")
    with op.batch_alter_table("pages") as batch:
        batch.drop_column("next_call_at")
        batch.drop_column("call_after_s")
