"""Delivery receipts per recipient, so a channel post can show each one's state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from bot.audit.store import AuditStore
from bot.audit.tables import deliveries


@dataclass(frozen=True)
class Delivery:
    number: str
    status: str
    raw_status: str
    updated_at: datetime


class DeliveryLog:
    """Latest receipt per (ticket, number); duplicates and late receipts are harmless."""

    def __init__(self, store: AuditStore) -> None:
        self._store = store

    def record(
        self,
        *,
        audit_id: int | None,
        message_id: str,
        number: str,
        status: str,
        raw_status: str,
    ) -> bool:
        """Store a receipt; False when it changes nothing (a duplicate callback)."""
        key = (deliveries.c.message_id == message_id) & (deliveries.c.number == number)
        with self._store.transaction("record a delivery receipt", write=True) as conn:
            row = conn.execute(
                sa.select(deliveries.c.status, deliveries.c.raw_status).where(key)
            ).first()
            values = {
                "status": status,
                "raw_status": raw_status,
                "updated_at": self._store.now(),
            }
            if row is None:
                conn.execute(
                    sa.insert(deliveries).values(
                        audit_id=audit_id,
                        message_id=message_id,
                        number=number,
                        **values,
                    )
                )
                return True
            if (row.status, row.raw_status) == (status, raw_status):
                return False
            conn.execute(sa.update(deliveries).where(key).values(**values))
            return True

    def status_of(self, *, message_id: str, number: str) -> str | None:
        """The last status recorded for one recipient of one ticket, if any."""
        key = (deliveries.c.message_id == message_id) & (deliveries.c.number == number)
        with self._store.transaction("read a delivery receipt") as conn:
            row = conn.execute(sa.select(deliveries.c.status).where(key)).first()
        return None if row is None else str(row[0])

    def for_audit(self, audit_id: int) -> list[Delivery]:
        query = (
            sa.select(deliveries)
            .where(deliveries.c.audit_id == audit_id)
            .order_by(deliveries.c.id)
        )
        with self._store.transaction("read delivery receipts") as conn:
            rows = conn.execute(query).mappings().all()
        return [
            Delivery(row["number"], row["status"], row["raw_status"], row["updated_at"])
            for row in rows
        ]
