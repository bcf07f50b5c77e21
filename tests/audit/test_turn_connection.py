"""The writers of a SQLite file share one connection, one at a time: its page cache
stays warm from write to write, and no write waits for the pool. A write that failed
in the database leaves it for a new one; closing the store closes it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from bot.audit import AuditStore
from bot.errors import AuditStoreError


@pytest.fixture
def store(tmp_path: Path) -> Iterator[AuditStore]:
    opened = AuditStore.from_url(f"sqlite:///{tmp_path}/audit.db")
    with opened.transaction("create a table", write=True) as conn:
        conn.execute(sa.text("CREATE TABLE t (x INTEGER)"))
    yield opened
    opened.close()


def write(store: AuditStore, value: int) -> Any:
    """Insert ``value``; the driver connection the write ran on."""
    with store.transaction("write a row", write=True) as conn:
        conn.execute(sa.text("INSERT INTO t VALUES (:x)"), {"x": value})
        return conn.connection.driver_connection


def test_writes_from_every_thread_run_on_one_connection(store: AuditStore) -> None:
    used: list[Any] = []
    threads = [
        threading.Thread(target=lambda n=n: used.append(write(store, n)))
        for n in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    used.append(write(store, 8))

    assert len(used) == 9
    assert len({id(connection) for connection in used}) == 1
    with store.transaction("count") as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM t")).scalar_one() == 9


def test_a_read_does_not_take_the_writers_connection(store: AuditStore) -> None:
    writers = write(store, 1)
    with store.transaction("read") as conn:
        assert conn.connection.driver_connection is not writers


def test_a_write_that_failed_in_the_database_leaves_it_for_a_new_one(
    store: AuditStore,
) -> None:
    before = write(store, 1)
    with pytest.raises(AuditStoreError, match="could not write a row"):
        with store.transaction("write a row", write=True) as conn:
            conn.execute(sa.text("INSERT INTO t VALUES (2)"))
            conn.execute(sa.text("INSERT INTO no_such_table VALUES (3)"))
    after = write(store, 4)

    assert after is not before
    with store.transaction("read") as conn:
        rows = conn.execute(sa.text("SELECT x FROM t ORDER BY x")).scalars().all()
    assert rows == [1, 4]  # the failed write's first row was rolled back


def test_an_error_of_the_callers_own_keeps_the_connection(store: AuditStore) -> None:
    before = write(store, 1)
    with pytest.raises(ValueError):
        with store.transaction("write a row", write=True) as conn:
            conn.execute(sa.text("INSERT INTO t VALUES (2)"))
            raise ValueError("a refusal, not a database fault")
    assert write(store, 3) is before
    with store.transaction("read") as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM t")).scalar_one() == 2


def test_closing_the_store_closes_the_writers_connection(tmp_path: Path) -> None:
    store = AuditStore.from_url(f"sqlite:///{tmp_path}/audit.db")
    with store.transaction("write", write=True) as conn:
        conn.execute(sa.text("CREATE TABLE t (x INTEGER)"))
    pool: Any = store.engine.pool
    assert pool.checkedout() == 1  # kept between writes

    store.close()

    assert pool.checkedout() == 0
