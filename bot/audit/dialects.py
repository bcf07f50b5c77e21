"""``INSERT … ON CONFLICT`` for the two backends we run on, so writes never select first.

A select-then-insert races between threads and instances; one statement with a
conflict clause is atomic on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection


def insert(conn: Connection, table: sa.Table) -> Any:
    """The dialect's ``INSERT`` construct for ``table`` (it has ``on_conflict_*``)."""
    name = conn.dialect.name
    if name == "postgresql":
        return postgresql.insert(table)
    if name == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"no upsert for the {name} dialect")


def insert_or_ignore(
    conn: Connection, table: sa.Table, values: dict[str, Any], *keys: str
) -> bool:
    """Insert a row unless one with the same ``keys`` exists; True when inserted."""
    statement = (
        insert(conn, table)
        .values(values)
        .on_conflict_do_nothing(index_elements=list(keys))
        .returning(*(table.c[key] for key in keys))
    )
    # RETURNING, not rowcount: drivers disagree on the rowcount of an upsert.
    return conn.execute(statement).first() is not None
