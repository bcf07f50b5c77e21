"""Cancelled scheduled sends: when, by whom, and whether the cost came back.

``/sms cancel``, ``sms-bot cancel`` and the *Cancel* button turn a ``sent`` record
whose SMS is still scheduled into ``cancelled``. Octopush allows 1,000 cancels a month
per API user: ``ix_audit_records_cancelled_at`` keeps counting this month's cheap.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

#: Frozen here, as the revision created it (tables.UtcDateTime stores this type).
_TIME = sa.DateTime(timezone=True)

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("audit_records", sa.Column("cancelled_at", _TIME))
    op.add_column("audit_records", sa.Column("cancelled_by", sa.String(64)))
    op.add_column("audit_records", sa.Column("cancel_refunded", sa.Boolean))
    op.create_index("ix_audit_records_cancelled_at", "audit_records", ["cancelled_at"])


def downgrade() -> None:
    op.drop_index("ix_audit_records_cancelled_at", table_name="audit_records")
    with op.batch_alter_table("audit_records") as batch:
        batch.drop_column("cancel_refunded")
        batch.drop_column("cancelled_by")
        batch.drop_column("cancelled_at")
