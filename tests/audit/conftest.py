"""Audit store fixtures: ``database_url`` (tests/conftest.py) runs SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.audit import AuditStore


@pytest.fixture
def store(database_url: str) -> Iterator[AuditStore]:
    audit_store = AuditStore.from_url(database_url)
    yield audit_store
    audit_store.close()
