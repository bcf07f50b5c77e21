"""Every hot query uses an index: ``EXPLAIN`` of the very statements each path runs.

The statements are captured while the benchmark's paths (``bench.scale.PATHS``) run
against a seeded database, then explained: SQLite's ``EXPLAIN QUERY PLAN``, and
PostgreSQL's ``EXPLAIN`` with ``enable_seqscan`` off (so a missing index shows as a
``Seq Scan`` whatever the table size). A full scan of a table, or of an index without
a ``LIMIT``, fails; so does a path that does not use the index it is meant to.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event

from bench.scale import PATHS, SQLITE_ONLY
from bench.seed import Seeded, seed
from bot.audit import AuditStore
from bot.audit.driver_statements import DriverStatement

#: The index each path must use (any one of the names listed, per path).
EXPECTED = {
    "receipt": ("audit_tickets",),
    "reply": ("audit_tickets",),
    "history": ("ix_audit_records_channel_created", "ix_audit_records_created_at"),
    "rate (per user)": ("ix_audit_records_user_created_status",),
    "budget (per day)": (
        "ix_audit_records_status_created",
        "ix_audit_records_created_at",
    ),
    "escalation poll": ("ix_pages_due",),
    "pending sweep": ("ix_audit_records_status_created",),
    "request key": ("ix_audit_records_request_key",),
    "callback inbox": ("ix_callback_inbox_unprocessed",),
    "command queue": ("ix_stored_commands_unprocessed",),
}


@contextmanager
def captured(store: AuditStore) -> Iterator[list[tuple[str, Any]]]:
    """The reading statements (with their parameters) run on ``store`` meanwhile,
    through SQLAlchemy or on SQLite's driver (:mod:`bot.audit.driver_statements`)."""
    statements: list[tuple[str, Any]] = []

    def before(
        conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool
    ) -> None:
        verb = statement.lstrip().split(None, 1)[0].upper()
        if not many and verb in {"SELECT", "UPDATE", "DELETE"}:
            statements.append((statement, params))

    driver_parameters = DriverStatement.parameters

    def on_driver(self: DriverStatement, values: Any) -> tuple[Any, ...]:
        bound = driver_parameters(self, values)
        if self.dialect is store.engine.dialect:
            before(None, None, self.sql, bound, None, False)
        return bound

    event.listen(store.engine, "before_cursor_execute", before)
    DriverStatement.parameters = on_driver  # type: ignore[method-assign]
    try:
        yield statements
    finally:
        DriverStatement.parameters = driver_parameters  # type: ignore[method-assign]
        event.remove(store.engine, "before_cursor_execute", before)


def plan(store: AuditStore, statement: str, params: Any) -> list[str]:
    with store.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", params)
            return [str(row[-1]) for row in rows]
        conn.exec_driver_sql("SET enable_seqscan = off")
        rows = conn.exec_driver_sql(f"EXPLAIN {statement}", params)
        lines = [str(row[0]) for row in rows]
        conn.rollback()
        return lines


def full_scans(lines: list[str], statement: str) -> list[str]:
    """Plan lines that read a whole table (or a whole index with no LIMIT to stop it)."""
    limited = re.search(r"\bLIMIT\b", statement, re.IGNORECASE) is not None
    bad = []
    for line in lines:
        text = line.strip().lstrip("->").strip()
        if re.match(r"^SCAN \w+$", text) or text.startswith("Seq Scan"):
            bad.append(text)
        elif re.match(r"^SCAN \w+ USING", text) and not limited:
            bad.append(text)
    if limited and any("TEMP B-TREE FOR ORDER BY" in line for line in lines):
        bad.append("sorts every match to keep a few (LIMIT over a temp B-tree)")
    if limited and any(re.match(r"^(->\s*)?Sort\s+\(", line.strip()) for line in lines):
        bad.append("sorts every match to keep a few (LIMIT over a Sort)")
    scans_an_index = any("Index" in line and " using " in line for line in lines)
    if scans_an_index and not limited:
        # PostgreSQL: an index scan with no Index Cond reads the whole index.
        if not any("Index Cond" in line for line in lines):
            bad.append("index scan without a condition")
    return bad


@pytest.fixture
def seeded(store: AuditStore) -> Seeded:
    return seed(store.engine, 2_000)


# The acks' intake runs in files of its own beside a SQLite trail, on their own
# connections: its statements are explained in tests/audit/test_command_intake.py.
@pytest.mark.parametrize("path", [name for name in PATHS if name not in SQLITE_ONLY])
def test_each_hot_path_uses_its_index(
    store: AuditStore, seeded: Seeded, path: str
) -> None:
    with captured(store) as statements:
        PATHS[path](store, seeded, 1)
    assert statements, f"{path} ran no query"
    plans = [
        (statement, plan(store, statement, params)) for statement, params in statements
    ]
    for statement, lines in plans:
        assert full_scans(lines, statement) == [], (statement, lines)
    used = " ".join(" ".join(lines) for _, lines in plans)
    assert any(name in used for name in EXPECTED[path]), (path, used)


def test_the_rate_window_is_counted_from_its_index_alone(
    store: AuditStore, seeded: Seeded
) -> None:
    """Every send counts its sender's attempts in the window: a read of the table per
    attempt counted made that cost grow with how many sends the limit allows."""
    with captured(store) as statements:
        PATHS["rate (per user)"](store, seeded, 1)
    lines = [line for s, params in statements for line in plan(store, s, params)]
    if store.engine.dialect.name == "sqlite":
        wanted = "USING COVERING INDEX ix_audit_records_user_created_status"
    else:
        wanted = "Index Only Scan using ix_audit_records_user_created_status"
    assert any(wanted in line for line in lines), lines
