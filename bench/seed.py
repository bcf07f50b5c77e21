"""Fill an audit database with years of history, fast (``executemany`` / ``COPY``).

The shape is what a team that pages every day leaves behind: most records are old
and finished; what the hot paths look at (today's sends, a user's last hour, pending
attempts, open pages) is the same small amount whatever the size of the history, so
any growth of a path's cost with ``size`` is the cost of the history itself.
"""

from __future__ import annotations

import itertools
import json
import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bot.audit import tables

#: Records created today, in the last hour per user, still pending, pages still open.
TODAY = 300
PENDING = 5
OPEN_PAGES = 10
USERS = 200
CHANNELS = 50
#: One record in this many is a batched send (two tickets, comma-joined).
BATCHED_EVERY = 50
CHUNK = 20_000


@dataclass(frozen=True)
class Seeded:
    """What the benchmark paths look up: keys spread over the whole history."""

    size: int
    now: datetime
    tickets: Sequence[tuple[str, int]]
    users: Sequence[str]
    channels: Sequence[str]


def ticket_of(record_id: int) -> str:
    return f"sms_{record_id:013x}"


def seed(engine: Engine, size: int, *, now: datetime | None = None) -> Seeded:
    """Insert ``size`` audit records (and their tickets, receipts, pages, opt-outs)."""
    now = now or datetime.now(UTC)
    rng = random.Random(size)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    today = min(TODAY, size)
    history_end = midnight - timedelta(days=1)
    span = timedelta(days=730).total_seconds()

    def created(record_id: int) -> datetime:
        if record_id > size - today:  # today's records, in order, the newest last
            share = (record_id - (size - today)) / (today + 1)
            return midnight + (now - midnight) * share
        return history_end - timedelta(seconds=span * (1 - record_id / size))

    def status(record_id: int) -> str:
        if record_id > size - PENDING:
            return "pending"
        roll = record_id % 20
        return "failed" if roll == 0 else "rejected" if roll == 1 else "sent"

    def records() -> Iterator[dict[str, Any]]:
        for record_id in range(1, size + 1):
            at = created(record_id)
            state = status(record_id)
            sent = state == "sent"
            ticket = ticket_of(record_id) if sent else None
            if sent and record_id % BATCHED_EVERY == 0:
                ticket = f"{ticket},{ticket_of(record_id)}b"
            yield {
                "id": record_id,
                "created_at": at,
                "completed_at": None if state == "pending" else at,
                "source": "slash",
                "slack_team_id": "T1",
                "slack_user_id": f"U{record_id % USERS}",
                "slack_channel_id": f"C{record_id % CHANNELS}",
                "recipients": ["+33600000000"],
                "text": "bench",
                "simulation": False,
                "request_id": f"req-{record_id}",
                "status": state,
                "sms_ticket": ticket,
                "number_of_contacts": 1,
                "number_of_sms_needed": 1,
                "total_cost": 0.05 if sent else None,
                "slack_message_channel": f"C{record_id % CHANNELS}",
                "slack_message_ts": f"{record_id}.000100",
            }

    def tickets() -> Iterator[dict[str, Any]]:
        for record_id in range(1, size - PENDING + 1):
            if status(record_id) == "sent":
                yield {"ticket": ticket_of(record_id), "audit_id": record_id}
                if record_id % BATCHED_EVERY == 0:
                    yield {"ticket": f"{ticket_of(record_id)}b", "audit_id": record_id}

    def deliveries() -> Iterator[dict[str, Any]]:
        for row in tickets():
            yield {
                "audit_id": row["audit_id"],
                "message_id": row["ticket"],
                "number": "+33600000000",
                "status": "DELIVERED",
                "raw_status": "DELIVERED",
                "updated_at": created(row["audit_id"]),
            }

    def pages() -> Iterator[dict[str, Any]]:
        count = max(size // 100, OPEN_PAGES)
        for page_id in range(1, count + 1):
            audit_id = max(1, min(size, page_id * 100))
            is_open = page_id > count - OPEN_PAGES
            yield {
                "id": page_id,
                "created_at": created(audit_id),
                "target": "db-oncall",
                "text": "bench",
                "members": ["alice", "bob"],
                "member_index": 0,
                "audit_ids": [audit_id],
                "state": "open" if is_open else "acknowledged",
                "next_escalation_at": now + timedelta(minutes=5) if is_open else None,
                "version": 1,
            }

    def opt_outs() -> Iterator[dict[str, Any]]:
        for n in range(max(size // 100, 1)):
            yield {
                "number": f"+3375{n:07d}",
                "created_at": created(n + 1),
                "source": "callback",
            }

    load(engine, tables.audit_records, records())
    load(engine, tables.audit_tickets, tickets())
    load(engine, tables.deliveries, deliveries())
    load(engine, tables.pages, pages())
    load(engine, tables.opt_outs, opt_outs())
    load(engine, tables.callback_inbox, inbox_rows(size, created))
    load(engine, tables.stored_commands, command_rows(size, created))
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(
                sa.text("SELECT setval('audit_records_id_seq', :n)"), {"n": size}
            )
            for sequence in (
                "pages_id_seq",
                "callback_inbox_id_seq",
                "stored_commands_id_seq",
            ):
                conn.execute(sa.text(f"SELECT setval('{sequence}', :n)"), {"n": size})
    if engine.dialect.name == "postgresql":
        # What autovacuum does on its own after a load: statistics and the visibility
        # map, so a table that grew over years is measured, not a fresh bulk insert.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    if engine.dialect.name == "sqlite":
        # Bulk loading leaves a WAL as big as the data; a database that grew over
        # years has checkpointed all along, so measure without that one-off debt.
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    sample = sorted(rng.sample(range(1, size - PENDING + 1), min(size - PENDING, 500)))
    return Seeded(
        size=size,
        now=now,
        tickets=[(ticket_of(i), i) for i in sample if status(i) == "sent"],
        users=[f"U{n}" for n in range(USERS)],
        channels=[f"C{n}" for n in range(CHANNELS)],
    )


def inbox_rows(size: int, created: Any) -> Iterator[dict[str, Any]]:
    """Processed callbacks, one per record: the inbox keeps what it handled."""
    for n in range(1, size + 1):
        body = json.dumps({"message_id": ticket_of(n), "status": "DELIVERED"})
        yield {
            "id": n,
            "received_at": created(n),
            "content_type": "application/json",
            "body": body.encode(),
            "digest": f"{n:064x}",
            "processed_at": created(n),
            "attempts": 1,
        }


def command_rows(size: int, created: Any) -> Iterator[dict[str, Any]]:
    """Run ``/sms`` commands, one per record (their bodies dropped once run)."""
    for n in range(1, size + 1):
        yield {
            "id": n,
            "received_at": created(n),
            "content_type": "send",
            "body": b"",
            "digest": f"{n:064x}",
            "processed_at": created(n),
            "attempts": 1,
            "outcome": "run",
        }


def load(engine: Engine, table: sa.Table, rows: Iterable[dict[str, Any]]) -> None:
    """Bulk-insert ``rows``: ``COPY`` on PostgreSQL, ``executemany`` on SQLite."""
    iterator = iter(rows)
    first = next(iterator, None)
    if first is None:
        return
    columns = list(first)  # the columns the rows give; the others take defaults
    rows = itertools.chain([first], iterator)
    with engine.begin() as conn:
        dbapi = conn.connection.dbapi_connection
        assert dbapi is not None
        cursor = dbapi.cursor()
        if conn.dialect.name == "postgresql":
            names = ", ".join(columns)
            with cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row([_pg(row.get(name)) for name in columns])
            return
        marks = ", ".join("?" for _ in columns)
        statement = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})"
        chunk: list[tuple[Any, ...]] = []
        for row in rows:
            chunk.append(tuple(_sqlite(row.get(name)) for name in columns))
            if len(chunk) >= CHUNK:
                cursor.executemany(statement, chunk)
                chunk.clear()
        if chunk:
            cursor.executemany(statement, chunk)


def _sqlite(value: Any) -> Any:
    """The value as SQLAlchemy stores it on SQLite (naive UTC text, JSON text)."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, list):
        return json.dumps(value)
    return value


def _pg(value: Any) -> Any:
    if isinstance(value, list):
        return json.dumps(value)
    if isinstance(value, bytes):
        return value
    return value
