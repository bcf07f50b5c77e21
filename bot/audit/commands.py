"""Stored ``/sms`` commands: written by the ack before it answers, run by a sender.

The queue is the callback inbox's table shape and code (:class:`CallbackInbox`): a
sender claims a row with a compare-and-set lease, renews it while it works and marks
it finished; a row whose sender died is claimed again once its lease runs out. What is
added here: one short insert for the ack (and a ``NOTIFY`` on PostgreSQL, sent at its
commit, that wakes every listening sender at once), a claim of one given row (the
process that stored a command may run it itself), and the senders' heartbeats.

On SQLite, SQLite has one writer per file and the ack's insert must never wait behind
a sender's write, so the acks write a file that only they write (:func:`open_command_queue`):
the *intake* (``audit.intake.db``) takes the ack's insert and nothing else but a
sender's upkeep every few seconds; the sender copies new rows into the queue's own file
(``audit.commands.db``, where it claims, renews and finishes them) in the transaction of
its claim. The copy goes by the intake's row id: ``command_intake_marks`` in the queue
file keeps the last id copied, with that row's digest, so an intake file deleted and
created again (ids from 1) is noticed and read from its start (a copy already taken is
known by its digest).

The claim is on the path between an ack and the Octopush call, so on SQLite it runs
on the claiming thread's own driver connections (:mod:`bot.audit.driver_writes`), as
the ack's insert does: the copy and the claim are one ``BEGIN IMMEDIATE`` transaction
on the queue's file, the intake only read. Through SQLAlchemy the pool's check-out of
two connections, the transaction's events and the result objects cost more than the
statements.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import sqlite3
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bot.audit.dialects import insert
from bot.audit.driver_statements import DriverStatement
from bot.audit.driver_writes import DriverWriter
from bot.audit.engine import create_engine
from bot.audit.inbox import LEASE, CallbackInbox, InboxItem
from bot.audit.store import AuditStore
from bot.audit.tables import UtcDateTime, command_senders, stored_commands

logger = logging.getLogger(__name__)

_t = stored_commands
_s = command_senders

#: PostgreSQL ``LISTEN``/``NOTIFY`` channel that wakes the senders.
NOTIFY_CHANNEL = "sms_bot_commands"


def _put_into(table: sa.Table) -> sa.TextClause:
    """The ack's one insert into ``table``, built once: it runs in every ack, and
    building the statement each time (SQLAlchemy's constructs and cache key) cost more
    than the insert itself."""
    return sa.text(
        f"INSERT INTO {table.name} (received_at, content_type, body, digest) "
        "VALUES (:received_at, :content_type, :body, :digest) "
        "ON CONFLICT (digest) DO NOTHING RETURNING id"
    ).bindparams(
        sa.bindparam("received_at", type_=table.c.received_at.type),
        sa.bindparam("body", type_=table.c.body.type),
    )


_PUT = _put_into(_t)
_NOTIFY = sa.text(f"NOTIFY {NOTIFY_CHANNEL}")
#: A run command, marked and emptied: once per command, built once.
_FINISH = (
    sa.update(_t)
    .where(
        _t.c.id == sa.bindparam("item_id"),
        _t.c.claimed_by == sa.bindparam("owner"),
        _t.c.processed_at.is_(None),
    )
    .values(
        processed_at=sa.bindparam("done_at", type_=_t.c.processed_at.type),
        outcome=sa.bindparam("outcome_", type_=_t.c.outcome.type),
        claimed_until=None,
        body=b"",
    )
)


def _claim_one(mine: sa.ColumnElement[bool]) -> sa.Update:
    """The claim of the one command ``mine`` picks, if nobody holds it, built once."""
    claimed_until = _t.c.claimed_until
    return (
        sa.update(_t)
        .where(
            mine,
            _t.c.processed_at.is_(None),
            sa.or_(
                claimed_until.is_(None),
                claimed_until < sa.bindparam("now", type_=claimed_until.type),
            ),
        )
        .values(
            claimed_by=sa.bindparam("owner", type_=_t.c.claimed_by.type),
            claimed_until=sa.bindparam("until", type_=claimed_until.type),
            attempts=_t.c.attempts + 1,
        )
        .returning(
            _t.c.id, _t.c.body, _t.c.content_type, _t.c.received_at, _t.c.attempts
        )
    )


#: By the queue's id (one database), or by digest (the ack stored in the intake).
_CLAIM_BY_ID = _claim_one(_t.c.id == sa.bindparam("item_id", type_=sa.Integer()))
_CLAIM_BY_DIGEST = _claim_one(
    _t.c.digest == sa.bindparam("digest", type_=_t.c.digest.type)
)


#: The SQLite files of the acks' intake and the queue's marks: created by
#: :func:`open_command_queue` beside the audit trail, never by the migrations (the
#: audit trail's database has no such tables; on PostgreSQL the acks insert into
#: ``stored_commands`` itself, where row locks keep them from waiting).
side_metadata = sa.MetaData()

#: What the acks insert on SQLite; ids only grow (``AUTOINCREMENT``), so a copied row's
#: id is never given again while the file lives.
command_intake = sa.Table(
    "command_intake",
    side_metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("received_at", UtcDateTime, nullable=False),
    sa.Column("content_type", sa.String(255)),
    sa.Column("body", sa.LargeBinary, nullable=False),
    sa.Column("digest", sa.String(64), nullable=False),
    sa.Index("ux_command_intake_digest", "digest", unique=True),
    sa.Index("ix_command_intake_received_at", "received_at"),
    sqlite_autoincrement=True,
)

#: In the queue's file: how far the intake was copied (``copied_id``, with that row's
#: ``digest``) and how far its copied bodies were emptied (``emptied_id``). One row.
command_intake_marks = sa.Table(
    "command_intake_marks",
    side_metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("copied_id", sa.Integer, nullable=False),
    sa.Column("digest", sa.String(64)),
    sa.Column("emptied_id", sa.Integer, nullable=False),
)

_i = command_intake
_m = command_intake_marks
#: How many intake rows one claim copies at most (the rest on the next claim).
COPY_BATCH = 500

#: The ack's insert into the intake, on the driver (:mod:`bot.audit.driver_writes`).
_INTAKE_PUT = (
    "INSERT INTO command_intake (received_at, content_type, body, digest) "
    "VALUES (?, ?, ?, ?) ON CONFLICT (digest) DO NOTHING RETURNING id"
)
# The copy runs in every claim on SQLite, so its statements go to the driver as they
# are (SQLAlchemy's statement cache and type processing cost more than they do): the
# times are copied as SQLite stores them, both tables holding them alike.
_MARKS = "SELECT copied_id, digest, emptied_id FROM command_intake_marks WHERE id = 1"
_NEW_IN_INTAKE = (
    "SELECT id, received_at, content_type, body, digest FROM command_intake "
    f"WHERE id >= ? ORDER BY id LIMIT {COPY_BATCH + 1}"
)
_DIGEST_AT = "SELECT digest FROM command_intake WHERE id = ?"
#: A copied row is new to the queue unless its digest is there already (a copy taken
#: before the intake file was made again).
_COPY = (
    "INSERT INTO stored_commands (received_at, content_type, body, digest, attempts) "
    "VALUES (?, ?, ?, ?, 0) ON CONFLICT (digest) DO NOTHING"
)
#: One whose body was emptied (copied before the queue's own file was made again) is
#: stored as run, never run twice.
_COPY_GONE = sa.text(
    "INSERT INTO stored_commands (received_at, content_type, body, digest, attempts, "
    "processed_at, outcome) VALUES (:received_at, :content_type, :body, :digest, 0, "
    ":processed_at, 'gone') ON CONFLICT (digest) DO NOTHING"
).bindparams(sa.bindparam("processed_at", type_=_t.c.processed_at.type))
_SET_MARKS = (
    "INSERT INTO command_intake_marks (id, copied_id, digest, emptied_id) "
    "VALUES (1, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
    "copied_id = excluded.copied_id, digest = excluded.digest, "
    "emptied_id = excluded.emptied_id"
)
_SET_EMPTIED = sa.text(
    "UPDATE command_intake_marks SET emptied_id = :through "
    "WHERE id = 1 AND emptied_id < :through AND copied_id >= :through"
)
_NOT_COPIED = sa.select(sa.func.count(), sa.func.min(_i.c.received_at)).where(
    _i.c.id > sa.bindparam("after")
)
_PURGE_INTAKE = sa.delete(_i).where(
    _i.c.received_at < sa.bindparam("older_than", type_=_i.c.received_at.type),
    _i.c.id < sa.bindparam("copied"),
)
_EMPTY_COPIED = sa.text(
    "UPDATE command_intake SET body = x'' "
    "WHERE id > :after AND id <= :through AND length(body) > 0"
)


class _ClaimStatements:
    """The claims' statements compiled for SQLite's driver (the queue's file)."""

    def __init__(
        self, *, oldest_free: dict[bool, sa.Update], dialect: sa.Dialect
    ) -> None:
        #: The oldest free commands; keyed by whether ``before`` is given.
        self.oldest_free = {
            before: DriverStatement(statement, dialect)
            for before, statement in oldest_free.items()
        }
        #: The one with a given digest.
        self.one = DriverStatement(_CLAIM_BY_DIGEST, dialect)
        self.copy_gone = DriverStatement(_COPY_GONE, dialect)
        #: A command run: its claim ends and its body is dropped.
        self.finish = DriverStatement(_FINISH, dialect)


def _digest(request_id: str) -> str:
    """What keeps a command stored once (Slack may deliver it twice)."""
    return hashlib.sha256(request_id.encode()).hexdigest()


class CommandQueue(CallbackInbox):
    """The ``stored_commands`` table: store, claim (any or one), finish, heartbeats;
    with an ``intake`` (SQLite), the acks store there and the claims copy from it."""

    def __init__(
        self,
        store: AuditStore,
        *,
        lease: timedelta = LEASE,
        intake: AuditStore | None = None,
        owns_stores: bool = False,
    ) -> None:
        super().__init__(store, lease=lease, table=_t)
        self.store = store
        #: Where the acks insert: the intake file on SQLite, else the queue itself.
        self.intake = intake
        self._intake_writer = DriverWriter(intake) if intake is not None else None
        #: The claims' transactions on the queue's file (with an intake: SQLite).
        self._queue_writer = DriverWriter(store) if intake is not None else None
        self._on_driver = (
            _ClaimStatements(
                oldest_free={
                    before: self._claim_statements(before=before)[1]
                    for before in (False, True)
                },
                dialect=store.engine.dialect,
            )
            if intake is not None
            else None
        )
        #: The intake's times as the text SQLAlchemy's SQLite ``DateTime`` stores
        #: (``2026-12-06 02:10:08.123456``); the type's own processor alone gives an
        #: aware datetime, which sqlite3's default adapter (deprecated in Python 3.12)
        #: wrote as ``…+00:00``.
        self._stored_time = (
            _i.c.received_at.type.dialect_impl(intake.engine.dialect).bind_processor(
                intake.engine.dialect
            )
            if intake is not None
            else None
        )
        self._owns_stores = owns_stores
        self._postgres = store.engine.dialect.name == "postgresql"
        #: Told after each stored command (SQLite: the local wake-up of a sender).
        self.on_stored: list[Callable[[], None]] = []

    @property
    def notifies(self) -> bool:
        """True when senders are woken by PostgreSQL ``NOTIFY``."""
        return self._postgres

    def close(self) -> None:
        """Close the queue's own files (not an audit trail it shares a database with)."""
        for writer in (self._intake_writer, self._queue_writer):
            if writer is not None:
                writer.close()
        if self._owns_stores:
            self.store.close()
            if self.intake is not None:
                self.intake.close()

    def put_command(
        self, kind: str, request_id: str, payload: dict[str, Any]
    ) -> int | None:
        """Store one command; its row id (the intake's, when there is one), or None
        when it was stored already (the same ``request_id``: Slack delivered it twice).

        Raises:
            AuditStoreError: the database is unavailable (the ack says nothing was done).
        """
        values = {
            "received_at": self.store.now(),
            "content_type": kind,
            "body": json.dumps(payload, separators=(",", ":")).encode(),
            "digest": _digest(request_id),
        }
        if self._intake_writer is not None:
            stored_time = self._stored_time
            received = values["received_at"]
            put = (
                stored_time(received) if stored_time is not None else received,
                kind,
                values["body"],
                values["digest"],
            )
            with self._intake_writer.write("store a command") as cursor:
                rows = cursor.execute(_INTAKE_PUT, put).fetchall()
            row = rows[0] if rows else None
        else:
            with self.store.transaction("store a command", write=True) as conn:
                row = conn.execute(_PUT, values).first()
                if row is not None and self._postgres:
                    conn.execute(_NOTIFY)
        if row is None:
            return None
        for told in self.on_stored:
            told()
        return int(row[0])

    def claim(
        self, owner: str, *, limit: int = 10, stored_before: datetime | None = None
    ) -> list[InboxItem]:
        """Take up to ``limit`` commands, oldest first, for ``owner`` (only those stored
        before ``stored_before`` when it is given); on SQLite, what the acks stored
        since the last claim is copied first, in the same transaction."""
        writer, statements = self._queue_writer, self._on_driver
        if writer is None or statements is None:
            return super().claim(owner, limit=limit, stored_before=stored_before)
        now = self.store.now()
        values = {
            "now": now,
            "until": now + self.lease,
            "owner": owner,
            "limit": limit,
            "before": stored_before,
        }
        claim = statements.oldest_free[stored_before is not None]
        with writer.write("claim commands") as cursor:
            self._copy_from_intake(cursor, statements)
            rows = claim.rows(cursor, values)
        return sorted((InboxItem(*row) for row in rows), key=lambda item: item.id)

    def _copy_from_intake(
        self, queue: sqlite3.Cursor, statements: _ClaimStatements
    ) -> None:
        """Copy what the acks stored since the last copy into the queue, in the
        claim's own transaction (the queue's file is locked; the intake is only read,
        so an ack's insert never waits for it)."""
        assert self._intake_writer is not None
        marks = queue.execute(_MARKS).fetchone()
        copied, digest, emptied = marks if marks is not None else (0, None, 0)
        with self._intake_writer.read("read the stored commands") as source:
            rows = source.execute(_NEW_IN_INTAKE, (copied,)).fetchall()
            if copied and (not rows or (rows[0][0], rows[0][4]) != (copied, digest)):
                logger.warning(
                    "the command intake (%s) was made again: reading it from its start",
                    self.intake,
                )
                copied, emptied = 0, 0
                rows = source.execute(_NEW_IN_INTAKE, (0,)).fetchall()
        if copied:
            rows = rows[1:]  # the row copied last, read again to check the file
        if not rows:
            if marks is not None and marks[0] != copied:
                queue.execute(_SET_MARKS, (0, None, 0))
            return
        new = [row[1:] for row in rows if row[3]]
        if new:
            queue.executemany(_COPY, new)
        if len(new) < len(rows):
            gone = [row for row in rows if not row[3]]
            self._copy_gone(queue, statements.copy_gone, gone)
        last = rows[-1]
        queue.execute(_SET_MARKS, (last[0], last[4], emptied))

    def _copy_gone(
        self,
        queue: sqlite3.Cursor,
        copy_gone: DriverStatement,
        rows: Sequence[Sequence[Any]],
    ) -> None:
        """Store rows whose bodies the intake had emptied as run already."""
        now = self.store.now()
        copy_gone.execute_many(
            queue,
            [
                {
                    "received_at": row[1],
                    "content_type": row[2],
                    "body": row[3],
                    "digest": row[4],
                    "processed_at": now,
                }
                for row in rows
            ],
        )

    def empty_copied(self) -> int:
        """Empty the intake's bodies (message texts, response URLs) of the rows the
        queue has copied: the queue keeps its copy until the command has run. A
        sender's upkeep, every few seconds: a short write an ack may wait behind.
        Returns how many bodies were emptied."""
        if self.intake is None:
            return 0
        with self.store.transaction("read the intake's marks") as conn:
            marks = conn.exec_driver_sql(_MARKS).first()
        if marks is None or marks.emptied_id >= marks.copied_id:
            return 0
        through = {"after": marks.emptied_id, "through": marks.copied_id}
        with self.intake.transaction("empty copied commands", write=True) as conn:
            emptied = int(conn.execute(_EMPTY_COPIED, through).rowcount)
        with self.store.transaction("mark copied commands emptied", write=True) as conn:
            conn.execute(_SET_EMPTIED, through)
        return emptied

    def claim_one(self, item_id: int, owner: str) -> InboxItem | None:
        """Claim the command ``put_command`` returned ``item_id`` for, if nobody holds
        it; None when taken or finished."""
        now = self.store.now()
        values: dict[str, Any] = {"now": now, "until": now + self.lease, "owner": owner}
        writer, statements = self._queue_writer, self._on_driver
        if self._intake_writer is None or writer is None or statements is None:
            with self.store.transaction("claim a command", write=True) as conn:
                row = conn.execute(_CLAIM_BY_ID, values | {"item_id": item_id}).first()
            return InboxItem(*row) if row is not None else None
        # The intake's id: the queue's row (copied now, if not yet) has its digest.
        with self._intake_writer.read("read a stored command") as cursor:
            found = cursor.execute(_DIGEST_AT, (item_id,)).fetchone()
        if found is None:
            return None
        with writer.write("claim a command") as cursor:
            self._copy_from_intake(cursor, statements)
            rows = statements.one.rows(cursor, values | {"digest": found[0]})
        return InboxItem(*rows[0]) if rows else None

    def finish(self, item_id: int, owner: str, outcome: str) -> bool:
        """Mark a claimed command run and drop its body (the message text, the
        response URL): the audit trail, not the queue, keeps what was sent."""
        params = {
            "item_id": item_id,
            "owner": owner,
            "done_at": self.store.now(),
            "outcome_": outcome,
        }
        writer, statements = self._queue_writer, self._on_driver
        if writer is not None and statements is not None:  # one per send: the driver
            with writer.write("finish a command") as cursor:
                return statements.finish.execute(cursor, params) == 1
        with self.store.transaction("finish a command", write=True) as conn:
            done = conn.execute(_FINISH, params)
        return done.rowcount == 1

    def _not_copied(self) -> tuple[int, datetime | None]:
        """How many commands the intake holds that no claim copied yet, and when the
        first of them was stored: they wait as much as the queue's."""
        if self.intake is None:
            return 0, None
        with self.store.transaction("read the intake's marks") as conn:
            copied = conn.exec_driver_sql(_MARKS).first()
        with self.intake.transaction("count the commands not copied") as conn:
            count, first = conn.execute(
                _NOT_COPIED, {"after": copied.copied_id if copied else 0}
            ).one()
        return int(count), first

    def waiting(self) -> int:
        """How many commands nobody holds now (the metrics' gauge)."""
        now = self.store.now()
        query = sa.select(sa.func.count()).where(
            _t.c.processed_at.is_(None),
            sa.or_(_t.c.claimed_until.is_(None), _t.c.claimed_until < now),
        )
        with self.store.transaction("count the stored commands") as conn:
            queued = int(conn.execute(query).scalar_one())
        return queued + self._not_copied()[0]

    def unprocessed(self) -> int:
        """How many commands wait or run (tests, health), the intake's included."""
        return super().unprocessed() + self._not_copied()[0]

    def oldest_waiting(self) -> datetime | None:
        """When the oldest command nobody holds was stored (None: none waits)."""
        now = self.store.now()
        query = (
            sa.select(_t.c.received_at)
            .where(
                _t.c.processed_at.is_(None),
                sa.or_(_t.c.claimed_until.is_(None), _t.c.claimed_until < now),
            )
            .order_by(_t.c.processed_at, _t.c.id)
            .limit(1)
        )
        with self.store.transaction("read the oldest stored command") as conn:
            value: datetime | None = conn.execute(query).scalar()
        first_not_copied = self._not_copied()[1]
        if first_not_copied is not None and (value is None or first_not_copied < value):
            return first_not_copied
        return value

    def purge(self, *, older_than: datetime) -> int:
        """Delete commands run before ``older_than`` (and the intake's copied rows
        stored before it, but the last copied: the next copy checks the file by it)."""
        removed = super().purge(older_than=older_than)
        if self.intake is not None:
            with self.store.transaction("read the intake's marks") as conn:
                marks = conn.exec_driver_sql(_MARKS).first()
            if marks is not None:
                before = {"older_than": older_than, "copied": marks.copied_id}
                with self.intake.transaction("purge the intake", write=True) as conn:
                    conn.execute(_PURGE_INTAKE, before)
        return removed

    # --- senders' heartbeats -----------------------------------------------------------

    def heartbeat(self, owner: str, *, started_at: datetime) -> None:
        """Say that sender ``owner`` (this process) is alive now."""
        now = self.store.now()
        values = {
            "owner": owner,
            "host": socket.gethostname()[:255],
            "pid": os.getpid(),
            "started_at": started_at,
            "seen_at": now,
        }
        with self.store.transaction("record a sender's heartbeat", write=True) as conn:
            conn.execute(
                insert(conn, _s)
                .values(values)
                .on_conflict_do_update(index_elements=["owner"], set_={"seen_at": now})
            )

    def forget_sender(self, owner: str) -> None:
        """A sender stopped cleanly: it is not alive any more."""
        with self.store.transaction("remove a sender", write=True) as conn:
            conn.execute(sa.delete(_s).where(_s.c.owner == owner))

    def last_heartbeat(self) -> datetime | None:
        """The most recent heartbeat of any sender (None: none ever ran)."""
        query = sa.select(sa.func.max(_s.c.seen_at))
        with self.store.transaction("read the senders' heartbeats") as conn:
            value: datetime | None = conn.execute(query).scalar()
        return value

    def purge_senders(self, *, older_than: datetime) -> int:
        """Forget senders silent since ``older_than`` (killed, never stopped cleanly)."""
        query = sa.delete(_s).where(_s.c.seen_at < older_than)
        with self.store.transaction("purge silent senders", write=True) as conn:
            return int(conn.execute(query).rowcount)


def queue_file(store: AuditStore) -> Path | None:
    """The SQLite file of the command queue beside a file audit trail (None when the
    audit trail is PostgreSQL or in memory: the queue then shares its database)."""
    return _beside(store, ".commands")


def intake_file(store: AuditStore) -> Path | None:
    """The SQLite file the acks store commands in, beside a file audit trail (None
    when there is no queue file: the acks then insert into the queue's table)."""
    return _beside(store, ".intake")


def _beside(store: AuditStore, infix: str) -> Path | None:
    url = store.engine.url
    database = url.database or ""
    if url.get_backend_name() != "sqlite" or database in ("", ":memory:"):
        return None
    if database.startswith("file:"):
        return None
    audit = Path(database).expanduser()
    return audit.with_name(audit.stem + infix + (audit.suffix or ".db"))


def open_command_queue(store: AuditStore, *, lease: timedelta = LEASE) -> CommandQueue:
    """The command queue for the audit trail ``store``.

    Beside a SQLite trail: two files of their own (created here; they hold only
    commands in flight and heartbeats), the intake the acks write and the queue the
    senders write (see the module's docstring). Otherwise the same database (its
    tables come with the migrations).

    Raises:
        AuditStoreError: the queue's files cannot be created.
    """
    path, intake_path = queue_file(store), intake_file(store)
    if path is None or intake_path is None:
        return CommandQueue(store, lease=lease)
    side = AuditStore(create_engine(f"sqlite:///{path}"))
    intake = AuditStore(create_engine(f"sqlite:///{intake_path}"))
    try:
        with side.transaction("create the command queue", write=True) as conn:
            for table in (stored_commands, command_senders, command_intake_marks):
                table.create(conn, checkfirst=True)
        with intake.transaction("create the command intake", write=True) as conn:
            command_intake.create(conn, checkfirst=True)
    except BaseException:
        side.close()
        intake.close()
        raise
    return CommandQueue(side, lease=lease, intake=intake, owns_stores=True)
