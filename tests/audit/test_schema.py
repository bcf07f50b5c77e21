from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from bot.audit import SCHEMA_VERSION, AuditStore, NewAttempt, migrate
from bot.audit.schema import MIGRATIONS, audit_records, create_engine, schema_version
from bot.domain import Source
from bot.errors import AuditStoreError


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    engine = create_engine(database_url)
    yield engine
    engine.dispose()


def _versions(engine: sa.Engine) -> list[int]:
    with engine.connect() as conn:
        return list(
            conn.execute(sa.text("SELECT version FROM sms_bot_schema")).scalars()
        )


def test_there_is_one_migration_per_version() -> None:
    assert len(MIGRATIONS) == SCHEMA_VERSION >= 1


def test_from_url_records_the_schema_version(database_url: str) -> None:
    store = AuditStore.from_url(database_url)
    try:
        assert _versions(store.engine) == [SCHEMA_VERSION]
    finally:
        store.close()


def test_migrations_build_the_table_the_code_uses(engine: sa.Engine) -> None:
    migrate(engine)
    inspector = sa.inspect(engine)
    columns = [column["name"] for column in inspector.get_columns("audit_records")]
    assert columns == [column.name for column in audit_records.columns]
    indexes = {
        index["name"]: (tuple(index["column_names"]), bool(index["unique"]))
        for index in inspector.get_indexes("audit_records")
    }
    assert indexes == {
        "ux_audit_records_request_id": (("request_id",), True),
        "ix_audit_records_created_at": (("created_at",), False),
        "ix_audit_records_channel_created": (("slack_channel_id", "created_at"), False),
        "ix_audit_records_user_created": (("slack_user_id", "created_at"), False),
        "ix_audit_records_status_created": (("status", "created_at"), False),
    }


def test_migrating_twice_changes_nothing(engine: sa.Engine) -> None:
    assert migrate(engine) == SCHEMA_VERSION
    store = AuditStore(engine)
    record_id = store.begin(
        NewAttempt(
            source=Source.CLI, recipients=("+33612345678",), text="hi", request_id="r"
        )
    )
    assert migrate(engine) == SCHEMA_VERSION
    assert _versions(engine) == [SCHEMA_VERSION]
    assert store.get(record_id).request_id == "r"


def test_a_newer_database_is_refused(engine: sa.Engine, database_url: str) -> None:
    migrate(engine)
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE sms_bot_schema SET version = :v"), {"v": SCHEMA_VERSION + 1}
        )
    with pytest.raises(AuditStoreError, match="newer than this sms-bot knows"):
        AuditStore.from_url(database_url)
    with pytest.raises(AuditStoreError, match=f"schema version {SCHEMA_VERSION + 1}"):
        migrate(engine)
    assert _versions(engine) == [SCHEMA_VERSION + 1]


def test_an_empty_database_is_version_zero(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        assert schema_version(conn) == 0


def test_engines_racing_to_migrate_all_succeed(database_url: str) -> None:
    engines = [create_engine(database_url) for _ in range(8)]
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            reached = list(pool.map(migrate, engines))
        assert reached == [SCHEMA_VERSION] * 8
        assert _versions(engines[0]) == [SCHEMA_VERSION]
    finally:
        for engine in engines:
            engine.dispose()


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path: object) -> None:
    engine = create_engine(f"sqlite:///{tmp_path}/audit.db")
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 10000
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        engine.dispose()
