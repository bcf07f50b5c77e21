"""Alembic revisions: the schema they build, upgrades in place, locking, ``sms-bot db``."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from bot.audit import AuditStore, NewAttempt, OptOutList, head_revision, migrate
from bot.audit.deliveries import DeliveryLog
from bot.audit.engine import create_engine
from bot.audit.pages import PageStore
from bot.audit.tables import audit_records, metadata
from bot.domain import AuditStatus, Source
from bot.errors import AuditStoreError
from tests.audit import legacy_schema

REPO = Path(__file__).resolve().parents[2]
WHEN = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    engine = create_engine(database_url)
    yield engine
    engine.dispose()


def _revisions(engine: sa.Engine) -> list[str]:
    with engine.connect() as conn:
        return list(
            conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars()
        )


def _db(args: list[str], url: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("OCTOPUSH_", "SLACK_", "SMS_"))
    }
    env["DATABASE_URL"] = url
    env["PYTHONPATH"] = str(REPO)
    return subprocess.run(
        [sys.executable, "-m", "bot", "db", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_from_url_records_the_head_revision(database_url: str) -> None:
    store = AuditStore.from_url(database_url)
    try:
        assert _revisions(store.engine) == [head_revision()]
    finally:
        store.close()


def test_revisions_build_exactly_the_tables_the_code_uses(engine: sa.Engine) -> None:
    migrate(engine)
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    assert differences == []
    indexes = {
        index["name"]: (tuple(index["column_names"]), bool(index["unique"]))
        for index in sa.inspect(engine).get_indexes("audit_records")
    }
    assert indexes["ux_audit_records_request_id"] == (("request_id",), True)
    columns = [c["name"] for c in sa.inspect(engine).get_columns("audit_records")]
    assert columns == [column.name for column in audit_records.columns]


def test_migrating_twice_changes_nothing(engine: sa.Engine) -> None:
    assert migrate(engine) == head_revision()
    store = AuditStore(engine)
    record_id = store.begin(
        NewAttempt(
            source=Source.CLI, recipients=("+33612345678",), text="hi", request_id="r"
        )
    )
    assert migrate(engine) == head_revision()
    assert _revisions(engine) == [head_revision()]
    assert store.get(record_id).request_id == "r"


def test_a_database_newer_than_the_code_is_refused(
    engine: sa.Engine, database_url: str
) -> None:
    migrate(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = 'f00dcafe'"))
    with pytest.raises(AuditStoreError, match="newer than this sms-bot knows"):
        AuditStore.from_url(database_url)
    assert _revisions(engine) == ["f00dcafe"]


def _fill_legacy(engine: sa.Engine, version: int) -> None:
    """Records as the previous release wrote them, in every table it had."""
    legacy = sa.MetaData()
    records = legacy_schema._audit_records_v1(legacy)
    with engine.begin() as conn:
        conn.execute(
            sa.insert(records),
            [
                {
                    "created_at": WHEN,
                    "completed_at": WHEN,
                    "source": "slash",
                    "slack_user_id": "U1",
                    "slack_channel_id": "C1",
                    "recipients": ["+33612345678", "+33698765432"],
                    "text": f"db-{n} is down",
                    "simulation": False,
                    "request_id": f"legacy-{n}",
                    "status": "sent",
                    "sms_ticket": f"sms_{n}",
                    "number_of_contacts": 2,
                    "number_of_sms_needed": 1,
                    "total_cost": 0.09,
                    "residual_credit": 12.5,
                    "duration_ms": 120,
                }
                for n in range(1, 4)
            ],
        )
        if version < 2:
            return
        opt_outs, _notices, deliveries, pages = legacy_schema._tables_v2(legacy)
        conn.execute(
            sa.insert(opt_outs).values(
                number="+33611111111", created_at=WHEN, source="sms", note="STOP"
            )
        )
        conn.execute(
            sa.insert(deliveries).values(
                audit_id=1,
                message_id="sms_1",
                number="+33612345678",
                status="DELIVERED",
                raw_status="DELIVERED",
                updated_at=WHEN,
            )
        )
        conn.execute(
            sa.insert(pages).values(
                created_at=WHEN,
                target="db-oncall",
                text="DB down",
                members=["alice", "bob"],
                member_index=0,
                audit_ids=[1],
                state="open",
                version=1,
            )
        )


@pytest.mark.parametrize("version", [1, 2])
def test_sms_bot_db_upgrade_brings_a_previous_release_database_to_head(
    database_url: str, engine: sa.Engine, tmp_path: Path, version: int
) -> None:
    legacy_schema.create_legacy_database(engine, version)
    _fill_legacy(engine, version)

    before = _db(["current"], database_url, tmp_path)
    assert before.returncode == 0, before.stderr
    assert legacy_schema_revision(version) in before.stdout
    upgraded = _db(["upgrade"], database_url, tmp_path)
    assert upgraded.returncode == 0, upgraded.stderr

    assert _revisions(engine) == [head_revision()]
    store = AuditStore.from_url(database_url)
    try:
        kept = [store.get(n) for n in (1, 2, 3)]
        assert [r.request_id for r in kept] == ["legacy-1", "legacy-2", "legacy-3"]
        assert list(kept[0].recipients) == ["+33612345678", "+33698765432"]
        assert kept[0].status is AuditStatus.SENT
        assert kept[0].created_at == WHEN
        assert kept[2].text == "db-3 is down"
        if version == 2:
            assert OptOutList(store).among(["+33611111111"]) == ["+33611111111"]
            (delivery,) = DeliveryLog(store).for_audit(1)
            assert delivery.number == "+33612345678"
            assert PageStore(store).get(1).target == "db-oncall"
        else:  # the tables of version 2 were created by the upgrade
            assert OptOutList(store).among(["+33611111111"]) == []
    finally:
        store.close()
    with engine.connect() as conn:  # left for the previous release, if rolled back to
        assert sa.inspect(conn).has_table("sms_bot_schema")
    again = _db(["upgrade"], database_url, tmp_path)
    assert again.returncode == 0
    assert _revisions(engine) == [head_revision()]


def legacy_schema_revision(version: int) -> str:
    return {1: "0001", 2: "0002"}[version]


def test_sms_bot_db_current_tells_empty_from_up_to_date(
    database_url: str, tmp_path: Path
) -> None:
    empty = _db(["current"], database_url, tmp_path)
    assert empty.returncode == 0, empty.stderr
    assert not empty.stdout.startswith(head_revision())
    assert _db(["upgrade"], database_url, tmp_path).returncode == 0
    current = _db(["current"], database_url, tmp_path)
    assert current.stdout.splitlines()[0].startswith(head_revision())


def test_sms_bot_db_upgrade_reports_an_unreachable_database(tmp_path: Path) -> None:
    url = "postgresql+psycopg://nobody:secret-pw@127.0.0.1:9/none?connect_timeout=2"
    result = _db(["upgrade"], url, tmp_path)
    assert result.returncode == 1
    assert "audit store error" in result.stderr
    assert "secret-pw" not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


def test_engines_racing_to_migrate_all_succeed(database_url: str) -> None:
    engines = [create_engine(database_url) for _ in range(8)]
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            reached = list(pool.map(migrate, engines))
        assert reached == [head_revision()] * 8
        assert _revisions(engines[0]) == [head_revision()]
    finally:
        for engine in engines:
            engine.dispose()


def test_two_processes_upgrading_together_upgrade_once(
    database_url: str, engine: sa.Engine, tmp_path: Path
) -> None:
    legacy_schema.create_legacy_database(engine, 2)
    _fill_legacy(engine, 2)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SMS_", "SLACK_"))}
    env |= {"DATABASE_URL": database_url, "PYTHONPATH": str(REPO)}
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "bot", "db", "upgrade"],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [process.communicate(timeout=120) for process in processes]
    assert [process.returncode for process in processes] == [0, 0], outputs
    assert _revisions(engine) == [head_revision()]
    store = AuditStore(engine)
    assert [store.get(n).request_id for n in (1, 2, 3)] == [
        "legacy-1",
        "legacy-2",
        "legacy-3",
    ]


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
