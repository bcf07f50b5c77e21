"""Crash recovery (``bot.sending.recovery.recover_pending``) on SQLite and PostgreSQL.

Pending records are written with a store whose clock is set back, so their
``created_at`` is minutes in the past; recovery then runs with the real clock.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from bot.audit import AuditRecord, AuditStore, NewAttempt
from bot.audit.ledger import SendLedger
from bot.audit.tables import audit_records
from bot.domain import AuditStatus, Source
from bot.octopush import OctopushClient
from bot.sending import recovery
from bot.sending.lease import SEND_LEASE
from bot.sending.recovery import PendingSweeper, Settled, recover_pending
from bot.sending.rules import SendDefaults
from bot.sending.service import SmsService
from tests.conftest import OCTOPUSH_KEY, SENT

SEND_PATH = "/v1/public/sms-campaign/send"
NUMBER = "+33612345678"
REPO = Path(__file__).resolve().parents[2]
DUPLICATE = {"code": 120, "message": "request_id already used"}


class Clock:
    """The real time plus ``shift``: set it back to write records in the past."""

    def __init__(self) -> None:
        self.shift = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.shift


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def migrated(database_url: str) -> Iterator[AuditStore]:
    """The store ``from_url`` builds (schema migrated); its engine is shared below."""
    store = AuditStore.from_url(database_url)
    yield store
    store.close()


@pytest.fixture
def audit(migrated: AuditStore, clock: Clock) -> AuditStore:
    return AuditStore(migrated.engine, clock=clock)


def make_service(store: AuditStore, base_url: str) -> SmsService:
    client = OctopushClient(
        api_login="ops@example.com",
        api_key=OCTOPUSH_KEY,
        base_url=base_url,
        timeout=(0.5, 0.5),
        backoff=0,
    )
    return SmsService(octopush=client, store=store, defaults=SendDefaults())


@pytest.fixture
def recovering(audit: AuditStore, octopush_url: str) -> Iterator[SmsService]:
    service = make_service(audit, octopush_url)
    yield service
    service.octopush.close()


def begin_pending(
    store: AuditStore,
    clock: Clock,
    *,
    age: timedelta,
    request_id: str,
    text: str = "db-1 down",
) -> int:
    """Write a pending attempt as if a process had started sending it ``age`` ago."""
    clock.shift = -age
    try:
        return store.begin(
            NewAttempt(
                source=Source.CLI,
                recipients=(NUMBER,),
                text=text,
                sms_type="sms_premium",
                purpose="alert",
                request_id=request_id,
            )
        )
    finally:
        clock.shift = timedelta(0)


def bodies(httpserver: HTTPServer) -> list[dict[str, object]]:
    return [json.loads(request.get_data()) for request, _ in httpserver.log]


def test_a_recent_pending_attempt_is_resent_with_its_request_id_and_recorded_sent(
    httpserver: HTTPServer, recovering: SmsService, audit: AuditStore, clock: Clock
) -> None:
    record_id = begin_pending(
        audit, clock, age=timedelta(minutes=2), request_id="crash-1"
    )
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_json(
        SENT, status=201
    )
    lines: list[str] = []

    settled = recover_pending(recovering, report=lines.append)

    (body,) = bodies(httpserver)
    assert body["request_id"] == "crash-1"
    assert body["text"] == "db-1 down"
    assert body["recipients"] == [{"phone_number": NUMBER}]
    assert body["type"] == "sms_premium"
    assert body["purpose"] == "alert"
    record = audit.get(record_id)
    assert record.status is AuditStatus.SENT
    assert record.sms_ticket == SENT["sms_ticket"]
    assert record.total_cost == pytest.approx(0.0333)
    assert record.completed_at is not None
    assert record.error_message is not None
    assert "sent on recovery" in record.error_message
    assert len(lines) == 1
    assert settled == [Settled(record_id, AuditStatus.SENT, lines[0])]
    assert f"audit #{record_id} " in lines[0]


def test_a_resend_answered_120_is_sent_with_ticket_and_cost_unknown(
    httpserver: HTTPServer, recovering: SmsService, audit: AuditStore, clock: Clock
) -> None:
    # 120 means Octopush already had this request_id: the first attempt got through.
    record_id = begin_pending(
        audit, clock, age=timedelta(minutes=2), request_id="crash-2"
    )
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_json(
        DUPLICATE, status=400
    )
    lines: list[str] = []

    settled = recover_pending(recovering, report=lines.append)

    assert [body["request_id"] for body in bodies(httpserver)] == ["crash-2"]
    record = audit.get(record_id)
    assert record.status is AuditStatus.SENT
    assert record.sms_ticket is None
    assert record.total_cost is None
    assert record.error_message is not None
    assert "code 120" in record.error_message
    assert "ticket and cost unknown" in record.error_message
    assert [item.status for item in settled] == [AuditStatus.SENT]
    assert len(lines) == 1
    assert f"audit #{record_id} " in lines[0]
    assert "sent on recovery" not in lines[0]


def test_a_pending_attempt_older_than_15_minutes_is_not_resent_but_failed_unknown(
    httpserver: HTTPServer, recovering: SmsService, audit: AuditStore, clock: Clock
) -> None:
    record_id = begin_pending(
        audit, clock, age=timedelta(minutes=20), request_id="crash-3"
    )
    lines: list[str] = []

    settled = recover_pending(recovering, report=lines.append)

    assert httpserver.log == []
    record = audit.get(record_id)
    assert record.status is AuditStatus.FAILED
    assert record.error_code == "unknown"
    assert record.error_message is not None
    assert record.error_message.startswith("outcome unknown")
    assert "too old to resend" in record.error_message
    assert "check the Octopush dashboard" in record.error_message
    assert [(item.audit_id, item.status) for item in settled] == [
        (record_id, AuditStatus.FAILED)
    ]
    assert len(lines) == 1 and "outcome unknown" in lines[0]


def test_a_pending_attempt_without_its_text_is_not_resent_but_failed_unknown(
    httpserver: HTTPServer,
    recovering: SmsService,
    migrated: AuditStore,
    audit: AuditStore,
    clock: Clock,
) -> None:
    # As the previous release left it: redacted at once, even while pending.
    record_id = begin_pending(
        audit, clock, age=timedelta(minutes=2), request_id="crash-4"
    )
    with migrated.engine.begin() as conn:
        conn.execute(
            sa.update(audit_records)
            .where(audit_records.c.id == record_id)
            .values(text=None)
        )

    settled = recover_pending(recovering)

    assert httpserver.log == []
    record = audit.get(record_id)
    assert record.status is AuditStatus.FAILED
    assert record.error_code == "unknown"
    assert record.error_message is not None
    assert record.error_message.startswith("outcome unknown")
    assert "redacted" in record.error_message
    assert [item.status for item in settled] == [AuditStatus.FAILED]


def test_with_redaction_a_pending_attempt_is_resent_then_its_text_removed(
    httpserver: HTTPServer,
    octopush_url: str,
    migrated: AuditStore,
    audit: AuditStore,
    clock: Clock,
) -> None:
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_json(
        SENT, status=201
    )
    redacting = AuditStore(migrated.engine, redact_text=True, clock=clock)
    record_id = begin_pending(
        redacting, clock, age=timedelta(minutes=2), request_id="crash-5"
    )
    service = make_service(redacting, octopush_url)
    try:
        recover_pending(service)
    finally:
        service.octopush.close()

    (request, _) = httpserver.log[0]
    assert json.loads(request.get_data())["text"] == "db-1 down"
    record = audit.get(record_id)
    assert record.status is AuditStatus.SENT
    assert record.text is None


def test_a_pending_attempt_younger_than_a_minute_is_left_alone(
    httpserver: HTTPServer, recovering: SmsService, audit: AuditStore, clock: Clock
) -> None:
    record_id = begin_pending(
        audit, clock, age=timedelta(seconds=30), request_id="in-flight"
    )
    before = audit.get(record_id)
    lines: list[str] = []

    settled = recover_pending(recovering, report=lines.append)

    assert settled == []
    assert lines == []
    assert httpserver.log == []
    assert audit.get(record_id) == before
    assert before.status is AuditStatus.PENDING
    assert before.completed_at is None


def test_recovery_settles_each_record_by_its_age_in_one_run(
    httpserver: HTTPServer, recovering: SmsService, audit: AuditStore, clock: Clock
) -> None:
    old = begin_pending(audit, clock, age=timedelta(minutes=20), request_id="old")
    recent = begin_pending(audit, clock, age=timedelta(minutes=2), request_id="recent")
    young = begin_pending(audit, clock, age=timedelta(seconds=5), request_id="young")
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_json(
        SENT, status=201
    )

    settled = recover_pending(recovering)

    assert [(item.audit_id, item.status) for item in settled] == [
        (old, AuditStatus.FAILED),
        (recent, AuditStatus.SENT),
    ]
    assert [body["request_id"] for body in bodies(httpserver)] == ["recent"]
    assert audit.get(young).status is AuditStatus.PENDING


def test_a_record_that_cannot_be_rebuilt_does_not_stop_recovery_of_the_others(
    httpserver: HTTPServer, recovering: SmsService, audit: AuditStore, clock: Clock
) -> None:
    # Written by hand (as an older version or a manual fix might have): Octopush's
    # model refuses this number, so the campaign cannot be rebuilt for a resend.
    clock.shift = -timedelta(minutes=3)
    broken = audit.begin(
        NewAttempt(
            source=Source.CLI,
            recipients=("0612",),
            text="db-1 down",
            request_id="broken",
        )
    )
    clock.shift = timedelta(0)
    good = begin_pending(audit, clock, age=timedelta(minutes=2), request_id="good")
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_json(
        SENT, status=201
    )

    settled = recover_pending(recovering)

    assert [(item.audit_id, item.status) for item in settled] == [
        (broken, AuditStatus.FAILED),
        (good, AuditStatus.SENT),
    ]
    record = audit.get(broken)
    assert record.error_code == "unknown"
    assert record.error_message is not None
    assert record.error_message.startswith("outcome unknown")
    assert "cannot be rebuilt" in record.error_message
    assert "phone_number" in record.error_message
    assert "0612" not in record.error_message
    assert [body["request_id"] for body in bodies(httpserver)] == ["good"]


def test_a_resend_that_times_out_is_failed_as_outcome_unknown(
    httpserver: HTTPServer, recovering: SmsService, audit: AuditStore, clock: Clock
) -> None:
    record_id = begin_pending(
        audit, clock, age=timedelta(minutes=2), request_id="crash-slow"
    )
    finished = threading.Semaphore(0)

    def slow(request: Request) -> Response:
        time.sleep(0.6)  # past the 0.5 s read timeout, on the try and on the retry
        finished.release()
        return Response(json.dumps(SENT), status=201, content_type="application/json")

    httpserver.expect_request(SEND_PATH, method="POST").respond_with_handler(slow)

    settled = recover_pending(recovering)
    # The test server answers one request at a time: let it finish the abandoned ones.
    for _ in range(2):
        assert finished.acquire(timeout=5)

    assert [body["request_id"] for body in bodies(httpserver)] == ["crash-slow"] * 2
    record = audit.get(record_id)
    assert record.status is AuditStatus.FAILED
    assert record.error_message is not None
    # Octopush may have the SMS (from the first attempt or from the resend).
    assert record.error_message.startswith("outcome unknown")
    assert "did not answer within 0.5 s" in record.error_message
    assert "check the Octopush dashboard" in record.error_message
    assert [item.status for item in settled] == [AuditStatus.FAILED]


def test_a_resend_that_cannot_connect_is_failed_as_outcome_unknown(
    audit: AuditStore, clock: Clock
) -> None:
    # The first attempt may have reached Octopush before the crash: a resend that
    # never connected does not mean nothing was sent.
    record_id = begin_pending(
        audit, clock, age=timedelta(minutes=2), request_id="crash-down"
    )
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
    port = closed.getsockname()[1]
    service = make_service(audit, f"http://127.0.0.1:{port}/v1/public")
    try:
        settled = recover_pending(service)
    finally:
        service.octopush.close()
        closed.close()

    record = audit.get(record_id)
    assert record.status is AuditStatus.FAILED
    assert record.error_message is not None
    assert record.error_message.startswith("outcome unknown")
    assert "could not connect to Octopush" in record.error_message
    assert "check the Octopush dashboard" in record.error_message
    assert [item.status for item in settled] == [AuditStatus.FAILED]


def test_a_resend_refused_by_octopush_keeps_its_code(
    httpserver: HTTPServer, recovering: SmsService, audit: AuditStore, clock: Clock
) -> None:
    record_id = begin_pending(
        audit, clock, age=timedelta(minutes=2), request_id="crash-credit"
    )
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_json(
        {"code": 104, "message": "Not enough credit"}, status=400
    )

    recover_pending(recovering)

    assert len(httpserver.log) == 1
    record = audit.get(record_id)
    assert record.status is AuditStatus.FAILED
    assert record.error_code == "104"
    assert record.error_message is not None
    assert "Not enough credit" in record.error_message


class _BarrierLedger(SendLedger):
    """Lists pending records, then waits for the other instance to have listed too."""

    barrier: threading.Barrier

    def unsettled(self, *, age: timedelta) -> list[AuditRecord]:
        records = super().unsettled(age=age)
        self.barrier.wait(timeout=10)
        return records


def test_two_instances_recovering_at_once_resend_and_settle_the_record_once(
    httpserver: HTTPServer,
    database_url: str,
    octopush_url: str,
    audit: AuditStore,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    record_id = begin_pending(
        audit, clock, age=timedelta(minutes=2), request_id="crash-both"
    )
    answered: list[str] = []

    def octopush(request: Request) -> Response:
        # Like Octopush: the first request with a request_id sends, repeats get 120.
        request_id = json.loads(request.get_data())["request_id"]
        if request_id in answered:
            return Response(json.dumps(DUPLICATE), status=400)
        answered.append(request_id)
        return Response(json.dumps(SENT), status=201, content_type="application/json")

    httpserver.expect_request(SEND_PATH, method="POST").respond_with_handler(octopush)
    _BarrierLedger.barrier = threading.Barrier(2)
    monkeypatch.setattr(recovery, "SendLedger", _BarrierLedger)
    services = []
    for _ in range(2):
        # An engine of its own (from_url), as a second process would have.
        store = AuditStore.from_url(database_url)
        services.append(make_service(store, octopush_url))
    results: list[list[Settled]] = []
    lines: list[str] = []
    errors: list[BaseException] = []

    def recover(service: SmsService) -> None:
        try:
            results.append(recover_pending(service, report=lines.append))
        except BaseException as exc:  # collected: the assert below shows it
            errors.append(exc)

    threads = [threading.Thread(target=recover, args=(s,)) for s in services]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=20)
    finally:
        for service in services:
            service.octopush.close()
            service.store.close()

    assert errors == []
    assert len(results) == 2
    # Both instances saw the record pending; only the one that claimed it resent it.
    assert [body["request_id"] for body in bodies(httpserver)] == ["crash-both"]
    (settled,) = [item for result in results for item in result]
    assert len(lines) == 1
    record = audit.get(record_id)
    assert settled.audit_id == record_id
    assert settled.status is record.status is AuditStatus.SENT
    assert record.sms_ticket == SENT["sms_ticket"]
    assert record.error_message is not None
    assert "sent on recovery" in record.error_message


#: A bot process that sends one SMS with a long read timeout (killed before the end).
SEND_AND_WAIT = """
import sys
from bot.audit import AuditStore
from bot.domain import Actor, SendDraft, Source
from bot.octopush import OctopushClient
from bot.sending.rules import SendDefaults
from bot.sending.service import SmsService

url, base_url, request_id = sys.argv[1:4]
client = OctopushClient(
    api_login="ops@example.com", api_key="k", base_url=base_url, timeout=(0.5, 30)
)
service = SmsService(
    octopush=client, store=AuditStore.from_url(url), defaults=SendDefaults()
)
service.send(
    SendDraft(recipients=("+33612345678",), text="db-1 down", request_id=request_id),
    Actor(source=Source.CLI),
)
"""


def test_killing_the_bot_mid_send_loses_nothing(
    httpserver: HTTPServer,
    database_url: str,
    octopush_url: str,
    recovering: SmsService,
    audit: AuditStore,
    clock: Clock,
) -> None:
    arrived = threading.Event()
    release = threading.Event()
    received: list[dict[str, object]] = []

    def octopush(request: Request) -> Response:
        received.append(json.loads(request.get_data()))
        if len(received) == 1:  # the bot's send: hold it until the bot is dead
            arrived.set()
            release.wait(10)
            return Response(json.dumps(SENT), status=201)
        return Response(json.dumps(DUPLICATE), status=400)

    httpserver.expect_request(SEND_PATH, method="POST").respond_with_handler(octopush)
    bot = subprocess.Popen(
        [sys.executable, "-c", SEND_AND_WAIT, database_url, octopush_url, "crash-kill"],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        if not arrived.wait(20):
            bot.kill()
            _, stderr = bot.communicate(timeout=10)
            pytest.fail(f"the bot never reached Octopush: {stderr.decode()[-2000:]}")
        os.kill(bot.pid, signal.SIGKILL)
        bot.communicate(timeout=10)
    finally:
        if bot.poll() is None:
            os.kill(bot.pid, signal.SIGKILL)
            bot.wait(10)
        release.set()
    assert bot.returncode == -signal.SIGKILL

    record = audit.find_by_request_id("crash-kill")
    assert record is not None
    assert record.status is AuditStatus.PENDING
    assert record.text == "db-1 down"
    lines: list[str] = []
    # Its lease is still running: the bot might only be slow, so nothing is taken.
    assert recover_pending(recovering, min_age=timedelta(0), report=lines.append) == []
    assert len(received) == 1

    clock.shift = SEND_LEASE + timedelta(seconds=1)  # no renewal came: it is dead
    settled = recover_pending(recovering, min_age=timedelta(0), report=lines.append)

    assert [body["request_id"] for body in received] == ["crash-kill"] * 2
    assert received[1]["text"] == "db-1 down"
    record = audit.get(record.id)
    # The killed bot's request got through: its resend is answered 120, so it was sent.
    assert record.status is AuditStatus.SENT
    assert record.sms_ticket is None
    assert record.error_message is not None
    assert "code 120" in record.error_message
    assert [(item.audit_id, item.status) for item in settled] == [
        (record.id, AuditStatus.SENT)
    ]
    assert f"audit #{record.id} " in lines[0]


class CountingSweeper(PendingSweeper):
    """Keeps what each of its passes settled, so a test knows how many ran."""

    def __init__(self, service: SmsService, *, interval: float) -> None:
        super().__init__(service, interval=interval)
        self.passes: list[list[Settled]] = []

    def sweep(self) -> list[Settled]:
        settled = super().sweep()
        self.passes.append(settled)
        return settled


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def test_the_sweeper_settles_a_record_left_pending_while_the_process_runs(
    httpserver: HTTPServer, recovering: SmsService, audit: AuditStore, clock: Clock
) -> None:
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_json(
        SENT, status=201
    )
    sweeper = CountingSweeper(recovering, interval=0.05)
    thread = sweeper.start()
    try:
        # Its first passes are over, and found nothing to settle.
        wait_for(lambda: len(sweeper.passes) >= 2, "two passes of the sweep")
        assert not any(sweeper.passes)
        record_id = begin_pending(
            audit, clock, age=timedelta(minutes=2), request_id="while-running"
        )
        wait_for(
            lambda: audit.get(record_id).status is not AuditStatus.PENDING,
            "the sweep to settle the record",
        )
    finally:
        sweeper.stop()
        thread.join(10)
    assert audit.get(record_id).status is AuditStatus.SENT
    assert [body["request_id"] for body in bodies(httpserver)] == ["while-running"]


def test_a_claim_is_taken_once_and_retaken_only_after_its_lease(
    audit: AuditStore, clock: Clock
) -> None:
    record_id = begin_pending(audit, clock, age=timedelta(minutes=10), request_id="c")
    ledger = SendLedger(audit)
    lease = timedelta(minutes=2)
    (seen,) = ledger.unsettled(age=timedelta(minutes=1))

    assert ledger.claim(seen, owner="sweeper-1", lease=lease) is True
    # A second instance that read the same row, and one that reads it now.
    assert ledger.claim(seen, owner="sweeper-2", lease=lease) is False
    assert ledger.unsettled(age=timedelta(minutes=1)) == []

    # The claimer died: once its lease is over, another instance may take it over.
    clock.shift = lease + timedelta(seconds=1)
    (stale,) = ledger.unsettled(age=timedelta(minutes=1))
    assert stale.id == record_id
    assert stale.claimed_by == "sweeper-1"
    assert ledger.claim(stale, owner="sweeper-2", lease=lease) is True
    assert audit.get(record_id).status is AuditStatus.PENDING
    assert audit.get(record_id).claimed_by == "sweeper-2"
