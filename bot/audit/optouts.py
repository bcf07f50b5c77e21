"""Numbers that asked not to be texted (Octopush STOP callbacks, or an admin).

Kept in the audit database so every instance refuses them at once.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot.audit.dialects import insert_or_ignore
from bot.audit.driver_statements import on_driver
from bot.audit.store import AuditStore
from bot.audit.tables import opt_outs

#: Read on every send (inside its admission transaction): built once.
_AMONG = sa.select(opt_outs.c.number).where(
    opt_outs.c.number.in_(sa.bindparam("numbers", expanding=True))
)

#: On SQLite's driver (:mod:`bot.audit.driver_statements`) a statement is compiled
#: once, so its ``IN`` cannot grow at each run: one statement per number of numbers,
#: up to this many (a longer list is read in parts of this size).
AMONG_AT_ONCE = 64
#: The names of their bound values, in order.
_NUMBER_KEYS = [f"number_{i}" for i in range(AMONG_AT_ONCE)]


@functools.cache
def _among_n(size: int) -> sa.Select[tuple[str]]:
    """The look-up of ``size`` numbers, built once (it is its compiled form's key)."""
    number = opt_outs.c.number
    keys = _NUMBER_KEYS[:size]
    return sa.select(number).where(
        number.in_([sa.bindparam(key, type_=number.type) for key in keys])
    )


@dataclass(frozen=True)
class OptOut:
    number: str
    created_at: datetime
    source: str
    message_id: str | None


class OptOutList:
    """Add, remove and look up opted-out numbers (E.164)."""

    def __init__(self, store: AuditStore) -> None:
        self._store = store

    def add(self, number: str, *, source: str, message_id: str | None = None) -> bool:
        """Record an opt-out; False when the number was already on the list."""
        values = {
            "number": number,
            "created_at": self._store.now(),
            "source": source,
            "message_id": message_id,
        }
        with self._store.transaction("record an opt-out", write=True) as conn:
            return insert_or_ignore(conn, opt_outs, values, "number")

    def remove(self, number: str) -> bool:
        """Take a number off the list; False when it was not on it."""
        with self._store.transaction("remove an opt-out", write=True) as conn:
            result = conn.execute(
                sa.delete(opt_outs).where(opt_outs.c.number == number)
            )
        return bool(result.rowcount)

    def among(self, numbers: Iterable[str]) -> list[str]:
        """Those of ``numbers`` that opted out, in the order given."""
        wanted = list(dict.fromkeys(numbers))
        if not wanted:
            return []
        with self._store.transaction("look up opt-outs") as conn:
            return among_in(conn, wanted)

    def all(self) -> list[OptOut]:
        with self._store.transaction("list opt-outs") as conn:
            rows = conn.execute(
                sa.select(opt_outs).order_by(opt_outs.c.created_at)
            ).mappings()
            return [
                OptOut(
                    number=row["number"],
                    created_at=row["created_at"],
                    source=row["source"],
                    message_id=row["message_id"],
                )
                for row in rows
            ]


def among_in(conn: Connection, numbers: Iterable[str]) -> list[str]:
    """Those of ``numbers`` that opted out, read inside the caller's transaction (the
    send's admission: the check and the ``pending`` record see one snapshot)."""
    wanted = list(dict.fromkeys(numbers))
    if not wanted:
        return []
    driver = on_driver(conn)
    if driver is None:
        found = {row[0] for row in conn.execute(_AMONG, {"numbers": wanted})}
    else:
        found = set()
        for start in range(0, len(wanted), AMONG_AT_ONCE):
            part = wanted[start : start + AMONG_AT_ONCE]
            values = dict(zip(_NUMBER_KEYS, part, strict=False))
            found.update(row[0] for row in driver.rows(_among_n(len(part)), values))
    return [number for number in wanted if number in found]
