"""Which page each SMS belongs to, by index (receipts and replies find their page).

Before this, finding the page of an SMS read every open page and searched its JSON
list of attempts: a cost that grew with the open pages, and a closed (acknowledged)
page was not found at all, so a late receipt replaced its post with a plain result.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "page_audits",
        sa.Column(
            "audit_id",
            sa.Integer,
            sa.ForeignKey("audit_records.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "page_id",
            sa.Integer,
            sa.ForeignKey("pages.id", ondelete="CASCADE"),
            nullable=False,
        ),
    )
    op.create_index("ix_page_audits_page_id", "page_audits", ["page_id"])
    conn = op.get_bind()
    existing = set(conn.execute(sa.text("SELECT id FROM audit_records")).scalars())
    rows = []
    seen: set[int] = set()
    for page_id, audit_ids in conn.execute(sa.text("SELECT id, audit_ids FROM pages")):
        if isinstance(audit_ids, str):  # SQLite hands JSON back as text here
            audit_ids = json.loads(audit_ids)
        for audit_id in audit_ids or []:
            if audit_id in existing and audit_id not in seen:
                seen.add(audit_id)
                rows.append({"audit_id": int(audit_id), "page_id": int(page_id)})
    if rows:
        op.bulk_insert(table, rows)


def downgrade() -> None:
    op.drop_table("page_audits")
