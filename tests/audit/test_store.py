from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pydantic
import pytest
import sqlalchemy as sa

from bot.audit import (
    CONTRACT_FIELDS,
    AttemptResult,
    AuditRecord,
    AuditStore,
    DuplicateAttemptError,
    NewAttempt,
)
from bot.audit.deliveries import DeliveryLog
from bot.domain import AuditStatus, Purpose, SmsType, Source
from bot.errors import AuditStoreError

PARIS = timezone(timedelta(hours=1))
T0 = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=PARIS)

CONTRACT_ORDER = [
    "id", "created_at", "source", "slack_team_id", "slack_user_id", "slack_channel_id",
    "recipients", "text", "sender", "sms_type", "purpose", "send_at", "simulation",
    "request_id", "status", "sms_ticket", "number_of_contacts", "number_of_sms_needed",
    "total_cost", "residual_credit", "error_code", "error_message", "duration_ms",
]  # fmt: skip


class FakeClock:
    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def attempt(request_id: str = "req-1", **changes: Any) -> NewAttempt:
    fields: dict[str, Any] = {
        "source": Source.SLASH,
        "slack_team_id": "T0TEAM",
        "slack_user_id": "U0ALICE",
        "slack_channel_id": "C0OPS",
        "recipients": ("+33612345678", "+33698765432"),
        "text": "Disk full on db-1",
        "sender": "OpsTeam",
        "sms_type": SmsType.PREMIUM,
        "purpose": Purpose.ALERT,
        "request_id": request_id,
    }
    return NewAttempt(**(fields | changes))


def sent(**changes: Any) -> AttemptResult:
    fields: dict[str, Any] = {
        "status": AuditStatus.SENT,
        "sms_ticket": "sms_6512ab",
        "number_of_contacts": 2,
        "number_of_sms_needed": 2,
        "total_cost": 0.09,
        "residual_credit": 41.25,
        "duration_ms": 318,
    }
    return AttemptResult(**(fields | changes))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def timed(store: AuditStore, clock: FakeClock) -> AuditStore:
    """The same database, with time under the test's control."""
    return AuditStore(store.engine, clock=clock)


def test_begin_then_complete_reads_back_every_field(
    timed: AuditStore, clock: FakeClock
) -> None:
    send_at = datetime(2026, 3, 2, 8, 0, tzinfo=PARIS)
    record_id = timed.begin(attempt(send_at=send_at, simulation=True))
    pending = timed.get(record_id)
    assert pending.status is AuditStatus.PENDING
    assert pending.completed_at is None

    clock.advance(seconds=2)
    timed.complete(record_id, sent())
    record = timed.get(record_id)

    assert record.id == record_id
    assert record.created_at == T0
    assert record.created_at.tzinfo is UTC
    assert record.completed_at == T0 + timedelta(seconds=2)
    assert record.completed_at is not None and record.completed_at.tzinfo is UTC
    assert record.source is Source.SLASH
    assert (record.slack_team_id, record.slack_user_id, record.slack_channel_id) == (
        "T0TEAM",
        "U0ALICE",
        "C0OPS",
    )
    assert record.recipients == ["+33612345678", "+33698765432"]
    assert record.text == "Disk full on db-1"
    assert record.sender == "OpsTeam"
    assert record.sms_type == "sms_premium"
    assert record.purpose == "alert"
    assert record.send_at == send_at and record.send_at.tzinfo is UTC
    assert record.simulation is True
    assert record.request_id == "req-1"
    assert record.status is AuditStatus.SENT
    assert record.sms_ticket == "sms_6512ab"
    assert (record.number_of_contacts, record.number_of_sms_needed) == (2, 2)
    assert isinstance(record.total_cost, float) and record.total_cost == 0.09
    assert isinstance(record.residual_credit, float)
    assert record.residual_credit == 41.25
    assert (record.error_code, record.error_message) == (None, None)
    assert record.duration_ms == 318
    assert (record.slack_message_channel, record.slack_message_ts) == (None, None)


def test_failed_attempt_keeps_the_octopush_code_and_message(store: AuditStore) -> None:
    record_id = store.begin(attempt())
    failure = AttemptResult(
        status=AuditStatus.FAILED,
        error_code="102",
        error_message="Invalid login or API key",
        duration_ms=55,
    )
    store.complete(record_id, failure)
    record = store.get(record_id)
    assert record.status is AuditStatus.FAILED
    assert (record.error_code, record.error_message) == (
        "102",
        "Invalid login or API key",
    )
    assert record.sms_ticket is None and record.total_cost is None


def test_reject_writes_one_finished_record(store: AuditStore) -> None:
    record_id = store.reject(
        attempt(), error_message="SMS_RATE_LIMIT: 30/hour reached", error_code="policy"
    )
    [record] = store.recent()
    assert record.id == record_id
    assert record.status is AuditStatus.REJECTED
    assert record.error_message == "SMS_RATE_LIMIT: 30/hour reached"
    assert record.error_code == "policy"
    assert record.completed_at == record.created_at


def test_recent_is_newest_first_limited_and_filtered_by_channel(
    timed: AuditStore, clock: FakeClock
) -> None:
    ids = []
    for number, channel in enumerate(["C1", "C2", "C1", "C1"]):
        ids.append(timed.begin(attempt(f"req-{number}", slack_channel_id=channel)))
        clock.advance(minutes=1)
    clock.now = T0  # same created_at as the first: the higher id comes first
    tied = timed.begin(attempt("req-tied", slack_channel_id="C2"))

    assert [r.id for r in timed.recent()] == [ids[3], ids[2], ids[1], tied, ids[0]]
    assert [r.id for r in timed.recent(limit=2)] == [ids[3], ids[2]]
    assert [r.id for r in timed.recent(channel_id="C2")] == [ids[1], tied]
    assert timed.recent(channel_id="C9") == []
    with pytest.raises(ValueError):
        timed.recent(limit=0)


@pytest.mark.parametrize("second", ["begin", "reject"])
def test_a_repeated_request_id_raises_with_the_first_attempt(
    store: AuditStore, second: str
) -> None:
    first_id = store.begin(attempt("dup"))
    store.complete(first_id, sent())
    with pytest.raises(DuplicateAttemptError) as exc_info:
        if second == "begin":
            store.begin(attempt("dup", text="again"))
        else:
            store.reject(attempt("dup"), error_message="nope")
    assert isinstance(exc_info.value, AuditStoreError)
    assert exc_info.value.existing.id == first_id == exc_info.value.audit_id
    assert exc_info.value.existing.status is AuditStatus.SENT
    assert exc_info.value.existing.sms_ticket == "sms_6512ab"
    assert len(store.recent()) == 1


def test_completing_an_unknown_record_raises(store: AuditStore) -> None:
    with pytest.raises(AuditStoreError, match="999 does not exist"):
        store.complete(999, sent())


def test_completing_twice_raises_and_keeps_the_first_result(store: AuditStore) -> None:
    record_id = store.begin(attempt())
    store.complete(record_id, sent())
    with pytest.raises(AuditStoreError, match="already sent"):
        store.complete(record_id, AttemptResult(status=AuditStatus.FAILED))
    assert store.get(record_id).status is AuditStatus.SENT


def test_a_rejected_record_cannot_be_completed(store: AuditStore) -> None:
    record_id = store.reject(attempt(), error_message="blocked number")
    with pytest.raises(AuditStoreError, match="already rejected"):
        store.complete(record_id, sent())


def test_a_result_is_sent_or_failed_only() -> None:
    with pytest.raises(pydantic.ValidationError):
        AttemptResult(status=AuditStatus.PENDING)


def test_get_and_find_of_unknown_records(store: AuditStore) -> None:
    with pytest.raises(AuditStoreError, match="does not exist"):
        store.get(42)
    assert store.find_by_request_id("nobody") is None
    record_id = store.begin(attempt("known"))
    found = store.find_by_request_id("known")
    assert found is not None and found.id == record_id


def test_redact_text_keeps_the_message_only_while_the_attempt_is_pending(
    store: AuditStore,
) -> None:
    redacting = AuditStore(store.engine, redact_text=True)
    pending_id = redacting.begin(attempt("a"))
    rejected_id = redacting.reject(attempt("b"), error_message="too long")
    assert redacting.get(pending_id).text is not None  # a crash could resend it
    assert redacting.get(rejected_id).text is None
    redacting.complete(pending_id, sent())
    assert redacting.get(pending_id).text is None
    assert redacting.get(pending_id).contract_dict()["text"] is None


def test_purge_deletes_only_older_records(timed: AuditStore, clock: FakeClock) -> None:
    old = timed.begin(attempt("old"))
    clock.advance(days=40)
    kept = timed.begin(attempt("new"))
    assert timed.purge(older_than=T0 + timedelta(days=30)) == 1
    assert [r.id for r in timed.recent()] == [kept]
    assert timed.purge(older_than=T0 + timedelta(days=30)) == 0
    with pytest.raises(AuditStoreError):
        timed.get(old)


def test_count_sends_and_spent_since(timed: AuditStore, clock: FakeClock) -> None:
    early = timed.begin(attempt("early"))
    timed.complete(early, sent(total_cost=5.0))
    clock.advance(hours=2)
    since = clock.now
    timed.complete(timed.begin(attempt("s1")), sent(total_cost=0.09))
    timed.complete(timed.begin(attempt("s2")), sent(total_cost=0.18))
    timed.complete(timed.begin(attempt("f1")), AttemptResult(status=AuditStatus.FAILED))
    timed.begin(attempt("p1"))
    timed.reject(attempt("r1"), error_message="rate limit")
    timed.complete(timed.begin(attempt("bob", slack_user_id="U0BOB")), sent())
    simulated = timed.begin(attempt("sim", simulation=True))
    timed.complete(simulated, sent(total_cost=100.0))

    # sent, failed, pending and simulated attempts count; rejected ones do not
    assert timed.count_sends(user_id="U0ALICE", since=since) == 5
    assert timed.count_sends(user_id="U0BOB", since=since) == 1
    assert timed.count_sends(user_id="U0ALICE", since=clock.now + timedelta(1)) == 0
    assert timed.spent_since(since) == pytest.approx(0.09 + 0.18 + 0.09)
    assert timed.spent_since(T0) == pytest.approx(5.0 + 0.09 + 0.18 + 0.09)
    assert timed.spent_since(clock.now + timedelta(seconds=1)) == 0.0
    assert isinstance(timed.spent_since(since), float)


def test_naive_datetimes_are_refused(store: AuditStore) -> None:
    with pytest.raises(ValueError, match="naive"):
        store.spent_since(datetime(2026, 1, 1))
    with pytest.raises(pydantic.ValidationError):
        attempt(send_at=datetime(2026, 1, 1))


def test_pending_older_than_finds_stuck_attempts(
    timed: AuditStore, clock: FakeClock
) -> None:
    stuck = timed.begin(attempt("stuck"))
    done = timed.begin(attempt("done"))
    timed.complete(done, sent())
    clock.advance(minutes=9)
    recent = timed.begin(attempt("recent"))
    clock.advance(minutes=2)
    assert [r.id for r in timed.pending_older_than(timedelta(minutes=10))] == [stuck]
    assert [r.id for r in timed.pending_older_than(timedelta(minutes=1))] == [
        stuck,
        recent,
    ]


def test_the_post_remembered_is_kept_out_of_the_contract(store: AuditStore) -> None:
    record_id = store.begin(attempt())
    posts = DeliveryLog(store)
    posts.remember_post(record_id, channel="C0OPS", ts="1712345678.000100")
    record = store.get(record_id)
    assert (record.slack_message_channel, record.slack_message_ts) == (
        "C0OPS",
        "1712345678.000100",
    )
    assert "slack_message_ts" not in record.contract_dict()
    with pytest.raises(AuditStoreError, match="does not exist"):
        posts.remember_post(999, channel="C0OPS", ts="1.2")


def test_contract_dict_has_exactly_the_contract_fields_in_order(
    store: AuditStore,
) -> None:
    record_id = store.begin(attempt(send_at=T0))
    store.complete(record_id, sent())
    data = store.get(record_id).contract_dict()
    assert list(data) == CONTRACT_ORDER == list(CONTRACT_FIELDS)
    assert data["source"] == "slash" and data["status"] == "sent"
    assert data["recipients"] == ["+33612345678", "+33698765432"]
    assert datetime.fromisoformat(data["created_at"]).tzinfo is not None
    assert datetime.fromisoformat(data["send_at"]) == T0
    assert data["total_cost"] == 0.09


def test_a_record_repr_shows_neither_numbers_nor_text(store: AuditStore) -> None:
    record = store.get(store.begin(attempt()))
    assert "+33612345678" not in repr(record)
    assert "Disk full" not in repr(record)
    assert "+33612345678" not in repr(attempt())


def test_ping_answers(store: AuditStore) -> None:
    store.ping()


def test_an_unreachable_database_raises_audit_store_error_without_password() -> None:
    url = "postgresql+psycopg://smsbot:s3cret-pw@127.0.0.1:1/nowhere?connect_timeout=2"
    with pytest.raises(AuditStoreError) as exc_info:
        AuditStore.from_url(url)
    assert "s3cret-pw" not in str(exc_info.value)
    assert "***" in str(exc_info.value)
    assert isinstance(exc_info.value.__cause__, sa.exc.SQLAlchemyError)
    assert "s3cret-pw" not in str(exc_info.value.__cause__)

    store = AuditStore(sa.create_engine(url))
    with pytest.raises(AuditStoreError, match="ping") as ping_info:
        store.ping()
    assert "s3cret-pw" not in str(ping_info.value)
    store.close()


def test_a_sqlite_file_gets_its_directory(tmp_path: Any) -> None:
    store = AuditStore.from_url(f"sqlite:///{tmp_path}/deeper/still/audit.db")
    store.ping()
    store.close()
    assert (tmp_path / "deeper" / "still" / "audit.db").is_file()


def test_a_sqlite_file_under_a_file_raises_audit_store_error(tmp_path: Any) -> None:
    (tmp_path / "plain").write_text("not a directory")
    with pytest.raises(AuditStoreError):
        AuditStore.from_url(f"sqlite:///{tmp_path}/plain/audit.db")


def test_twenty_threads_lose_no_record(store: AuditStore) -> None:
    barrier = threading.Barrier(20)

    def write(worker: int) -> list[int]:
        barrier.wait(timeout=30)
        ids = []
        for number in range(25):
            record_id = store.begin(attempt(f"t{worker}-{number}"))
            store.complete(record_id, sent())
            ids.append(record_id)
        return ids

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(write, range(20)))

    ids = [record_id for worker_ids in results for record_id in worker_ids]
    assert len(set(ids)) == 500
    records = store.recent(limit=1000)
    assert len(records) == 500
    assert {r.id for r in records} == set(ids)
    assert {r.status for r in records} == {AuditStatus.SENT}


def _write_from_process(url: str, worker: int, barrier: Any) -> None:
    barrier.wait(timeout=60)
    store = AuditStore.from_url(url)  # the schema is migrated by four at once
    try:
        for number in range(50):
            record_id = store.begin(attempt(f"p{worker}-{number}"))
            store.complete(record_id, sent())
    finally:
        store.close()


def test_four_processes_write_to_one_database(database_url: str) -> None:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(4)
    processes = [
        context.Process(target=_write_from_process, args=(database_url, n, barrier))
        for n in range(4)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)
    assert [p.exitcode for p in processes] == [0, 0, 0, 0]

    store = AuditStore.from_url(database_url)
    try:
        records = store.recent(limit=1000)
    finally:
        store.close()
    expected = {f"p{w}-{n}" for w in range(4) for n in range(50)}
    assert {r.request_id for r in records} == expected
    assert len({r.id for r in records}) == 200
    assert all(isinstance(r, AuditRecord) for r in records)
