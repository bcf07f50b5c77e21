"""The per-user rate window read from its index alone.

A send's admission counts the sender's attempts in the rate's window, leaving the
refused ones out. The index on ``(slack_user_id, created_at)`` found them, but each
one's ``status`` was read from the table: one row lookup per send in the window, so a
user allowed thousands of sends a minute (an automation account) paid for thousands
of lookups on every send. With ``status`` in the index the count never leaves it
(SQLite: a covering index; PostgreSQL: an index-only scan): 1,950 sends in the window
took 1.1 ms to count, and 0.17 ms now. The new index serves every query the old one
did (its two columns come first), so the old one is dropped.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_audit_records_user_created_status",
        "audit_records",
        ["slack_user_id", "created_at", "status"],
    )
    op.drop_index("ix_audit_records_user_created", table_name="audit_records")


def downgrade() -> None:
    op.create_index(
        "ix_audit_records_user_created",
        "audit_records",
        ["slack_user_id", "created_at"],
    )
    op.drop_index("ix_audit_records_user_created_status", table_name="audit_records")
