"""Stored ``/sms`` commands: written by the ack before it answers, run by a sender.

The queue is the callback inbox's table shape and code (:class:`CallbackInbox`): a
sender claims a row with a compare-and-set lease, renews it while it works and marks
it finished; a row whose sender died is claimed again once its lease runs out. What is
added here: one short insert for the ack (and a ``NOTIFY`` on PostgreSQL, sent at its
commit, that wakes every listening sender at once), a claim of one given row (the
process that stored a command may run it itself), and the senders' heartbeats.

On SQLite the queue lives in a file of its own beside the audit trail
(:func:`open_command_queue`): SQLite has one writer per file, and the ack's insert must
never wait behind a send's transaction.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bot.audit.dialects import insert
from bot.audit.engine import create_engine
from bot.audit.inbox import LEASE, CallbackInbox, InboxItem
from bot.audit.store import AuditStore
from bot.audit.tables import command_senders, stored_commands

logger = logging.getLogger(__name__)

_t = stored_commands
_s = command_senders

#: PostgreSQL ``LISTEN``/``NOTIFY`` channel that wakes the senders.
NOTIFY_CHANNEL = "sms_bot_commands"


#: The ack's one insert, built once: it runs in every ack, and building the statement
#: each time (SQLAlchemy's constructs and cache key) cost more than the insert itself.
_PUT = sa.text(
    "INSERT INTO stored_commands (received_at, content_type, body, digest, attempts) "
    "VALUES (:received_at, :content_type, :body, :digest, 0) "
    "ON CONFLICT (digest) DO NOTHING RETURNING id"
).bindparams(
    sa.bindparam("received_at", type_=_t.c.received_at.type),
    sa.bindparam("body", type_=_t.c.body.type),
)
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


class CommandQueue(CallbackInbox):
    """The ``stored_commands`` table: store, claim (any or one), finish, heartbeats."""

    def __init__(self, store: AuditStore, *, lease: timedelta = LEASE) -> None:
        super().__init__(store, lease=lease, table=_t)
        self.store = store
        self._postgres = store.engine.dialect.name == "postgresql"
        #: Told after each stored command (SQLite: the local wake-up of a sender).
        self.on_stored: list[Callable[[], None]] = []

    @property
    def notifies(self) -> bool:
        """True when senders are woken by PostgreSQL ``NOTIFY``."""
        return self._postgres

    def put_command(
        self, kind: str, request_id: str, payload: dict[str, Any]
    ) -> int | None:
        """Store one command; its row id, or None when it was stored already (the
        same ``request_id``: Slack delivered it twice).

        Raises:
            AuditStoreError: the database is unavailable (the ack says nothing was done).
        """
        values = {
            "received_at": self.store.now(),
            "content_type": kind,
            "body": json.dumps(payload, separators=(",", ":")).encode(),
            "digest": hashlib.sha256(request_id.encode()).hexdigest(),
        }
        with self.store.transaction("store a command", write=True) as conn:
            row = conn.execute(_PUT, values).first()
            if row is None:
                return None
            if self._postgres:
                conn.execute(_NOTIFY)
        for told in self.on_stored:
            told()
        return int(row[0])

    def claim_one(self, item_id: int, owner: str) -> InboxItem | None:
        """Claim row ``item_id`` if nobody holds it; None when taken or finished."""
        now = self.store.now()
        with self.store.transaction("claim a command", write=True) as conn:
            row = conn.execute(
                sa.update(_t)
                .where(
                    _t.c.id == item_id,
                    _t.c.processed_at.is_(None),
                    sa.or_(_t.c.claimed_until.is_(None), _t.c.claimed_until < now),
                )
                .values(
                    claimed_by=owner,
                    claimed_until=now + self.lease,
                    attempts=_t.c.attempts + 1,
                )
                .returning(
                    _t.c.id,
                    _t.c.body,
                    _t.c.content_type,
                    _t.c.received_at,
                    _t.c.attempts,
                )
            ).first()
        return InboxItem(*row) if row is not None else None

    def finish(self, item_id: int, owner: str, outcome: str) -> bool:
        """Mark a claimed command run and drop its body (the message text, the
        response URL): the audit trail, not the queue, keeps what was sent."""
        params = {
            "item_id": item_id,
            "owner": owner,
            "done_at": self.store.now(),
            "outcome_": outcome,
        }
        with self.store.transaction("finish a command", write=True) as conn:
            done = conn.execute(_FINISH, params)
        return done.rowcount == 1

    def waiting(self) -> int:
        """How many commands nobody holds now (the metrics' gauge)."""
        now = self.store.now()
        query = sa.select(sa.func.count()).where(
            _t.c.processed_at.is_(None),
            sa.or_(_t.c.claimed_until.is_(None), _t.c.claimed_until < now),
        )
        with self.store.transaction("count the stored commands") as conn:
            return int(conn.execute(query).scalar_one())

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
        return value

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
    url = store.engine.url
    database = url.database or ""
    if url.get_backend_name() != "sqlite" or database in ("", ":memory:"):
        return None
    if database.startswith("file:"):
        return None
    audit = Path(database).expanduser()
    return audit.with_name(audit.stem + ".commands" + (audit.suffix or ".db"))


def open_command_queue(store: AuditStore, *, lease: timedelta = LEASE) -> CommandQueue:
    """The command queue for the audit trail ``store``: its own SQLite file beside a
    SQLite trail (created here; it holds only commands in flight and heartbeats), the
    same database otherwise (its tables come with the migrations).

    Raises:
        AuditStoreError: the queue's file cannot be created.
    """
    path = queue_file(store)
    if path is None:
        return CommandQueue(store, lease=lease)
    engine = create_engine(f"sqlite:///{path}")
    side = AuditStore(engine)
    with side.transaction("create the command queue", write=True) as conn:
        stored_commands.create(conn, checkfirst=True)
        command_senders.create(conn, checkfirst=True)
    return CommandQueue(side, lease=lease)
