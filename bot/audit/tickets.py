"""Octopush tickets, one row each, so a callback finds its send through an index.

Callbacks carry the campaign ticket as ``message_id``. A send split in batches has
one ticket per batch; ``audit_records.sms_ticket`` keeps them comma-joined for
reading, and ``audit_tickets`` holds one row per ticket for lookups.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot.audit.dialects import insert
from bot.audit.driver_statements import on_driver
from bot.audit.tables import audit_records, audit_tickets


def split_tickets(joined: str | None) -> list[str]:
    """The tickets of an ``sms_ticket`` value, in order, without blanks or repeats."""
    parts = (part.strip() for part in (joined or "").split(","))
    return list(dict.fromkeys(part for part in parts if part))


#: The ticket insert of each dialect, built once (every completed send runs it; on
#: SQLite on the driver's cursor, :mod:`bot.audit.driver_statements`).
_ADD: dict[str, Any] = {}
_TICKET_KEYS = ("ticket", "audit_id")


def add_tickets(conn: Connection, audit_id: int, joined: str | None) -> None:
    """Index every ticket of one record (in the caller's transaction)."""
    rows = [{"ticket": t, "audit_id": audit_id} for t in split_tickets(joined)]
    if rows:
        statement = _ADD.get(conn.dialect.name)
        if statement is None:
            statement = insert(conn, audit_tickets).on_conflict_do_nothing(
                index_elements=["ticket", "audit_id"]
            )
            _ADD[conn.dialect.name] = statement
        driver = on_driver(conn)
        if driver is not None:
            driver.execute_many(statement, rows, column_keys=_TICKET_KEYS)
        else:
            conn.execute(statement, rows)


def by_ticket(ticket: str) -> sa.Select[tuple[int]]:
    """The id of the newest record that got ``ticket`` (an index seek, no scan)."""
    return (
        sa.select(audit_tickets.c.audit_id)
        .where(audit_tickets.c.ticket == ticket)
        .order_by(audit_tickets.c.audit_id.desc())
        .limit(1)
    )


def record_by_ticket(ticket: str) -> sa.Select[tuple[object, ...]]:
    """The newest audit record that got ``ticket``."""
    return sa.select(audit_records).where(
        audit_records.c.id == by_ticket(ticket).scalar_subquery()
    )
