"""Audit store fixtures: every test runs on SQLite, and on PostgreSQL when one answers.

Set ``TEST_DATABASE_URL=postgresql+psycopg://USER:PASSWORD@HOST:5432/DB`` to add the
PostgreSQL runs; its audit tables are dropped before and after each test.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.audit import AuditStore


def _drop_audit_tables(url: str) -> None:
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("DROP TABLE IF EXISTS audit_records, sms_bot_schema"))
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """``TEST_DATABASE_URL`` when it is set and answers within a few seconds."""
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url:
        pytest.skip("TEST_DATABASE_URL is not set")
    engine = sa.create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except Exception as exc:  # any failure means "skip", saying why
        shown = sa.make_url(url).render_as_string(hide_password=True)
        pytest.skip(f"TEST_DATABASE_URL ({shown}) is unreachable: {type(exc).__name__}")
    finally:
        engine.dispose()
    return url


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: a fresh SQLite file, or PostgreSQL without audit tables."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/audit.db"
        return
    url: str = request.getfixturevalue("postgres_url")
    _drop_audit_tables(url)
    yield url
    _drop_audit_tables(url)


@pytest.fixture
def store(database_url: str) -> Iterator[AuditStore]:
    audit_store = AuditStore.from_url(database_url)
    yield audit_store
    audit_store.close()
