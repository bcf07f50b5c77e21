"""What the App Home shows of the audit trail: a person's last sends, and the admin figures.

Read-only; the Slack layer reads the audit trail through here (it may not import the
store). The credit is the one Octopush gave with the newest send: no balance is
fetched to draw a Home, so opening it never costs a gateway call.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import sqlalchemy as sa

from bot.audit.ledger import SendLedger
from bot.audit.records import AuditRecord
from bot.audit.store import AuditStore
from bot.audit.tables import audit_records, callback_inbox, deliveries
from bot.domain import AuditStatus


@dataclass(frozen=True)
class SendLine:
    """One send and its receipts, counted by delivery status (``delivered``: 2)."""

    record: AuditRecord
    receipts: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class AdminFacts:
    """The figures an admin sees: credit, today's spend, attempts pending, last callback."""

    credit: float | None
    credit_at: datetime | None
    spent_today: float
    pending: int
    last_callback_at: datetime | None


def user_sends(store: AuditStore, user_id: str, *, limit: int = 5) -> list[SendLine]:
    """The last ``limit`` sends of ``user_id`` (refusals left out: nothing was sent)."""
    t = audit_records
    query = (
        sa.select(t)
        .where(t.c.slack_user_id == user_id)
        .where(t.c.status != AuditStatus.REJECTED.value)
        .order_by(t.c.created_at.desc(), t.c.id.desc())
        .limit(max(limit, 1))
    )
    with store.transaction("list a person's sends") as conn:
        rows = conn.execute(query).mappings().all()
        records = [AuditRecord.model_validate(dict(row)) for row in rows]
        counts: dict[int, dict[str, int]] = {r.id: {} for r in records}
        if records:
            d = deliveries
            tally = (
                sa.select(d.c.audit_id, d.c.status, sa.func.count())
                .where(d.c.audit_id.in_(list(counts)))
                .group_by(d.c.audit_id, d.c.status)
            )
            for audit_id, status, count in conn.execute(tally):
                counts[int(audit_id)][str(status)] = int(count)
    return [SendLine(record, counts[record.id]) for record in records]


def admin_facts(store: AuditStore, *, now: datetime) -> AdminFacts:
    """Today's (UTC, as ``SMS_DAILY_BUDGET`` counts it) spend, pending attempts, the
    newest credit Octopush reported and when the last callback arrived."""
    t = audit_records
    midnight = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    credit_query = (
        sa.select(t.c.residual_credit, t.c.completed_at, t.c.created_at)
        .where(t.c.residual_credit.is_not(None), t.c.simulation.is_(False))
        .order_by(t.c.created_at.desc(), t.c.id.desc())
        .limit(1)
    )
    pending_query = sa.select(sa.func.count()).where(
        t.c.status == AuditStatus.PENDING.value
    )
    callback_query = sa.select(callback_inbox.c.received_at).order_by(
        callback_inbox.c.received_at.desc()
    )
    with store.transaction("read the admin figures") as conn:
        spent, _in_flight = SendLedger(store).spending(conn, midnight)
        credit_row = conn.execute(credit_query).first()
        pending = int(conn.execute(pending_query).scalar_one())
        last_callback = conn.execute(callback_query.limit(1)).scalar()
    credit, credit_at = None, None
    if credit_row is not None:
        credit = float(credit_row[0])
        credit_at = credit_row[1] or credit_row[2]
    return AdminFacts(
        credit=credit,
        credit_at=credit_at,
        spent_today=spent,
        pending=pending,
        last_callback_at=last_callback,
    )
