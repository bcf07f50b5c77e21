"""A SQLite transaction begins on the driver (``BEGIN`` or ``BEGIN IMMEDIATE``), not
through SQLAlchemy's execution: what it says when it cannot begin must stay the store's
own error, and a write must still lock the file from its start."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.audit import AuditStore
from bot.errors import AuditStoreError


@pytest.fixture
def store(tmp_path: Path) -> Iterator[AuditStore]:
    opened = AuditStore.from_url(f"sqlite:///{tmp_path}/audit.db")
    with opened.transaction("create the file", write=True) as conn:
        conn.execute(sa.text("CREATE TABLE IF NOT EXISTS t (x INTEGER)"))
        # The connection the writers share (AuditStore._on_turn_connection): 50 ms.
        driver = conn.connection.driver_connection
        assert driver is not None
        driver.execute("PRAGMA busy_timeout=50")
    yield opened
    opened.close()


def test_a_write_that_cannot_begin_is_the_stores_error_and_the_next_one_works(
    store: AuditStore, tmp_path: Path
) -> None:
    holder = sqlite3.connect(tmp_path / "audit.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(AuditStoreError, match="could not write a row.*locked"):
            with store.transaction("write a row", write=True) as conn:
                conn.execute(sa.text("INSERT INTO t VALUES (1)"))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    with store.transaction("write a row", write=True) as conn:
        conn.execute(sa.text("INSERT INTO t VALUES (2)"))
    with store.transaction("read") as conn:
        assert conn.execute(sa.text("SELECT x FROM t")).scalars().all() == [2]


def test_a_write_holds_the_file_from_its_first_statement(
    store: AuditStore, tmp_path: Path
) -> None:
    """``BEGIN IMMEDIATE``: another writer is kept out even before the first write."""
    other = sqlite3.connect(tmp_path / "audit.db", isolation_level=None, timeout=0.05)
    try:
        with store.transaction("hold the file", write=True) as conn:
            conn.execute(sa.text("SELECT 1"))
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        other.execute("BEGIN IMMEDIATE")  # free again once it committed
        other.execute("ROLLBACK")
    finally:
        other.close()
