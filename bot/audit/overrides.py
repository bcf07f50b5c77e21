"""On-call overrides: someone covers a rotation's shift for a while, in the shared store.

Every instance reads them from the audit database, so a page goes to the person
covering whichever instance handles it. Rows are never deleted: who set an override,
when, and who cleared it stay on record (the audit of overrides).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from bot.audit.store import AuditStore
from bot.audit.tables import oncall_overrides as _t


@dataclass(frozen=True)
class Override:
    """``person`` covers ``rotation`` from ``starts_at`` until ``ends_at``."""

    id: int
    rotation: str
    person: str
    starts_at: datetime
    ends_at: datetime
    created_at: datetime
    created_by: str | None
    cleared_at: datetime | None
    cleared_by: str | None


class OverrideStore:
    """Set, clear and look up overrides; the newest one in force wins."""

    def __init__(
        self, store: AuditStore, *, clock: Callable[[], datetime] | None = None
    ) -> None:
        self._store = store
        self._clock = clock or store.now

    def set(
        self,
        rotation: str,
        person: str,
        *,
        until: datetime,
        by: str | None,
        starts_at: datetime | None = None,
    ) -> Override:
        now = self._clock()
        values = {
            "rotation": rotation,
            "person": person,
            "starts_at": starts_at or now,
            "ends_at": until,
            "created_at": now,
            "created_by": by,
        }
        with self._store.transaction("set an override", write=True) as conn:
            new_id = conn.execute(
                sa.insert(_t).values(values).returning(_t.c.id)
            ).scalar_one()
            row = conn.execute(sa.select(_t).where(_t.c.id == new_id)).mappings().one()
        return _override(row)

    def clear(self, rotation: str, *, by: str | None) -> int:
        """End every override of ``rotation`` in force now; how many there were."""
        now = self._clock()
        query = (
            sa.update(_t)
            .where(_t.c.rotation == rotation, *_in_force(now))
            .values(cleared_at=now, cleared_by=by)
        )
        with self._store.transaction("clear overrides", write=True) as conn:
            return int(conn.execute(query).rowcount)

    def active(self, at: datetime | None = None) -> dict[str, Override]:
        """The override in force at ``at`` for each rotation that has one."""
        at = at or self._clock()
        query = sa.select(_t).where(*_in_force(at)).order_by(_t.c.id)
        with self._store.transaction("read overrides") as conn:
            rows = conn.execute(query).mappings().all()
        return {row["rotation"]: _override(row) for row in rows}  # newest wins

    def covering(self, rotation: str, at: datetime) -> str | None:
        """Who covers ``rotation`` at ``at`` by an override, if anyone."""
        query = (
            sa.select(_t.c.person)
            .where(_t.c.rotation == rotation, *_in_force(at))
            .order_by(_t.c.id.desc())
            .limit(1)
        )
        with self._store.transaction("find an override") as conn:
            person = conn.execute(query).scalar_one_or_none()
        return str(person) if person is not None else None

    def history(self, rotation: str, *, limit: int = 20) -> list[Override]:
        query = (
            sa.select(_t)
            .where(_t.c.rotation == rotation)
            .order_by(_t.c.id.desc())
            .limit(limit)
        )
        with self._store.transaction("override history") as conn:
            return [_override(row) for row in conn.execute(query).mappings().all()]


def _in_force(at: datetime) -> tuple[Any, ...]:
    return (_t.c.cleared_at.is_(None), _t.c.starts_at <= at, _t.c.ends_at > at)


def _override(row: Any) -> Override:
    return Override(
        id=int(row["id"]),
        rotation=row["rotation"],
        person=row["person"],
        starts_at=row["starts_at"],
        ends_at=row["ends_at"],
        created_at=row["created_at"],
        created_by=row["created_by"],
        cleared_at=row["cleared_at"],
        cleared_by=row["cleared_by"],
    )
