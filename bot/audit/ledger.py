"""The audit trail as the send limits and the pending sweep see it: locks, counts, claims.

Check-and-insert must be one transaction, or a burst of sends all read the same count
before any of them is recorded. :meth:`SendLedger.locked` opens that transaction and
every read here can join it (``conn``), so the count and the ``pending`` insert are
atomic per key across threads and processes.

A ``pending`` record carries a *lease* (``claimed_by``, ``claimed_until``): the
sending process writes it with the record and renews it while the send runs and while
it holds an answer not written yet (:meth:`SendLedger.renew`); the sweep takes over
only a record whose lease ran out (:meth:`SendLedger.claim`, a compare-and-set), and
holds it the same way while it settles it. Completing the record ends the lease.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot.audit.driver_statements import on_driver
from bot.audit.records import AuditRecord, DuplicateAttemptError, NewAttempt
from bot.audit.store import AuditStore
from bot.audit.tables import audit_records
from bot.domain import AuditStatus

_t = audit_records

# The statements of every send, built once: building a construct and its cache key
# each time cost more CPU than running it (see BENCHMARKS.md, round 6). On SQLite they
# run on the driver's cursor, compiled once (:mod:`bot.audit.driver_statements`): the
# admission's four statements through SQLAlchemy cost more CPU than SQLite's work.
_FIND = sa.select(_t).where(_t.c.request_id == sa.bindparam("key"))
_LATEST = (
    sa.select(_t)
    .where(
        sa.or_(
            _t.c.request_id == sa.bindparam("key"),
            _t.c.request_key == sa.bindparam("key"),
        )
    )
    .where(_t.c.status != AuditStatus.REJECTED.value)
    .order_by(_t.c.id.desc())
)
_BEGIN = sa.insert(_t).returning(_t.c.id)
_SEND_WINDOW = sa.select(sa.func.count(), sa.func.min(_t.c.created_at)).where(
    _t.c.slack_user_id == sa.bindparam("user_id"),
    _t.c.created_at >= sa.bindparam("since", type_=_t.c.created_at.type),
    _t.c.status != AuditStatus.REJECTED.value,
)


class SendLedger:
    """Counting and reserving sends in the audit store, safely under concurrency."""

    def __init__(self, store: AuditStore) -> None:
        self._store = store

    def now(self) -> datetime:
        """The store's clock (aware UTC)."""
        return self._store.now()

    @contextmanager
    def locked(self, keys: Iterable[str]) -> Iterator[Connection]:
        """A write transaction holding one lock per key until it commits.

        PostgreSQL takes ``pg_advisory_xact_lock`` per key (sorted, so two holders
        never deadlock); SQLite's ``BEGIN IMMEDIATE`` admits one writer at a time.
        """
        with self._store.transaction("take the send lock", write=True) as conn:
            if conn.dialect.name == "postgresql":
                for key in sorted(set(keys)):
                    conn.execute(sa.select(sa.func.pg_advisory_xact_lock(lock_id(key))))
            yield conn

    def find(self, conn: Connection, request_id: str) -> AuditRecord | None:
        """The attempt recorded under ``request_id``, seen from inside ``conn``."""
        rows = self._rows_of_built(conn, _FIND, key=request_id)
        return rows[0] if rows else None

    def latest(self, conn: Connection, key: str) -> tuple[AuditRecord | None, int]:
        """The newest attempt tried under the caller's ``key``, and how many there are.

        The first attempt has ``request_id == key``; later ones carry ``request_key``.
        Refused attempts never reached Octopush and have keys of their own: not counted.
        """
        rows = self._rows_of_built(conn, _LATEST, key=key)
        return (rows[0] if rows else None), len(rows)

    def begin(
        self,
        conn: Connection,
        attempt: NewAttempt,
        *,
        owner: str | None = None,
        lease_until: datetime | None = None,
        checked: bool = False,
    ) -> int:
        """Insert ``attempt`` as ``pending`` inside ``conn``, leased to ``owner``.

        ``checked``: the caller already looked ``attempt.request_id`` up in ``conn``
        while holding its lock (:meth:`latest`), so it is not read again.

        Raises:
            DuplicateAttemptError: ``attempt.request_id`` is already recorded.
        """
        if not checked:
            existing = self.find(conn, attempt.request_id)
            if existing is not None:
                raise DuplicateAttemptError(existing)
        values = self._store.attempt_values(attempt, AuditStatus.PENDING)
        values |= {"claimed_by": owner, "claimed_until": lease_until}
        driver = on_driver(conn)
        if driver is not None:
            (row,) = driver.rows(_BEGIN, values, column_keys=tuple(values))
            return int(row[0])
        return int(conn.execute(_BEGIN, values).scalar_one())

    def send_window(
        self, conn: Connection, *, user_id: str, since: datetime
    ) -> tuple[int, datetime | None]:
        """Attempts by ``user_id`` since ``since`` (pending ones too), and the oldest."""
        params = {"user_id": user_id, "since": since}
        driver = on_driver(conn)
        if driver is not None:
            ((count, oldest),) = driver.rows(_SEND_WINDOW, params)
        else:
            count, oldest = conn.execute(_SEND_WINDOW, params).one()
        if isinstance(oldest, str):  # SQLite aggregates lose the column type
            oldest = datetime.fromisoformat(oldest)
        if oldest is not None and oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=UTC)
        return int(count), oldest

    def spending(
        self, conn: Connection, since: datetime
    ) -> tuple[float, list[tuple[str | None, int]]]:
        """Credits spent since ``since``, and the ``(text, recipient count)`` of each real
        attempt still in flight, read in one statement (one snapshot): an attempt that
        completes meanwhile is counted once, as spent or as in flight, never neither.

        Spent counts sent records and batched sends that stopped part-way (``failed``
        with the cost of what went out); a cancelled scheduled send only when Octopush
        kept its cost.
        """
        real = (_t.c.simulation.is_(False), _t.c.created_at >= since)
        in_flight = sa.select(
            _t.c.text,
            _t.c.recipients,
            sa.cast(sa.null(), sa.Float).label("cost"),
        ).where(_t.c.status == AuditStatus.PENDING.value, *real)
        spent = sa.select(
            sa.cast(sa.null(), sa.Text),
            sa.cast(sa.null(), sa.JSON),
            sa.func.coalesce(sa.func.sum(_t.c.total_cost), 0.0),
        ).where(
            sa.or_(
                _t.c.status.in_([AuditStatus.SENT.value, AuditStatus.FAILED.value]),
                _cancelled_unrefunded(),
            ),
            _t.c.total_cost.is_not(None),
            *real,
        )
        total, pending = 0.0, []
        for text, recipients, cost in conn.execute(sa.union_all(in_flight, spent)):
            if cost is not None:
                total = float(cost)
            else:
                pending.append((text, len(recipients or ())))
        return total, pending

    def last_priced(self, conn: Connection, *, limit: int = 20) -> list[AuditRecord]:
        """The newest real sends with a cost (to price the next one)."""
        query = (
            sa.select(_t)
            .where(
                _t.c.status == AuditStatus.SENT.value,
                _t.c.simulation.is_(False),
                _t.c.total_cost > 0,
            )
            # Newest first along ix_audit_records_status_created: a seek, no sort of
            # every sent record ever.
            .order_by(_t.c.created_at.desc(), _t.c.id.desc())
            .limit(limit)
        )
        return self._rows(conn, query)

    # -- leases and the pending sweep -------------------------------------------------

    def unsettled(self, *, age: timedelta) -> list[AuditRecord]:
        """``pending`` records older than ``age`` whose lease ran out (or never had one)."""
        now = self._store.now()
        query = (
            sa.select(_t)
            .where(
                _t.c.status == AuditStatus.PENDING.value,
                _t.c.created_at < now - age,
                sa.or_(_t.c.claimed_until.is_(None), _t.c.claimed_until < now),
            )
            .order_by(_t.c.created_at, _t.c.id)
        )
        with self._store.transaction("list pending records") as conn:
            return self._rows(conn, query)

    def claim(self, record: AuditRecord, *, owner: str, lease: timedelta) -> bool:
        """Take ``record`` over for settling; False when someone else holds it now.

        A compare-and-set on the lease this process saw: of several instances that read
        the same row, exactly one update matches, and none while the lease is alive.
        """
        now = self._store.now()
        seen = record.claimed_until
        if seen is not None and seen >= now:
            return False
        same = (
            _t.c.claimed_until.is_(None) if seen is None else _t.c.claimed_until == seen
        )
        query = (
            sa.update(_t)
            .where(_t.c.id == record.id, _t.c.status == AuditStatus.PENDING.value)
            .where(same)
            .values(claimed_by=owner, claimed_until=now + lease)
        )
        with self._store.transaction("claim a pending record", write=True) as conn:
            return conn.execute(query).rowcount == 1

    def renew(self, ids: Iterable[int], *, owner: str, until: datetime) -> int:
        """Extend ``owner``'s lease on these pending records; return how many it holds."""
        wanted = sorted(set(ids))
        if not wanted:
            return 0
        query = (
            sa.update(_t)
            .where(
                _t.c.id.in_(wanted),
                _t.c.status == AuditStatus.PENDING.value,
                _t.c.claimed_by == owner,
            )
            .values(claimed_until=until)
        )
        with self._store.transaction("renew a lease", write=True) as conn:
            return int(conn.execute(query).rowcount)

    def note_refusal(self, record_id: int, code: str) -> bool:
        """Write on a pending record that Octopush refused it with ``code``.

        One small write, tried before the full completion: whoever settles the record
        later (the sweep, after this process died) records the refusal, never resends.
        """
        query = (
            sa.update(_t)
            .where(_t.c.id == record_id, _t.c.status == AuditStatus.PENDING.value)
            .values(error_code=code)
        )
        with self._store.transaction("note a refusal", write=True) as conn:
            return conn.execute(query).rowcount == 1

    @staticmethod
    def _rows(
        conn: Connection, query: sa.Select[Any], **params: Any
    ) -> list[AuditRecord]:
        rows = conn.execute(query, params).mappings().all()
        return [AuditRecord.model_validate(dict(row)) for row in rows]

    @classmethod
    def _rows_of_built(
        cls, conn: Connection, query: sa.Select[Any], **params: Any
    ) -> list[AuditRecord]:
        """:meth:`_rows` for a statement built once: on SQLite, on the driver."""
        driver = on_driver(conn)
        if driver is None:
            return cls._rows(conn, query, **params)
        rows = driver.mappings(query, params)
        return [AuditRecord.model_validate(row) for row in rows]


def lock_id(key: str) -> int:
    """A stable signed 64-bit advisory lock id for ``key``, the same in every process."""
    digest = hashlib.blake2b(f"sms-bot:{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _cancelled_unrefunded() -> sa.ColumnElement[bool]:
    """A cancelled send whose cost Octopush did not give back: still spent."""
    return sa.and_(
        _t.c.status == AuditStatus.CANCELLED.value,
        _t.c.cancel_refunded.is_not(True),
    )
