"""A lease on each pending attempt, and the key of a group of retried attempts.

The pending sweep used to take any attempt left ``pending`` for a minute, so it took
over sends still running (a batched send of 1,200 numbers) and attempts whose answer
the running process held but had not written yet. ``claimed_by``/``claimed_until``
are the lease the sending process (or the sweep settling it) holds and renews; the
sweep only takes a pending attempt whose lease ran out. ``request_key`` is the
caller's ``--request-id`` when an attempt that definitely did not go out is tried
again under a derived Octopush ``request_id`` (``nightly-1#2``).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

#: Frozen here, as the revision created it (tables.UtcDateTime stores this type).
_TIME = sa.DateTime(timezone=True)

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("audit_records", sa.Column("claimed_by", sa.String(64)))
    op.add_column("audit_records", sa.Column("claimed_until", _TIME))
    op.add_column("audit_records", sa.Column("request_key", sa.String(128)))
    op.create_index("ix_audit_records_request_key", "audit_records", ["request_key"])


def downgrade() -> None:
    op.drop_index("ix_audit_records_request_key", table_name="audit_records")
    with op.batch_alter_table("audit_records") as batch:
        batch.drop_column("request_key")
        batch.drop_column("claimed_until")
        batch.drop_column("claimed_by")
