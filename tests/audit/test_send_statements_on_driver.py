"""A send's statements on SQLite run on the driver's cursor, as SQLAlchemy ran them.

The admission (the key's latest attempt, the opt-outs, the rate's window, the
``pending`` insert), the completion and the remembered post run on the driver cursor of
the store's SQLAlchemy connection (:mod:`bot.audit.driver_statements`), in the same
transactions. These tests hold that path to SQLAlchemy's: the same rows stored (each
column's stored value), the same values read back, a NUL stored as ``NUL_STORED``, a
driver error said as the same ``AuditStoreError`` with nothing written, and no
statement of the admission left to SQLAlchemy's execution.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event

import bot.audit.deliveries
import bot.audit.ledger
import bot.audit.optouts
import bot.audit.store
import bot.audit.tickets
from bot.audit import AttemptResult, AuditStore, OptOutList
from bot.audit.deliveries import DeliveryLog
from bot.audit.driver_statements import on_driver
from bot.audit.engine import NUL_STORED, open_engine
from bot.audit.ledger import SendLedger
from bot.audit.migrate import migrate
from bot.audit.optouts import AMONG_AT_ONCE, among_in
from bot.domain import Actor, AuditStatus, RateLimit, SendDraft, Source
from bot.errors import AuditStoreError, PolicyError
from bot.octopush import OctopushClient
from bot.runtime.wiring import send_defaults
from bot.sending.attempts import new_attempt
from bot.sending.guard import Guard
from bot.sending.policy import Policy
from bot.sending.service import SmsService
from tests.conftest import FakeClock, make_settings

ALICE, BOB, CAROL = "+33612345678", "+33698765432", "+33611223344"
NOW = datetime(2026, 12, 6, 2, 10, 8, 123456, tzinfo=UTC)
ACTOR = Actor(
    source=Source.SLASH, slack_team_id="T1", slack_user_id="U1", slack_channel_id="C1"
)
#: The modules whose statements go to the driver on SQLite.
ON_DRIVER = (
    bot.audit.ledger,
    bot.audit.optouts,
    bot.audit.store,
    bot.audit.tickets,
    bot.audit.deliveries,
)


@pytest.fixture
def db_file(tmp_path: Path) -> Path:
    return tmp_path / "audit.db"


@pytest.fixture
def store(db_file: Path) -> Iterator[AuditStore]:
    engine = open_engine(f"sqlite:///{db_file}")
    migrate(engine)
    audit = AuditStore(engine, clock=FakeClock(NOW))
    yield audit
    audit.close()


@pytest.fixture
def service(tmp_path: Path, store: AuditStore) -> Iterator[SmsService]:
    settings = make_settings(tmp_path)
    client = OctopushClient(
        api_login="ops@example.com", api_key="k", base_url="http://127.0.0.1:9"
    )
    guard = Guard(
        policy=Policy(rate=RateLimit.parse("50/hour")),
        store=store,
        clock=FakeClock(NOW),
    )
    yield SmsService(
        octopush=client,
        store=store,
        defaults=send_defaults(settings),
        policy=guard,
        clock=FakeClock(NOW),
    )
    client.close()


@pytest.fixture
def through_sqlalchemy(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Within: every statement runs through SQLAlchemy's execution, as before."""
    with monkeypatch.context() as patched:
        for module in ON_DRIVER:
            patched.setattr(module, "on_driver", lambda conn: None)
        yield


def admit(service: SmsService, key: str, text: str = "db-1 is down") -> int:
    request = service.validate(SendDraft(recipients=(ALICE, BOB), text=text))
    service._check_before_lock(request, ACTOR)  # noqa: SLF001
    record_id, _ = service._admit(request, ACTOR, key, retry_failed=False)  # noqa: SLF001
    return record_id


RESULT = AttemptResult(
    status=AuditStatus.SENT,
    sms_ticket="sms_1, sms_2",
    number_of_contacts=2,
    number_of_sms_needed=1,
    total_cost=0.0666,
    residual_credit=99.5,
    duration_ms=321,
)


def send_all_the_way(service: SmsService, key: str) -> int:
    """Admit, complete and post one send (and a receipt that beat its post)."""
    record_id = admit(service, key)
    service.store.complete(record_id, RESULT)
    DeliveryLog(service.store).record(
        audit_id=record_id,
        message_id=f"sms_1-{key}",
        number=ALICE,
        status="delivered",
        raw_status="DELIVERED",
        final_statuses=("delivered",),
    )
    service.remember_post(record_id, channel="C1", ts="1733450000.000100")
    return record_id


def stored(db_file: Path, query: str, *args: Any) -> list[dict[str, Any]]:
    """Rows as the file holds them (the text of a time, of a JSON list…)."""
    raw = sqlite3.connect(db_file)
    raw.row_factory = sqlite3.Row
    try:
        return [dict(row) for row in raw.execute(query, args)]
    finally:
        raw.close()


def latest(store: AuditStore, key: str) -> Any:
    with SendLedger(store).locked([]) as conn:
        return SendLedger(store).latest(conn, key)


def test_a_send_is_stored_and_read_as_through_sqlalchemy(
    service: SmsService,
    store: AuditStore,
    db_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    driven = send_all_the_way(service, "k-driver")
    with monkeypatch.context() as patched:
        for module in ON_DRIVER:
            patched.setattr(module, "on_driver", lambda conn: None)
        on_sqlalchemy = send_all_the_way(service, "k-sqlalchemy")
        read_by_sqlalchemy = latest(store, "k-driver")
    read_on_driver = latest(store, "k-driver")
    assert read_on_driver == read_by_sqlalchemy
    assert read_on_driver[0].id == driven and read_on_driver[1] == 1

    record = "SELECT * FROM audit_records WHERE id = ?"
    (a,) = stored(db_file, record, driven)
    (b,) = stored(db_file, record, on_sqlalchemy)
    differ = {"id", "request_id"}
    assert {k: v for k, v in a.items() if k not in differ} == {
        k: v for k, v in b.items() if k not in differ
    }
    assert a["status"] == "sent" and a["slack_message_ts"] == "1733450000.000100"
    tickets = "SELECT ticket FROM audit_tickets WHERE audit_id = ? ORDER BY ticket"
    assert stored(db_file, tickets, driven) == stored(db_file, tickets, on_sqlalchemy)
    assert [row["ticket"] for row in stored(db_file, tickets, driven)] == [
        "sms_1",
        "sms_2",
    ]

    # Each record as either path reads it: field by field, the same.
    for record_id in (driven, on_sqlalchemy):
        key = "k-driver" if record_id == driven else "k-sqlalchemy"
        driver_read = latest(store, key)[0]
        assert driver_read == store.get(record_id)  # store.get: SQLAlchemy's read
        assert driver_read.created_at == NOW and driver_read.completed_at == NOW
        assert driver_read.recipients == [ALICE, BOB]


def test_the_reads_of_the_admission_and_the_post_give_what_sqlalchemy_gives(
    service: SmsService, store: AuditStore, through_sqlalchemy: None
) -> None:
    """Read inside one transaction by both paths (``through_sqlalchemy`` is undone
    in the middle): the window, the opt-outs, the pending record, the receipts."""
    record_id = admit(service, "k-pending")
    OptOutList(store).add(BOB, source="test")
    DeliveryLog(store).record(
        audit_id=record_id,
        message_id="sms_9",
        number=ALICE,
        status="delivered",
        raw_status="DELIVERED",
        final_statuses=("delivered",),
    )
    DeliveryLog(store).remember_post(record_id, channel="C1", ts="1.2")
    numbers = [f"+336000{i:05d}" for i in range(2 * AMONG_AT_ONCE + 3)] + [BOB]

    def reads() -> tuple[Any, ...]:
        ledger = SendLedger(store)
        with ledger.locked([]) as conn:
            window = ledger.send_window(conn, user_id="U1", since=NOW)
            opted_out = among_in(conn, [ALICE, BOB, *numbers])
            pending = ledger.latest(conn, "k-pending")
            found = ledger.find(conn, "k-pending")
        posted = DeliveryLog(store).remember_post(record_id, channel="C1", ts="1.2")
        return window, opted_out, pending, found, posted

    by_sqlalchemy = reads()
    for module in ON_DRIVER:  # undo the fixture's patches: the driver's turn
        module.on_driver = on_driver  # type: ignore[attr-defined]
    driver_reads = reads()
    assert driver_reads == by_sqlalchemy
    window, opted_out, pending, _, posted = driver_reads
    assert window == (1, NOW)
    assert opted_out == [BOB]
    assert pending[0].status is AuditStatus.PENDING and pending[0].claimed_until
    assert [(d.number, d.status, d.updated_at) for d in posted] == [
        (ALICE, "delivered", NOW)
    ]


def test_a_nul_in_a_text_is_stored_as_nul_stored(
    service: SmsService, store: AuditStore, db_file: Path
) -> None:
    ledger = SendLedger(store)
    request = service.validate(SendDraft(recipients=(ALICE,), text="ok"))
    attempt = new_attempt(
        request.model_copy(update={"text": "a\x00b"}), ACTOR, "k-nul\x00"
    )
    with ledger.locked([]) as conn:
        record_id = ledger.begin(conn, attempt)
    (row,) = stored(db_file, "SELECT * FROM audit_records WHERE id = ?", record_id)
    assert row["text"] == f"a{NUL_STORED}b"
    assert row["request_id"] == f"k-nul{NUL_STORED}"
    store.complete(
        record_id,
        AttemptResult(status=AuditStatus.FAILED, error_message="bad\x00 answer"),
    )
    service.remember_post(record_id, channel="C\x001", ts="1.2")
    (row,) = stored(db_file, "SELECT * FROM audit_records WHERE id = ?", record_id)
    assert row["error_message"] == f"bad{NUL_STORED} answer"
    assert row["slack_message_channel"] == f"C{NUL_STORED}1"


def refuse_inserts(db_file: Path) -> None:
    """A trigger that makes SQLite refuse every new audit record (a driver error)."""
    raw = sqlite3.connect(db_file)
    try:
        raw.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON audit_records "
            "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
        )
        raw.commit()
    finally:
        raw.close()


def test_a_driver_error_in_the_admission_is_an_audit_store_error_and_writes_nothing(
    service: SmsService,
    store: AuditStore,
    db_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    refuse_inserts(db_file)
    with pytest.raises(AuditStoreError) as on_the_driver:
        admit(service, "k-refused")
    assert isinstance(on_the_driver.value.__cause__, sa.exc.IntegrityError)
    assert isinstance(on_the_driver.value.__cause__.orig, sqlite3.IntegrityError)
    with monkeypatch.context() as patched:
        for module in ON_DRIVER:
            patched.setattr(module, "on_driver", lambda conn: None)
        with pytest.raises(AuditStoreError) as through_sqlalchemy:
            admit(service, "k-refused")
    assert str(on_the_driver.value) == str(through_sqlalchemy.value)
    assert "refused by the test" in str(on_the_driver.value)
    assert stored(db_file, "SELECT id FROM audit_records") == []
    # The connection went back to the pool whole: the next admission works.
    sqlite3.connect(db_file).execute("DROP TRIGGER refuse").connection.commit()
    record_id = admit(service, "k-after")
    assert store.get(record_id).status is AuditStatus.PENDING


def test_a_driver_error_mid_completion_rolls_the_completion_back(
    service: SmsService, store: AuditStore, db_file: Path
) -> None:
    record_id = admit(service, "k-ticket")
    raw = sqlite3.connect(db_file)
    raw.execute(
        "CREATE TRIGGER refuse BEFORE INSERT ON audit_tickets "
        "BEGIN SELECT RAISE(ABORT, 'no tickets today'); END"
    )
    raw.commit()
    raw.close()
    with pytest.raises(AuditStoreError, match="no tickets today"):
        store.complete(record_id, RESULT)
    # The record's update ran before the ticket's insert failed: rolled back too.
    assert store.get(record_id).status is AuditStatus.PENDING


def test_the_admission_runs_no_statement_through_sqlalchemy(
    service: SmsService, store: AuditStore
) -> None:
    admit(service, "k-warm")  # the statements are compiled at their first use
    executed: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        executed.append(statement)

    event.listen(store.engine, "before_cursor_execute", count)
    try:
        admit(service, "k-counted")
        store.complete(admit(service, "k-completed"), RESULT)
        service.remember_post(1, channel="C1", ts="1.2")
    finally:
        event.remove(store.engine, "before_cursor_execute", count)
    assert executed == []
    assert latest(store, "k-counted")[1] == 1


def test_an_opted_out_number_among_several_is_refused(
    service: SmsService, store: AuditStore, db_file: Path
) -> None:
    OptOutList(store).add(BOB, source="test")
    request = service.validate(SendDraft(recipients=(ALICE, BOB, CAROL), text="hi"))
    with pytest.raises(PolicyError):
        service._admit(request, ACTOR, "k-optout", retry_failed=False)  # noqa: SLF001
    assert stored(db_file, "SELECT id FROM audit_records") == []
    # Longer than one look-up: read in parts, in the order given.
    many = [f"+336000{i:05d}" for i in range(AMONG_AT_ONCE * 2)]
    OptOutList(store).add(many[AMONG_AT_ONCE + 1], source="test")
    with SendLedger(store).locked([]) as conn:
        assert among_in(conn, [*many, ALICE, BOB]) == [many[AMONG_AT_ONCE + 1], BOB]
