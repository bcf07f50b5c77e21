"""An answer the process holds is never resent by the sweep, even when writing it fails.

Octopush refuses a send (104, no credit); the write of that outcome fails. The sweep
must not take the attempt for a crash and resend it once the credit is back: the
person was told it failed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from bot.audit import AttemptResult, AuditStore, NewAttempt
from bot.audit.tables import audit_records
from bot.domain import Actor, AuditStatus, SendDraft, Source
from bot.errors import AuditStoreError
from bot.i18n import Deferred
from bot.octopush import OctopushClient
from bot.sending.delivery import ALREADY_SENT_NOTE, recovered
from bot.sending.lease import SEND_LEASE
from bot.sending.outcomes import outcome_from_record
from bot.sending.recovery import recover_pending
from bot.sending.rules import SendDefaults
from bot.sending.service import SmsService
from tests.conftest import OCTOPUSH_KEY, SENT, SlackHarness

SEND_PATH = "/v1/public/sms-campaign/send"
NO_CREDIT = {"code": 104, "message": "Not enough credit"}


def refused_then_sent(httpserver: HTTPServer) -> list[str]:
    """No credit for the first request; any later one goes out (credit is back)."""
    request_ids: list[str] = []

    def octopush(request: Request) -> Response:
        request_ids.append(json.loads(request.get_data())["request_id"])
        if len(request_ids) == 1:
            return Response(json.dumps(NO_CREDIT), status=400)
        return Response(json.dumps(SENT), status=201, content_type="application/json")

    httpserver.expect_request(SEND_PATH, method="POST").respond_with_handler(octopush)
    return request_ids


def failing_writes(
    store: AuditStore, monkeypatch: pytest.MonkeyPatch, *, times: int | None
) -> list[int]:
    """Make ``store.complete`` fail ``times`` times (``None``: always); count calls."""
    calls: list[int] = []
    real = store.complete

    def complete(record_id: int, result: AttemptResult) -> None:
        calls.append(record_id)
        if times is None or len(calls) <= times:
            raise AuditStoreError("audit store could not complete an attempt")
        real(record_id, result)

    monkeypatch.setattr(store, "complete", complete)
    return calls


def make_service(store: AuditStore, base_url: str) -> SmsService:
    client = OctopushClient(
        api_login="ops@example.com",
        api_key=OCTOPUSH_KEY,
        base_url=base_url,
        timeout=(0.5, 2),
        backoff=0,
    )
    return SmsService(
        octopush=client,
        store=store,
        defaults=SendDefaults(),
        completion_delays=(0.0, 0.0),
    )


class Later:
    """The real time plus ``shift``: an instance whose clock is ahead."""

    def __init__(self, shift: timedelta) -> None:
        self.shift = shift

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.shift


@pytest.fixture
def instances(
    database_url: str, octopush_url: str
) -> Iterator[Callable[..., SmsService]]:
    """Services on one database, each with its own engine (as separate processes)."""
    made: list[SmsService] = []

    def make(shift: timedelta = timedelta(0)) -> SmsService:
        migrated = AuditStore.from_url(database_url)
        store = AuditStore(migrated.engine, clock=Later(shift))
        service = make_service(store, octopush_url)
        made.append(service)
        return service

    yield make
    for service in made:
        service.octopush.close()
        service.store.close()


def test_a_refusal_whose_write_failed_once_is_recorded_failed_and_never_resent(
    make_harness: Callable[..., SlackHarness],
    database_url: str,
    httpserver: HTTPServer,
    instances: Callable[..., SmsService],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    request_ids = refused_then_sent(httpserver)
    harness = make_harness(database_url=database_url)
    writes = failing_writes(harness.store, monkeypatch, times=1)

    harness.command("+33612345678 db-1 down")

    (post,) = harness.slack.wait_for("chat.postMessage")
    harness.stack.executor.shutdown(wait=True)  # the send's work is over
    text = json.dumps(post.args, ensure_ascii=False)
    assert "SMS not sent" in text
    assert "104" in text
    assert "SMS sent" not in text
    assert "could not be completed" not in text  # the second write went through
    (record,) = harness.store.recent(limit=1)
    assert record.status is AuditStatus.FAILED
    assert record.error_code == "104"
    assert len(writes) == 2

    # The credit is back: the sweeps (this instance's, and a later one's) send nothing.
    assert recover_pending(harness.service, min_age=timedelta(0)) == []
    later = instances(shift=SEND_LEASE + timedelta(minutes=1))
    assert recover_pending(later, min_age=timedelta(0)) == []
    assert request_ids == [record.request_id]
    assert harness.store.get(record.id).status is AuditStatus.FAILED


def test_while_the_process_holds_an_unwritten_refusal_no_sweep_takes_it(
    httpserver: HTTPServer,
    instances: Callable[..., SmsService],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    request_ids = refused_then_sent(httpserver)
    service = instances()
    failing_writes(service.store, monkeypatch, times=None)  # the write never lands

    outcome = service.send(
        SendDraft(recipients=("+33612345678",), text="db-1 down"),
        Actor(source=Source.CLI),
    )

    # The person is told what is true: not sent (104), and not recorded yet.
    assert outcome.status is AuditStatus.FAILED
    assert outcome.error_code == "104"
    assert not outcome.maybe_sent
    (problem,) = outcome.problems
    assert "could not be completed" in problem
    assert "by this process while it runs" in problem
    record = service.store.get(outcome.audit_id)
    assert record.status is AuditStatus.PENDING
    assert record.claimed_by == service.leases.owner

    # Its own sweep and another instance's leave it alone: the process holds it.
    assert recover_pending(service, min_age=timedelta(0)) == []
    assert recover_pending(instances(), min_age=timedelta(0)) == []
    assert request_ids == [record.request_id]

    # Had the process died, its lease would run out; the refusal it noted on the
    # record is recorded then, and the SMS is still not sent again.
    later = instances(shift=SEND_LEASE + timedelta(minutes=1))
    (settled,) = recover_pending(later, min_age=timedelta(0))
    assert settled.status is AuditStatus.FAILED
    assert request_ids == [record.request_id]
    record = later.store.get(record.id)
    assert record.status is AuditStatus.FAILED
    assert record.error_code == "104"
    assert record.error_message is not None
    assert "Octopush refused it (code 104)" in record.error_message
    assert "not sent again" in record.error_message
    # Read back, the note is translatable again (a duplicate submit shows it).
    shown = outcome_from_record(record).error_message
    assert isinstance(shown, Deferred) and shown == record.error_message
    assert outcome_from_record(record).maybe_sent is False


def test_a_sent_answer_whose_write_keeps_failing_is_written_by_the_process_later(
    httpserver: HTTPServer,
    instances: Callable[..., SmsService],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_json(
        SENT, status=201
    )
    service = instances()
    failing_writes(service.store, monkeypatch, times=3)  # at once: 3 tries

    outcome = service.send(
        SendDraft(recipients=("+33612345678",), text="db-1 down"),
        Actor(source=Source.CLI),
    )

    assert outcome.status is AuditStatus.SENT
    assert service.store.get(outcome.audit_id).status is AuditStatus.PENDING
    assert recover_pending(instances(), min_age=timedelta(0)) == []
    service.retry_completions()  # what the background does every few seconds

    record = service.store.get(outcome.audit_id)
    assert record.status is AuditStatus.SENT
    assert record.sms_ticket == SENT["sms_ticket"]
    assert record.claimed_by is None and record.claimed_until is None
    assert not service.holds(record.id)
    assert len(httpserver.log) == 1


def test_a_refusal_to_the_sweeps_resend_whose_write_fails_is_not_resent_again(
    httpserver: HTTPServer,
    instances: Callable[..., SmsService],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    request_ids = refused_then_sent(httpserver)
    crashed = instances(shift=-timedelta(minutes=2))  # a process that died 2 min ago
    record_id = crashed.store.begin(
        NewAttempt(
            source=Source.CLI,
            recipients=("+33612345678",),
            text="db-1 down",
            request_id="crash-104",
        )
    )
    sweeper = instances()
    failing_writes(sweeper.store, monkeypatch, times=None)

    assert recover_pending(sweeper) == []  # resent: refused (104), not written
    assert recover_pending(sweeper, min_age=timedelta(0)) == []  # held here
    assert recover_pending(instances(), min_age=timedelta(0)) == []  # leased
    later = instances(shift=SEND_LEASE + timedelta(minutes=1))
    (settled,) = recover_pending(later, min_age=timedelta(0))  # the sweeper died

    assert request_ids == ["crash-104"]  # credit came back: still sent only once
    assert settled.status is AuditStatus.FAILED
    record = later.store.get(record_id)
    assert (record.status, record.error_code) == (AuditStatus.FAILED, "104")


def test_a_send_the_sweep_settled_as_duplicate_meanwhile_gets_its_ticket_and_cost(
    httpserver: HTTPServer,
    instances: Callable[..., SmsService],
) -> None:
    # The lease lapsed (say the database was away for a minute): the sweep resent
    # the attempt, Octopush answered 120, and the sweep recorded it sent, ticket and
    # cost unknown, before this process got its own answer.
    service = instances()

    def octopush(request: Request) -> Response:
        request_id = json.loads(request.get_data())["request_id"]
        record = service.store.find_by_request_id(request_id)
        assert record is not None
        swept = AttemptResult(
            status=AuditStatus.SENT, error_message=recovered(ALREADY_SENT_NOTE)
        )
        service.store.complete(record.id, swept)
        return Response(json.dumps(SENT), status=201, content_type="application/json")

    httpserver.expect_request(SEND_PATH, method="POST").respond_with_handler(octopush)

    outcome = service.send(
        SendDraft(recipients=("+33612345678",), text="db-1 down"),
        Actor(source=Source.CLI),
    )

    assert outcome.status is AuditStatus.SENT and outcome.problems == ()
    record = service.store.get(outcome.audit_id)
    assert record.status is AuditStatus.SENT
    assert record.sms_ticket == SENT["sms_ticket"]
    assert record.total_cost == pytest.approx(SENT["total_cost"])
    assert record.error_message is None
    found = service.store.find_by_ticket(str(SENT["sms_ticket"]))
    assert found is not None and found.id == record.id


def test_a_held_answer_never_lands_on_another_attempt_that_took_its_record_id(
    httpserver: HTTPServer,
    instances: Callable[..., SmsService],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Retries go on for an hour: the record may be gone by then and its id taken by
    another attempt (a test database dropped and made again, SQLite reusing the id of
    a deleted last row). The held answer is dropped, never written on that attempt."""
    refused_then_sent(httpserver)
    service = instances()
    failing_writes(service.store, monkeypatch, times=4)  # at once, then one turn

    outcome = service.send(
        SendDraft(recipients=("+33612345678",), text="db-1 down"),
        Actor(source=Source.CLI),
    )
    assert outcome.status is AuditStatus.FAILED
    assert service.holds(outcome.audit_id)
    monkeypatch.undo()

    other = instances()
    with other.store.transaction("replace the record", write=True) as conn:
        where = audit_records.c.id == outcome.audit_id
        row = dict(conn.execute(sa.select(audit_records).where(where)).mappings().one())
        conn.execute(sa.delete(audit_records).where(where))
        row.update(request_id="another-attempt", status="pending", error_code=None)
        conn.execute(sa.insert(audit_records).values(row))
    service.retry_completions()  # the background's next turn

    replaced = other.store.get(outcome.audit_id)
    assert replaced.request_id == "another-attempt"
    assert replaced.status is AuditStatus.PENDING  # not marked "failed, 104"
    assert replaced.error_code is None
    assert not service.holds(outcome.audit_id)
