"""Receipts, opt-outs and notices are written by one atomic statement each.

Octopush may deliver a callback twice and several instances (or worker threads) may
handle the copies at once; the outcome must be the same as handling one copy, and a
late non-final receipt must never replace a final one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from bot.audit import AuditStore, NewAttempt, Notices, OptOutList
from bot.audit.deliveries import DeliveryLog
from bot.domain import Source
from bot.paging.inbound import FINAL_STATUSES

T = TypeVar("T")
THREADS = 12


def at_once(count: int, work: Callable[[int], T]) -> list[T]:
    """Run ``work(i)`` in ``count`` threads released together; return their results."""
    barrier = threading.Barrier(count)
    results: list[T | None] = [None] * count
    failures: list[BaseException] = []

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work(i)
        except BaseException as exc:  # reported below, never swallowed
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    return [r for r in results if r is not None]


def receipt(log: DeliveryLog, status: str, number: str = "+33612345678") -> bool:
    return log.record(
        audit_id=None,
        message_id="sms_1",
        number=number,
        status=status,
        raw_status=status,
        final_statuses=FINAL_STATUSES,
    )


def test_simultaneous_copies_of_a_receipt_store_it_once(store: AuditStore) -> None:
    log = DeliveryLog(store)
    changed = at_once(THREADS, lambda i: receipt(log, "DELIVERED"))
    assert changed.count(True) == 1
    assert changed.count(False) == THREADS - 1
    assert log.status_of(message_id="sms_1", number="+33612345678") == "DELIVERED"


def test_a_late_ack_never_overwrites_delivered(store: AuditStore) -> None:
    log = DeliveryLog(store)
    for round_ in range(5):
        number = f"+3361234567{round_}"
        at_once(
            THREADS,
            lambda i, number=number: receipt(  # type: ignore[misc]
                log, "DELIVERED" if i % 2 else "ACK", number=number
            ),
        )
        assert log.status_of(message_id="sms_1", number=number) == "DELIVERED"
    assert receipt(log, "ACK", number="+33612345670") is False
    assert receipt(log, "NOT_DELIVERED", number="+33612345670") is True


def test_a_receipt_that_changes_the_status_is_reported_as_a_change(
    store: AuditStore,
) -> None:
    log = DeliveryLog(store)
    assert receipt(log, "ACK") is True
    assert receipt(log, "ACK") is False
    assert receipt(log, "DELIVERED") is True
    assert log.status_of(message_id="sms_1", number="+33612345678") == "DELIVERED"


def test_a_receipt_for_an_unknown_ticket_is_linked_when_it_is_known(
    store: AuditStore,
) -> None:
    log = DeliveryLog(store)
    receipt(log, "ACK")
    record_id = _record(store)
    log.record(
        audit_id=record_id,
        message_id="sms_1",
        number="+33612345678",
        status="DELIVERED",
        raw_status="DELIVERED",
        final_statuses=FINAL_STATUSES,
    )
    assert [d.status for d in log.for_audit(record_id)] == ["DELIVERED"]


def test_simultaneous_stops_add_the_number_once(store: AuditStore) -> None:
    optouts = OptOutList(store)
    added = at_once(THREADS, lambda i: optouts.add("+33612345678", source="callback"))
    assert added.count(True) == 1
    assert [o.number for o in optouts.all()] == ["+33612345678"]


def test_one_caller_claims_a_notice(store: AuditStore) -> None:
    notices = Notices(store)
    claimed = at_once(THREADS, lambda i: notices.claim("low-credit"))
    assert claimed.count(True) == 1
    assert notices.claimed("low-credit")
    notices.release("low-credit")
    assert notices.claim("low-credit") is True


def _record(store: AuditStore) -> int:
    return store.begin(
        NewAttempt(
            source=Source.CLI,
            recipients=("+33612345678",),
            text="hi",
            simulation=False,
            request_id="req-link",
        )
    )
