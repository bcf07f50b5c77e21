"""Many sends at once through ``SmsService``, on SQLite and PostgreSQL.

Octopush is ``RecordingOctopush``, a threaded fake: pytest-httpserver answers one
request at a time, which would serialise the very thing under test. Clients get a 5 s
read timeout: a timeout here would make the client retry (a second request for one
send), and these tests are about the audit trail under load, not about timing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from bot.audit import AuditStore
from bot.domain import Actor, AuditStatus, SendDraft, SendOutcome, Source
from bot.octopush import OctopushClient
from bot.sending.rules import SendDefaults
from bot.sending.service import SmsService
from tests.conftest import OCTOPUSH_KEY
from tests.fakes.raw_http import Answer, RecordingOctopush, ticket_for

CLI = Actor(source=Source.CLI)
NUMBER = "+33612345678"
T = TypeVar("T")


@contextmanager
def sms_service(database_url: str, octopush_url: str) -> Iterator[SmsService]:
    """A service of its own: its own store (engine, pool) and Octopush client."""
    store = AuditStore.from_url(database_url)
    client = OctopushClient(
        api_login="ops@example.com",
        api_key=OCTOPUSH_KEY,
        base_url=octopush_url,
        timeout=(2, 5),
        backoff=0,
    )
    try:
        yield SmsService(octopush=client, store=store, defaults=SendDefaults())
    finally:
        client.close()
        store.close()


def all_at_once(calls: list[Callable[[], T]]) -> tuple[list[T], list[BaseException]]:
    """Run each call on its own thread, released together; return results and errors."""
    start = threading.Barrier(len(calls))
    results: list[T] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(call: Callable[[], T]) -> None:
        try:
            start.wait(timeout=10)
            result = call()
        except BaseException as exc:  # collected: the caller asserts there are none
            with lock:
                errors.append(exc)
        else:
            with lock:
                results.append(result)

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a sender hung"
    return results, errors


def sender(service: SmsService, draft: SendDraft) -> Callable[[], SendOutcome]:
    return lambda: service.send(draft, CLI)


def test_50_concurrent_sends_each_get_a_sent_record_and_one_octopush_request(
    database_url: str,
) -> None:
    with (
        RecordingOctopush() as octopush,
        sms_service(database_url, octopush.url) as service,
    ):
        drafts = [
            SendDraft(recipients=(NUMBER,), text=f"alert {n}", request_id=f"burst-{n}")
            for n in range(50)
        ]

        outcomes, errors = all_at_once([sender(service, d) for d in drafts])

        assert errors == []
        assert len(outcomes) == 50
        assert {o.status for o in outcomes} == {AuditStatus.SENT}
        assert not any(o.duplicate for o in outcomes)
        records = service.store.recent(limit=100)
    assert len(records) == 50
    assert {r.status for r in records} == {AuditStatus.SENT}
    assert {r.request_id for r in records} == {f"burst-{n}" for n in range(50)}
    assert {r.id for r in records} == {o.audit_id for o in outcomes}
    # Each record holds the ticket of its own request, not a neighbour's.
    assert len({r.sms_ticket for r in records}) == 50
    for record in records:
        assert record.text == f"alert {record.request_id.removeprefix('burst-')}"
    assert len(octopush.bodies) == 50
    assert sorted(str(b["request_id"]) for b in octopush.bodies) == sorted(
        r.request_id for r in records
    )


def test_20_simultaneous_submits_of_one_request_id_send_once(
    database_url: str,
) -> None:
    def slow_ticket(body: dict[str, Any], number: int) -> Answer:
        time.sleep(0.2)  # keep the first send in flight while the others arrive
        return 201, ticket_for(number)

    with (
        RecordingOctopush(slow_ticket) as octopush,
        sms_service(database_url, octopush.url) as service,
    ):
        draft = SendDraft(recipients=(NUMBER,), text="db-1 down", request_id="modal-7")

        outcomes, errors = all_at_once([sender(service, draft) for _ in range(20)])

        assert errors == []
        assert len(outcomes) == 20
        (record,) = service.store.recent(limit=10)
    assert len(octopush.bodies) == 1
    assert octopush.bodies[0]["request_id"] == "modal-7"
    assert record.status is AuditStatus.SENT
    assert record.sms_ticket == "sms_rec0001"
    (fresh,) = [o for o in outcomes if not o.duplicate]
    assert fresh.status is AuditStatus.SENT
    assert fresh.sms_ticket == "sms_rec0001"
    duplicates = [o for o in outcomes if o.duplicate]
    assert len(duplicates) == 19
    assert {o.audit_id for o in outcomes} == {record.id}
    assert {o.request_id for o in outcomes} == {"modal-7"}
    # A late submit sees the first result; one during the send sees it still pending.
    assert {o.status for o in duplicates} <= {AuditStatus.PENDING, AuditStatus.SENT}
    for outcome in duplicates:
        if outcome.status is AuditStatus.SENT:
            assert outcome.sms_ticket == "sms_rec0001"


def test_two_stores_on_one_database_sending_25_each_at_once_lose_no_record(
    database_url: str,
) -> None:
    with (
        RecordingOctopush() as octopush,
        sms_service(database_url, octopush.url) as first,
        sms_service(database_url, octopush.url) as second,
    ):
        calls = [
            sender(
                service,
                SendDraft(
                    recipients=(NUMBER,), text=f"{name} {n}", request_id=f"{name}-{n}"
                ),
            )
            for n in range(25)
            for name, service in (("first", first), ("second", second))
        ]

        outcomes, errors = all_at_once(calls)

        assert errors == []
        assert {o.status for o in outcomes} == {AuditStatus.SENT}
        seen_by_first = first.store.recent(limit=100)
        seen_by_second = second.store.recent(limit=100)
    assert len(seen_by_first) == 50
    assert seen_by_first == seen_by_second
    assert {r.status for r in seen_by_first} == {AuditStatus.SENT}
    assert {r.request_id for r in seen_by_first} == {
        f"{name}-{n}" for name in ("first", "second") for n in range(25)
    }
    assert len({r.id for r in seen_by_first}) == 50
    assert len({r.sms_ticket for r in seen_by_first}) == 50
    assert len(octopush.bodies) == 50
