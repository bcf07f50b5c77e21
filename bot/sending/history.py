"""``/sms history``: the sends of one channel, newest first.

A refused attempt is audited (``rejected``) but nothing was sent: it is not a send, so
the channel's history leaves it out (``sms-bot audit`` lists every attempt).
"""

from __future__ import annotations

import sqlalchemy as sa

from bot.audit.records import AuditRecord
from bot.audit.store import AuditStore
from bot.audit.tables import audit_records
from bot.domain import AuditStatus


def channel_sends(
    store: AuditStore, *, channel_id: str | None, limit: int
) -> list[AuditRecord]:
    """The last ``limit`` sends (sent, failed, pending) of ``channel_id``."""
    table = audit_records
    query = (
        sa.select(table)
        .where(table.c.slack_channel_id == channel_id)
        .where(table.c.status != AuditStatus.REJECTED.value)
        .order_by(table.c.created_at.desc(), table.c.id.desc())
        .limit(max(limit, 1))
    )
    with store.transaction("list a channel's sends") as conn:
        rows = conn.execute(query).mappings().all()
    return [AuditRecord.model_validate(dict(row)) for row in rows]
