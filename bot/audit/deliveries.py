"""Delivery receipts per recipient, so a channel post can show each one's state."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot.audit.dialects import insert
from bot.audit.driver_statements import on_driver
from bot.audit.store import AuditStore, set_post
from bot.audit.tables import deliveries

#: Read with every result post remembered (a receipt may have come first): built once.
_FOR_AUDIT = (
    sa.select(deliveries)
    .where(deliveries.c.audit_id == sa.bindparam("audit_id"))
    .order_by(deliveries.c.id)
)


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
        final_statuses: Collection[str],
    ) -> bool:
        """Store a receipt; False when it changes nothing.

        One ``INSERT … ON CONFLICT DO UPDATE … WHERE`` statement, so two copies of a
        callback cannot both insert, and a late non-final receipt (ACK after DELIVERED)
        never overwrites a final one (one of ``final_statuses``), however the receipts
        interleave.
        """
        values = {
            "audit_id": audit_id,
            "message_id": message_id,
            "number": number,
            "status": status,
            "raw_status": raw_status,
            "updated_at": self._store.now(),
        }
        final = list(final_statuses)
        with self._store.transaction("record a delivery receipt", write=True) as conn:
            statement = insert(conn, deliveries).values(values)
            new, old = statement.excluded, deliveries.c
            statement = statement.on_conflict_do_update(
                index_elements=["message_id", "number"],
                set_={
                    "status": new.status,
                    "raw_status": new.raw_status,
                    "updated_at": new.updated_at,
                    "audit_id": sa.func.coalesce(old.audit_id, new.audit_id),
                },
                where=sa.and_(
                    sa.or_(old.status != new.status, old.raw_status != new.raw_status),
                    sa.or_(old.status.not_in(final), new.status.in_(final)),
                ),
            )
            changed = conn.execute(statement.returning(deliveries.c.id)).first()
            return changed is not None

    def status_of(self, *, message_id: str, number: str) -> str | None:
        """The last status recorded for one recipient of one ticket, if any."""
        key = (deliveries.c.message_id == message_id) & (deliveries.c.number == number)
        with self._store.transaction("read a delivery receipt") as conn:
            row = conn.execute(sa.select(deliveries.c.status).where(key)).first()
        return None if row is None else str(row[0])

    def for_audit(self, audit_id: int) -> list[Delivery]:
        with self._store.transaction("read delivery receipts") as conn:
            return _receipts(conn, audit_id)

    def remember_post(self, audit_id: int, *, channel: str, ts: str) -> list[Delivery]:
        """Store where attempt ``audit_id`` is shown; give the receipts stored before.

        One write transaction for both, after every result post (it was two): a
        receipt that beat the post found nothing to update, so whoever remembers the
        post shows it.

        Raises:
            AuditStoreError: no such record, or the store failed.
        """
        with self._store.transaction("remember the Slack message", write=True) as conn:
            set_post(conn, audit_id, channel=channel, ts=ts)
            return _receipts(conn, audit_id)


def _receipts(conn: Connection, audit_id: int) -> list[Delivery]:
    driver = on_driver(conn)  # SQLite: on the driver (every result post reads this)
    if driver is not None:
        rows: Sequence[Mapping[Any, Any]] = driver.mappings(
            _FOR_AUDIT, {"audit_id": audit_id}
        )
    else:
        rows = conn.execute(_FOR_AUDIT, {"audit_id": audit_id}).mappings().all()
    return [
        Delivery(row["number"], row["status"], row["raw_status"], row["updated_at"])
        for row in rows
    ]
