"""Tickets have a table of their own: one row per ticket, written with the completion."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from bot.audit import AttemptResult, AuditStore, NewAttempt
from bot.audit.tables import audit_tickets
from bot.domain import AuditStatus, Source
from tests.audit import legacy_schema


def attempt(request_id: str) -> NewAttempt:
    return NewAttempt(
        source=Source.CLI,
        recipients=("+33612345678",),
        text="hi",
        request_id=request_id,
    )


def sent(ticket: str) -> AttemptResult:
    return AttemptResult(status=AuditStatus.SENT, sms_ticket=ticket)


def rows(store: AuditStore) -> list[tuple[str, int]]:
    with store.engine.connect() as conn:
        query = sa.select(audit_tickets.c.ticket, audit_tickets.c.audit_id)
        return sorted((str(t), int(a)) for t, a in conn.execute(query))


def test_each_ticket_of_a_batched_send_finds_its_record(store: AuditStore) -> None:
    record_id = store.begin(attempt("batched"))
    store.complete(record_id, sent("sms_aaa,sms_bbb,sms_ccc"))
    other = store.begin(attempt("single"))
    store.complete(other, sent("sms_aaab"))
    assert rows(store) == [
        ("sms_aaa", record_id),
        ("sms_aaab", other),
        ("sms_bbb", record_id),
        ("sms_ccc", record_id),
    ]
    for ticket in ("sms_aaa", "sms_bbb", "sms_ccc"):
        found = store.find_by_ticket(ticket)
        assert found is not None and found.id == record_id
    found = store.find_by_ticket("sms_aaab")
    assert found is not None and found.id == other
    # Substrings of a ticket are not tickets (the old LIKE '%…%' matched them).
    assert store.find_by_ticket("sms_aa") is None
    assert store.find_by_ticket("bbb") is None


def test_a_failed_attempt_has_no_ticket(store: AuditStore) -> None:
    record_id = store.begin(attempt("failed"))
    store.complete(
        record_id, AttemptResult(status=AuditStatus.FAILED, error_message="no")
    )
    assert rows(store) == []


def test_a_ticket_given_twice_finds_the_newest_record(store: AuditStore) -> None:
    first = store.begin(attempt("one"))
    store.complete(first, sent("sms_same"))
    second = store.begin(attempt("two"))
    store.complete(second, sent("sms_same"))
    found = store.find_by_ticket("sms_same")
    assert found is not None and found.id == second


def test_purging_a_record_removes_its_tickets(store: AuditStore) -> None:
    record_id = store.begin(attempt("old"))
    store.complete(record_id, sent("sms_old1,sms_old2"))
    assert store.purge(older_than=store.now() + timedelta(days=1)) == 1
    assert rows(store) == []
    assert store.find_by_ticket("sms_old1") is None


def test_the_migration_backfills_tickets_of_existing_records(database_url: str) -> None:
    old_records = legacy_schema._audit_records_v1(sa.MetaData())
    engine = sa.create_engine(database_url)
    try:
        # A database as the previous release left it, with its records.
        legacy_schema.create_legacy_database(engine, 2)
        with engine.begin() as conn:
            conn.execute(
                sa.insert(old_records),
                [
                    {
                        "created_at": datetime(2026, 1, 1, tzinfo=UTC),
                        "source": "cli",
                        "recipients": ["+33612345678"],
                        "simulation": False,
                        "request_id": f"r{n}",
                        "status": status,
                        "sms_ticket": ticket,
                    }
                    for n, (status, ticket) in enumerate(
                        [
                            ("sent", "sms_one"),
                            ("sent", "sms_b1,sms_b2"),
                            ("failed", None),
                            ("sent", "sms_one"),
                        ],
                        start=1,
                    )
                ],
            )
    finally:
        engine.dispose()
    store = AuditStore.from_url(database_url)
    try:
        assert rows(store) == [
            ("sms_b1", 2),
            ("sms_b2", 2),
            ("sms_one", 1),
            ("sms_one", 4),
        ]
        for ticket, expected in [("sms_one", 4), ("sms_b1", 2), ("sms_b2", 2)]:
            found = store.find_by_ticket(ticket)
            assert found is not None and found.id == expected
    finally:
        store.close()
