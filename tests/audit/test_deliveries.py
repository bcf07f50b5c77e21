"""Delivery receipts and the post they update, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from bot.audit import AuditStore
from bot.audit.deliveries import DeliveryLog
from bot.errors import AuditStoreError
from tests.audit.test_store import attempt

FINAL = ("DELIVERED", "NOT_DELIVERED")


def receipt(log: DeliveryLog, audit_id: int, number: str, status: str) -> None:
    log.record(
        audit_id=audit_id,
        message_id="sms_6512ab",
        number=number,
        status=status,
        raw_status=status,
        final_statuses=FINAL,
    )


def test_remembering_a_post_gives_the_receipts_that_beat_it(store: AuditStore) -> None:
    log = DeliveryLog(store)
    record_id = store.begin(attempt())
    receipt(log, record_id, "+33612345678", "DELIVERED")
    receipt(log, record_id, "+33698765432", "NOT_DELIVERED")
    earlier = log.remember_post(record_id, channel="C0OPS", ts="1712345678.000100")
    assert [(d.number, d.status) for d in earlier] == [
        ("+33612345678", "DELIVERED"),
        ("+33698765432", "NOT_DELIVERED"),
    ]
    record = store.get(record_id)
    assert (record.slack_message_channel, record.slack_message_ts) == (
        "C0OPS",
        "1712345678.000100",
    )


def test_a_post_remembered_before_any_receipt_gives_none(store: AuditStore) -> None:
    log = DeliveryLog(store)
    record_id = store.begin(attempt())
    assert log.remember_post(record_id, channel="C0OPS", ts="1.2") == []
    receipt(log, record_id, "+33612345678", "DELIVERED")  # after: read by its handler
    assert [d.status for d in log.for_audit(record_id)] == ["DELIVERED"]
    assert store.get(record_id).slack_message_ts == "1.2"


def test_the_post_of_an_unknown_attempt_is_refused(store: AuditStore) -> None:
    with pytest.raises(AuditStoreError, match="does not exist"):
        DeliveryLog(store).remember_post(999, channel="C0OPS", ts="1.2")
