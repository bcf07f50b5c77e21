"""Stored ``/sms`` commands and the senders that run them.

The ack stores a command before it answers Slack; a sender (``sms-bot sender``, or the
one ``serve`` and gunicorn start) claims it with the callback inbox's leases and runs
it. ``command_senders`` holds each sender's heartbeat, so a command that waits with no
live sender is an error the health check shows. On SQLite the running bot keeps these
two tables in a file of their own beside the audit trail (an insert in an ack never
waits behind a send's transaction); they are created here too, so every database has
the same schema.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

#: Frozen here, as the revision created it (tables.UtcDateTime stores this type).
_TIME = sa.DateTime(timezone=True)

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stored_commands",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("received_at", _TIME, nullable=False),
        sa.Column("content_type", sa.String(255)),
        sa.Column("body", sa.LargeBinary, nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("claimed_by", sa.String(64)),
        sa.Column("claimed_until", _TIME),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("processed_at", _TIME),
        sa.Column("outcome", sa.String(32)),
    )
    op.create_index(
        "ux_stored_commands_digest", "stored_commands", ["digest"], unique=True
    )
    op.create_index(
        "ix_stored_commands_unprocessed", "stored_commands", ["processed_at", "id"]
    )
    op.create_table(
        "command_senders",
        sa.Column("owner", sa.String(64), primary_key=True),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("started_at", _TIME, nullable=False),
        sa.Column("seen_at", _TIME, nullable=False),
    )
    op.create_index("ix_command_senders_seen_at", "command_senders", ["seen_at"])


def downgrade() -> None:
    op.drop_index("ix_command_senders_seen_at", table_name="command_senders")
    op.drop_table("command_senders")
    op.drop_index("ix_stored_commands_unprocessed", table_name="stored_commands")
    op.drop_index("ux_stored_commands_digest", table_name="stored_commands")
    op.drop_table("stored_commands")
