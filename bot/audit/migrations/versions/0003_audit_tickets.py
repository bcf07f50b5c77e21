"""One row per Octopush ticket, backfilled; status indexed with the time.

Callbacks used to find their send with ``sms_ticket = ? OR sms_ticket LIKE '%…%'``,
a full scan of the audit trail (batched sends keep their tickets comma-joined there).
The budget and the pending sweep read one status since a time, so ``status`` alone
becomes ``(status, created_at)``.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

#: Frozen here, as the revision created them.
_records = sa.table(
    "audit_records", sa.column("id", sa.Integer), sa.column("sms_ticket", sa.String)
)
_tickets = sa.table(
    "audit_tickets", sa.column("ticket", sa.String), sa.column("audit_id", sa.Integer)
)


def upgrade() -> None:
    op.create_table(
        "audit_tickets",
        sa.Column("ticket", sa.String(128), nullable=False),
        sa.Column(
            "audit_id",
            sa.Integer,
            sa.ForeignKey("audit_records.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("ticket", "audit_id", name="pk_audit_tickets"),
    )
    op.create_index("ix_audit_tickets_audit_id", "audit_tickets", ["audit_id"])
    _backfill()
    op.create_index(
        "ix_audit_records_status_created", "audit_records", ["status", "created_at"]
    )
    op.drop_index("ix_audit_records_status", table_name="audit_records")


def _backfill() -> None:
    """One ticket per record in one statement; the few batched records split here."""
    single = sa.select(_records.c.sms_ticket, _records.c.id).where(
        _records.c.sms_ticket.is_not(None), _records.c.sms_ticket.not_like("%,%")
    )
    op.execute(sa.insert(_tickets).from_select(["ticket", "audit_id"], single))
    conn = op.get_bind()
    batched = conn.execute(
        sa.select(_records.c.id, _records.c.sms_ticket).where(
            _records.c.sms_ticket.like("%,%")
        )
    ).all()
    rows = [
        {"ticket": ticket, "audit_id": audit_id}
        for audit_id, joined in batched
        for ticket in dict.fromkeys(part.strip() for part in joined.split(","))
        if ticket
    ]
    if rows:
        conn.execute(sa.insert(_tickets), rows)


def downgrade() -> None:
    op.create_index("ix_audit_records_status", "audit_records", ["status"])
    op.drop_index("ix_audit_records_status_created", table_name="audit_records")
    op.drop_table("audit_tickets")
