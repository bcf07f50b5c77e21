"""``SMS_AUDIT_REDACT_TEXT`` reaches the files: a removed text is in no byte on disk.

Issue 18 item 8: the text was gone from ``sms-bot audit`` but still in ``audit.db-wal``
(never checkpointed), and SQLite keeps removed content in free space. Now SQLite runs
with ``secure_delete`` and the log is checkpointed after each redaction and on close.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

from pytest_httpserver import HTTPServer

from bot.audit import AuditStore
from tests.conftest import SENT, SlackHarness
from tests.slack.listeners.test_commands import finished

MakeHarness = Callable[..., SlackHarness]
SEND_PATH = "/v1/public/sms-campaign/send"


def on_disk(database: Path) -> bytes:
    """The bytes of the database file and of its write-ahead log, if there is one."""
    wal = database.with_name(database.name + "-wal")
    return database.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def test_a_redacted_text_is_in_neither_the_database_nor_its_log(
    make_harness: MakeHarness, httpserver: HTTPServer, tmp_path: Path
) -> None:
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_json(
        SENT, status=201
    )
    harness = make_harness(audit_redact_text=True)
    marker = uuid.uuid4().hex
    secret = f"Vault code {marker}, and long enough to leave a trace " * 3
    harness.command(f"+33612345678 {secret}")
    (record,) = finished(harness)
    harness.stack.executor.shutdown(wait=True)  # the send and its post are done
    assert record.text is None
    database = tmp_path / "audit.db"
    assert b"+33612345678" in on_disk(database)  # the record itself is on disk
    assert marker.encode() not in on_disk(database)  # while running
    harness.store.close()  # a clean stop
    assert marker.encode() not in on_disk(database)


def test_a_process_that_exits_without_closing_leaves_no_removed_text(
    tmp_path: Path,
) -> None:
    """Another instance keeps the file open, so SQLite's own last-close checkpoint
    never runs: the exiting process empties the log itself."""
    database = tmp_path / "audit.db"
    AuditStore.from_url(f"sqlite:///{database}").close()  # the schema
    other_instance = sqlite3.connect(database)
    other_instance.execute("SELECT count(*) FROM audit_records").fetchone()
    # Long: SQLite rewrites a short removed value in place, but leaves a long one in
    # the page's free space unless secure_delete zeroes it.
    marker = uuid.uuid4().hex
    secret = f"Removed {marker}, and long enough to leave a trace " * 3
    script = f"""
import sqlalchemy as sa
from bot.audit import AuditStore
from bot.audit.tables import audit_records as t
store = AuditStore.from_url("sqlite:///{database}")
with store.transaction("write a text", write=True) as conn:
    conn.execute(sa.insert(t).values(
        id=1, source="cli", recipients=["+33612345678"], text={secret!r},
        status="sent", created_at=store.now(), request_id="r1", simulation=False))
with store.transaction("remove it", write=True) as conn:
    conn.execute(sa.update(t).where(t.c.id == 1).values(text=None))
# no store.close(): the process just ends
"""
    try:
        subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
        assert marker.encode() not in on_disk(database)
    finally:
        other_instance.close()
    reopened = AuditStore.from_url(f"sqlite:///{database}")
    try:
        assert [r.text for r in reopened.recent(limit=5)] == [None]
    finally:
        reopened.close()
