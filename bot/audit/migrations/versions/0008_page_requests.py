"""The request id of each page member's SMS, written before the SMS (issue 18).

Before this, a page learnt which SMS were its own only after each send (``audit_ids``
and ``page_audits``). When that write failed, the SMS was out but the page did not
know it: no ACK by SMS, no failover. Now the request id is stored with the page (or
with the move to the next member) before Octopush is called.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "page_requests",
        sa.Column(
            "page_id",
            sa.Integer,
            sa.ForeignKey("pages.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("member_index", sa.Integer, nullable=False),
        sa.Column("request_id", sa.String(128), nullable=False),
        sa.PrimaryKeyConstraint("page_id", "member_index", name="pk_page_requests"),
    )
    op.create_index("ix_page_requests_request_id", "page_requests", ["request_id"])


def downgrade() -> None:
    op.drop_table("page_requests")
