"""Audit store fixtures: ``database_url`` (tests/conftest.py) runs SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from bot.audit import AuditStore
from bot.audit.commands import CommandQueue, open_command_queue

#: The stored commands' lease in the queue tests.
QUEUE_LEASE = timedelta(seconds=30)


@pytest.fixture
def store(database_url: str) -> Iterator[AuditStore]:
    audit_store = AuditStore.from_url(database_url)
    yield audit_store
    audit_store.close()


@pytest.fixture
def audit(sqlite_store: AuditStore) -> AuditStore:
    """A SQLite audit trail (whatever the database of the run): the command queue
    beside it has its own two files."""
    return sqlite_store


@pytest.fixture
def queue(audit: AuditStore) -> Iterator[CommandQueue]:
    """The command queue of :func:`audit`, in its intake and queue files."""
    opened = open_command_queue(audit, lease=QUEUE_LEASE)
    yield opened
    opened.close()
