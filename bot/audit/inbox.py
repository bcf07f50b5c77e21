"""Octopush callbacks, stored before they are answered and handled from here.

The web route writes the raw callback (:meth:`CallbackInbox.put`) and only then
answers 200, so a STOP or a receipt that arrives during a shutdown is not lost. Workers
on every instance :meth:`~CallbackInbox.claim` rows with a compare-and-set lease
(``FOR UPDATE SKIP LOCKED`` on PostgreSQL), so each row is handled by one of them, and
a row whose worker died is claimed again once its lease runs out. A live worker
renews its claims (:meth:`~CallbackInbox.renew`) while it works, so a slow handler never has
its row taken (and its reply posted twice) by another worker.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from bot.audit.dialects import insert_or_ignore
from bot.audit.store import AuditStore
from bot.audit.tables import callback_inbox

_t = callback_inbox

#: How long a claim holds before another worker may take the row.
LEASE = timedelta(seconds=60)


@dataclass(frozen=True)
class InboxItem:
    """One stored callback, as a worker claimed it."""

    id: int
    body: bytes
    content_type: str | None
    received_at: datetime
    attempts: int


def digest(body: bytes, content_type: str | None) -> str:
    """What makes two callbacks the same one (Octopush may send a callback twice)."""
    return hashlib.sha256((content_type or "").encode() + b"\0" + body).hexdigest()


class CallbackInbox:
    """The ``callback_inbox`` table: put, claim, finish, retry later, purge."""

    def __init__(
        self, store: AuditStore, *, lease: timedelta = LEASE, table: sa.Table = _t
    ) -> None:
        self._store = store
        self._lease = lease
        #: The alert inbox (:mod:`bot.audit.alerts`) reuses the claims on its table.
        self._table = table
        self._claims: dict[bool, tuple[sa.Select[tuple[int]], sa.Update]] = {}

    def now(self) -> datetime:
        return self._store.now()

    @property
    def lease(self) -> timedelta:
        return self._lease

    def put(self, body: bytes, content_type: str | None) -> bool:
        """Store one callback; False when the same callback is already stored.

        Raises:
            AuditStoreError: the database is unavailable (answer 503: Octopush retries).
        """
        values = {
            "received_at": self._store.now(),
            "content_type": content_type[:255] if content_type else None,
            "body": body,
            "digest": digest(body, content_type),
            "attempts": 0,
        }
        with self._store.transaction("store a callback", write=True) as conn:
            return insert_or_ignore(conn, self._table, values, "digest")

    def claim(
        self, owner: str, *, limit: int = 10, stored_before: datetime | None = None
    ) -> list[InboxItem]:
        """Take up to ``limit`` unhandled rows, oldest first, for ``owner`` (only those
        stored before ``stored_before`` when it is given)."""
        now = self._store.now()
        params: dict[str, object] = {
            "now": now,
            "limit": limit,
            "owner": owner,
            "until": now + self._lease,
        }
        if stored_before is not None:
            params["before"] = stored_before
        look, take = self._claim_statements(before=stored_before is not None)
        if self._store.engine.dialect.name == "sqlite":
            # An idle poll (every second, in every worker) only reads: a claim would
            # take the file's one writer slot, which the sends wait for. (On PostgreSQL
            # an empty claim blocks nobody, and a look would add a round trip.)
            with self._store.transaction("look for callbacks") as conn:
                seen: dict[str, object] = {
                    key: params[key] for key in ("now", "before") if key in params
                }
                if conn.execute(look, seen).first() is None:
                    return []
        with self._store.transaction("claim callbacks", write=True) as conn:
            claimed = conn.execute(take, params).all()
        items = [InboxItem(*row) for row in claimed]
        return sorted(items, key=lambda item: item.id)

    def _claim_statements(
        self, *, before: bool
    ) -> tuple[sa.Select[tuple[int]], sa.Update]:
        """Whether a row is free to take, and one statement that picks the oldest free
        rows and takes them (a compare-and-set: still free when updated; ``SKIP
        LOCKED`` on PostgreSQL), built once: every stored command and callback is
        claimed with them."""
        statements = self._claims.get(before)
        if statements is not None:
            return statements
        t = self._table
        free = sa.and_(
            t.c.processed_at.is_(None),
            sa.or_(
                t.c.claimed_until.is_(None),
                t.c.claimed_until < sa.bindparam("now", type_=t.c.claimed_until.type),
            ),
        )
        if before:
            received = sa.bindparam("before", type_=t.c.received_at.type)
            free = sa.and_(free, t.c.received_at < received)
        candidates = (
            sa.select(t.c.id)
            .where(free)
            .order_by(t.c.processed_at, t.c.id)
            .limit(sa.bindparam("limit", type_=sa.Integer()))
            .with_for_update(skip_locked=True)
        )
        statement = (
            sa.update(t)
            .where(t.c.id.in_(candidates.scalar_subquery()), free)
            .values(
                claimed_by=sa.bindparam("owner", type_=t.c.claimed_by.type),
                claimed_until=sa.bindparam("until", type_=t.c.claimed_until.type),
                attempts=t.c.attempts + 1,
            )
            .returning(
                t.c.id, t.c.body, t.c.content_type, t.c.received_at, t.c.attempts
            )
        )
        look = sa.select(t.c.id).where(free).limit(1)
        self._claims[before] = (look, statement)
        return look, statement

    def renew(self, item_ids: Collection[int], owner: str) -> set[int]:
        """Extend ``owner``'s claims on ``item_ids``; return the ids it still holds.

        A claim whose lease ran out is still ``owner``'s until another worker takes
        it; the ids missing from the answer were taken (or finished) meanwhile.
        """
        if not item_ids:
            return set()
        with self._store.transaction("renew callback claims", write=True) as conn:
            held = conn.execute(
                sa.update(self._table)
                .where(
                    self._table.c.id.in_(list(item_ids)),
                    self._table.c.claimed_by == owner,
                    self._table.c.processed_at.is_(None),
                )
                .values(claimed_until=self._store.now() + self._lease)
                .returning(self._table.c.id)
            ).scalars()
            return set(held)

    def finish(self, item_id: int, owner: str, outcome: str) -> bool:
        """Mark a claimed callback handled; False when the claim was lost meanwhile."""
        with self._store.transaction("finish a callback", write=True) as conn:
            done = conn.execute(
                sa.update(self._table)
                .where(
                    self._table.c.id == item_id,
                    self._table.c.claimed_by == owner,
                    self._table.c.processed_at.is_(None),
                )
                .values(
                    processed_at=self._store.now(), outcome=outcome, claimed_until=None
                )
            )
        return done.rowcount == 1

    def retry_later(self, item_id: int, owner: str, delay: timedelta) -> None:
        """Leave a claimed callback for another try after ``delay``."""
        with self._store.transaction("postpone a callback", write=True) as conn:
            conn.execute(
                sa.update(self._table)
                .where(self._table.c.id == item_id, self._table.c.claimed_by == owner)
                .values(claimed_until=self._store.now() + delay)
            )

    def unprocessed(self) -> int:
        """How many callbacks wait to be handled (health, metrics, tests)."""
        query = sa.select(sa.func.count()).where(self._table.c.processed_at.is_(None))
        with self._store.transaction("count callbacks") as conn:
            return int(conn.execute(query).scalar_one())

    def outcome_of(self, item_id: int) -> str | None:
        query = sa.select(self._table.c.outcome).where(self._table.c.id == item_id)
        with self._store.transaction("read a callback") as conn:
            return conn.execute(query).scalar()

    def purge(self, *, older_than: datetime) -> int:
        """Delete callbacks handled before ``older_than``; return how many."""
        query = sa.delete(self._table).where(
            self._table.c.processed_at.is_not(None),
            self._table.c.processed_at < older_than,
        )
        with self._store.transaction("purge handled callbacks", write=True) as conn:
            return int(conn.execute(query).rowcount)
