"""Reads and writes of the audit trail: one transaction per operation, errors wrapped.

Every send attempt gets a record before Octopush is called (:meth:`AuditStore.begin`)
and is completed after (:meth:`AuditStore.complete`); refused attempts get one
``rejected`` record (:meth:`AuditStore.reject`). Driver errors never leave this module
raw: they become :class:`~bot.errors.AuditStoreError` with the cause chained.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from bot.audit.driver_statements import on_driver
from bot.audit.engine import WRITE, checkpoint, describe, open_engine
from bot.audit.migrate import migrate
from bot.audit.records import (
    AlreadySettledError,
    AttemptResult,
    AuditRecord,
    DuplicateAttemptError,
    NewAttempt,
)
from bot.audit.tables import audit_records
from bot.audit.tickets import add_tickets, record_by_ticket
from bot.audit.write_turn import WriteTurn, lock_file_for
from bot.domain import AuditStatus
from bot.errors import AuditStoreError

_t = audit_records

# Written on every send, built once (the values come with each execution); on SQLite
# run on the driver's cursor (:mod:`bot.audit.driver_statements`).
_COMPLETE = sa.update(_t).where(
    _t.c.id == sa.bindparam("record_id"), _t.c.status == AuditStatus.PENDING.value
)
_STATUS = sa.select(_t.c.status).where(_t.c.id == sa.bindparam("record_id"))
_SET_POST = (
    sa.update(_t)
    .where(_t.c.id == sa.bindparam("record_id"))
    .values(
        slack_message_channel=sa.bindparam("channel"),
        slack_message_ts=sa.bindparam("ts"),
    )
)


def utc_now() -> datetime:
    """The current time, aware UTC: the store's default clock."""
    return datetime.now(UTC)


class AuditStore:
    """The audit trail on SQLite (one host) or PostgreSQL (shared deployments).

    The engine is used as given; :meth:`from_url` builds a tuned one and migrates the
    schema. Safe to share between threads.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        redact_text: bool = False,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._engine = engine
        self._writer = engine.execution_options(**WRITE)
        #: SQLite writers take turns without sleeping (:mod:`bot.audit.write_turn`).
        self._write_turn = (
            WriteTurn(lock_file_for(engine.url.database))
            if engine.dialect.name == "sqlite"
            else None
        )
        #: The connection this process's writers of a SQLite file share, one at a
        #: time (:meth:`_on_turn_connection`).
        self._turn_connection: Connection | None = None
        #: Keep message texts out of the trail (``SMS_AUDIT_REDACT_TEXT``).
        self.redact_text = redact_text
        self._clock = clock

    @classmethod
    def from_url(cls, url: str, *, redact_text: bool = False) -> AuditStore:
        """Connect to ``url`` (``DATABASE_URL``) and bring its schema up to date.

        Raises:
            AuditStoreError: the database cannot be reached, created or migrated.
        """
        engine = open_engine(url)
        try:
            migrate(engine)
        except BaseException:
            engine.dispose()
            raise
        return cls(engine, redact_text=redact_text)

    @property
    def engine(self) -> Engine:
        """The engine, for migrations, health checks and tests."""
        return self._engine

    @property
    def write_turn(self) -> WriteTurn | None:
        """How this file's writers take turns (SQLite; None on PostgreSQL)."""
        return self._write_turn

    def begin(self, attempt: NewAttempt) -> int:
        """Record an attempt as ``pending`` before it is sent; return the record's id.

        Raises:
            DuplicateAttemptError: ``attempt.request_id`` is already recorded.
        """
        return self._insert(
            self._attempt_values(attempt, AuditStatus.PENDING),
            attempt.request_id,
            "record an attempt",
        )

    def complete(self, record_id: int, result: AttemptResult) -> None:
        """Finish a ``pending`` record as ``sent`` or ``failed``.

        The lease on the record ends with it.

        Raises:
            AlreadySettledError: it is no longer pending (the sweep settled it).
            AuditStoreError: no such record, or the write failed.
        """
        values = result.model_dump() | {
            "status": str(result.status),
            "completed_at": self.now(),
            "claimed_by": None,
            "claimed_until": None,
        }
        if self.redact_text:  # kept only while pending, so a crash can still resend it
            values["text"] = None
        values["record_id"] = record_id
        with self.transaction("complete an attempt", write=True) as conn:
            driver = on_driver(conn)
            if driver is not None:
                changed = driver.execute(_COMPLETE, values, column_keys=tuple(values))
                settled = changed == 1
            else:
                settled = conn.execute(_COMPLETE, values).rowcount == 1
            if settled:
                add_tickets(conn, record_id, result.sms_ticket)
            elif driver is not None:
                found = driver.rows(_STATUS, {"record_id": record_id})
                status = found[0][0] if found else None
            else:
                status = conn.execute(_STATUS, {"record_id": record_id}).scalar()
        if settled:
            if self.redact_text:  # the removed text leaves the database's files too
                checkpoint(self._engine)
            return
        if status is None:
            raise AuditStoreError(f"audit record {record_id} does not exist")
        raise AlreadySettledError(record_id, str(status))

    def fill_in_sent(self, record_id: int, result: AttemptResult) -> bool:
        """Give a record settled ``sent`` with no ticket the answer its sender got.

        The sweep settles an attempt it resent and Octopush answered "duplicate"
        (code 120) as sent, ticket and cost unknown; when the process that sent it
        holds the real answer, the tickets and cost belong on the record (receipts
        find it by ticket, the budget adds the cost). False when there is no such
        record (settled otherwise, or already complete).
        """
        values = result.model_dump(
            include={
                "sms_ticket",
                "number_of_contacts",
                "number_of_sms_needed",
                "total_cost",
                "residual_credit",
                "error_message",
                "duration_ms",
            }
        )
        with self.transaction("fill in a sent attempt", write=True) as conn:
            done = conn.execute(
                sa.update(_t)
                .where(
                    _t.c.id == record_id,
                    _t.c.status == AuditStatus.SENT.value,
                    _t.c.sms_ticket.is_(None),
                )
                .values(values)
            )
            if done.rowcount != 1:
                return False
            add_tickets(conn, record_id, result.sms_ticket)
        return True

    def reject(
        self, attempt: NewAttempt, *, error_message: str, error_code: str | None = None
    ) -> int:
        """Record an attempt refused before Octopush was called; return the record's id.

        Raises:
            DuplicateAttemptError: ``attempt.request_id`` is already recorded.
        """
        values = self._attempt_values(attempt, AuditStatus.REJECTED)
        values |= {
            "error_message": error_message,
            "error_code": error_code,
            "completed_at": values["created_at"],
        }
        return self._insert(values, attempt.request_id, "record a rejected attempt")

    def get(self, record_id: int) -> AuditRecord:
        """The record with this id.

        Raises:
            AuditStoreError: there is none.
        """
        records = self._select(
            "read a record", sa.select(_t).where(_t.c.id == record_id)
        )
        if not records:
            raise AuditStoreError(f"audit record {record_id} does not exist")
        return records[0]

    def get_after_writer(self, record_id: int) -> AuditRecord:
        """:meth:`get` after the caller's own write (a receipt), so that the two and a
        write of the record (its post) cannot miss each other.

        On PostgreSQL the read waits for that write to commit (``FOR SHARE``). On
        SQLite writers take turns: one still writing began after the caller's, so it
        sees the caller's write.

        Raises:
            AuditStoreError: there is none.
        """
        query = sa.select(_t).where(_t.c.id == record_id).with_for_update(read=True)
        records = self._select("read a record", query)
        if not records:
            raise AuditStoreError(f"audit record {record_id} does not exist")
        return records[0]

    def find_by_request_id(self, request_id: str) -> AuditRecord | None:
        """The attempt recorded under this idempotency key, if any."""
        records = self._select(
            "find a request id", sa.select(_t).where(_t.c.request_id == request_id)
        )
        return records[0] if records else None

    def find_by_ticket(self, ticket: str) -> AuditRecord | None:
        """The attempt that got this Octopush ticket (callbacks carry it as message_id).

        One indexed lookup in ``audit_tickets``, whatever the size of the trail; a send
        split in batches has a row for each of its tickets.
        """
        records = self._select("find a ticket", record_by_ticket(ticket))
        return records[0] if records else None

    def recent(
        self, *, limit: int = 20, channel_id: str | None = None
    ) -> list[AuditRecord]:
        """The newest records first, optionally only those from one Slack channel."""
        if limit < 1:
            raise ValueError(f"limit must be at least 1, not {limit}")
        query = (
            sa.select(_t).order_by(_t.c.created_at.desc(), _t.c.id.desc()).limit(limit)
        )
        if channel_id is not None:
            query = query.where(_t.c.slack_channel_id == channel_id)
        return self._select("list recent records", query)

    def pending_older_than(self, age: timedelta) -> list[AuditRecord]:
        """Attempts still ``pending`` after ``age``: a process died mid-send."""
        cutoff = self.now() - age
        query = (
            sa.select(_t)
            .where(_t.c.status == AuditStatus.PENDING.value, _t.c.created_at < cutoff)
            .order_by(_t.c.created_at, _t.c.id)
        )
        return self._select("list pending records", query)

    def count_sends(self, *, user_id: str, since: datetime) -> int:
        """Attempts by ``user_id`` since ``since``, rejected ones aside (rate limit)."""
        query = sa.select(sa.func.count()).where(
            _t.c.slack_user_id == user_id,
            _t.c.created_at >= _aware(since),
            _t.c.status != AuditStatus.REJECTED.value,
        )
        with self.transaction("count sends") as conn:
            return int(conn.execute(query).scalar_one())

    def send_window(
        self, *, user_id: str, since: datetime
    ) -> tuple[int, datetime | None]:
        """How many attempts ``user_id`` made since ``since``, and when the oldest was."""
        query = sa.select(sa.func.count(), sa.func.min(_t.c.created_at)).where(
            _t.c.slack_user_id == user_id,
            _t.c.created_at >= _aware(since),
            _t.c.status != AuditStatus.REJECTED.value,
        )
        with self.transaction("count sends") as conn:
            count, oldest = conn.execute(query).one()
        if isinstance(oldest, str):  # SQLite aggregates lose the column type
            oldest = datetime.fromisoformat(oldest)
        return int(count), (_aware_or_utc(oldest) if oldest is not None else None)

    def spent_since(self, since: datetime) -> float:
        """Credits spent since ``since`` by real ``sent`` records (daily budget); a
        cancelled one counts only when Octopush kept its cost."""
        query = sa.select(sa.func.coalesce(sa.func.sum(_t.c.total_cost), 0.0)).where(
            sa.or_(
                _t.c.status == AuditStatus.SENT.value,
                sa.and_(
                    _t.c.status == AuditStatus.CANCELLED.value,
                    _t.c.cancel_refunded.is_not(True),
                ),
            ),
            _t.c.simulation.is_(False),
            _t.c.created_at >= _aware(since),
        )
        with self.transaction("sum the spending") as conn:
            return float(conn.execute(query).scalar_one())

    def purge(self, *, older_than: datetime) -> int:
        """Delete records created before ``older_than``; return how many (retention)."""
        query = sa.delete(_t).where(_t.c.created_at < _aware(older_than))
        with self.transaction("purge old records", write=True) as conn:
            return int(conn.execute(query).rowcount)

    def ping(self) -> None:
        """Check that the database answers (``/healthz``).

        Raises:
            AuditStoreError: it does not.
        """
        with self.transaction("answer a ping") as conn:
            conn.execute(sa.text("SELECT 1"))

    def close(self) -> None:
        """Close every pooled connection, leaving SQLite's write-ahead log empty."""
        if self._write_turn is not None:
            with self._write_turn():  # not under a write in progress
                kept, self._turn_connection = self._turn_connection, None
                if kept is not None:
                    kept.close()
        checkpoint(self._engine)
        self._engine.dispose()
        if self._write_turn is not None:
            self._write_turn.close()

    def __repr__(self) -> str:
        return f"AuditStore({self._engine.url.render_as_string(hide_password=True)!r})"

    # -- helpers ---------------------------------------------------------------------

    def now(self) -> datetime:
        return _aware(self._clock())

    def attempt_values(
        self, attempt: NewAttempt, status: AuditStatus
    ) -> dict[str, Any]:
        """The column values of ``attempt`` as a new row.

        With ``redact_text`` the text is left out, except from a ``pending`` row: crash
        recovery needs it to resend, and :meth:`complete` removes it once the outcome
        is known.
        """
        return self._attempt_values(attempt, status)

    def _attempt_values(
        self, attempt: NewAttempt, status: AuditStatus
    ) -> dict[str, Any]:
        values = attempt.model_dump()
        values |= {
            "source": str(attempt.source),
            "recipients": list(attempt.recipients),
            "text": None
            if self.redact_text and status is not AuditStatus.PENDING
            else attempt.text,
            "status": str(status),
            "created_at": self.now(),
        }
        return values

    def _insert(self, values: dict[str, Any], request_id: str, operation: str) -> int:
        try:
            with self._writer.begin() as conn:
                query = sa.insert(_t).values(values).returning(_t.c.id)
                return int(conn.execute(query).scalar_one())
        except sa.exc.IntegrityError as exc:
            existing = self.find_by_request_id(request_id)
            if existing is None:
                self._fail(operation, exc)
            raise DuplicateAttemptError(existing) from exc
        except sa.exc.SQLAlchemyError as exc:
            self._fail(operation, exc)

    def _select(self, operation: str, query: sa.Select[Any]) -> list[AuditRecord]:
        with self.transaction(operation) as conn:
            rows = conn.execute(query).mappings().all()
        return [AuditRecord.model_validate(dict(row)) for row in rows]

    @contextmanager
    def transaction(
        self, operation: str, *, write: bool = False
    ) -> Iterator[Connection]:
        """One transaction; SQLAlchemy errors inside become :class:`AuditStoreError`."""
        turn = self._write_turn if write else None
        try:
            with turn() if turn is not None else nullcontext():
                if turn is not None and turn.shared_by_processes and turn.held_once():
                    yield from self._on_turn_connection()
                else:
                    with (self._writer if write else self._engine).begin() as conn:
                        yield conn
        except sa.exc.SQLAlchemyError as exc:
            self._fail(operation, exc)

    def _on_turn_connection(self) -> Iterator[Connection]:
        """A write transaction on the one connection of the writers' turn (SQLite file).

        The writers of a file write one at a time anyway (:mod:`bot.audit.write_turn`);
        on one connection they keep its page cache, where a connection from the pool
        found its cache dropped by the others' writes and read the indexes again, and
        they skip the pool's check-out and check-in. A write that failed in the
        database leaves that connection for a new one.
        """
        conn = self._turn_connection
        if conn is None or conn.closed:
            conn = self._turn_connection = self._writer.connect()
        try:
            with conn.begin():
                yield conn
        except sa.exc.SQLAlchemyError:
            self._turn_connection = None
            conn.invalidate()
            conn.close()
            raise

    def _fail(self, operation: str, exc: sa.exc.SQLAlchemyError) -> NoReturn:
        where = self._engine.url.render_as_string(hide_password=True)
        raise AuditStoreError(
            f"audit store could not {operation} ({where}): {describe(exc)}"
        ) from exc


def set_post(conn: Connection, record_id: int, *, channel: str, ts: str) -> None:
    """Remember the Slack post that shows attempt ``record_id``, so receipts can
    update it, in the caller's write transaction
    (:meth:`bot.audit.deliveries.DeliveryLog.remember_post`).

    Raises:
        AuditStoreError: no such record.
    """
    values = {"record_id": record_id, "channel": channel, "ts": ts}
    driver = on_driver(conn)
    if driver is not None:
        changed = driver.execute(_SET_POST, values)
    else:
        changed = conn.execute(_SET_POST, values).rowcount
    if changed != 1:
        raise AuditStoreError(f"audit record {record_id} does not exist")


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value!r}: pass an aware datetime (UTC)")
    return value.astimezone(UTC)


def _aware_or_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
