"""The cancel path's edges against a local Octopush: the month's quota, a write that
fails after Octopush said yes, no answer, the CLI, and the index the quota reads."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from pytest_httpserver import HTTPServer

from bot.audit import AuditStore
from bot.audit.cancels import CancelLedger
from bot.audit.records import AttemptResult, NewAttempt
from bot.audit.tables import audit_records
from bot.domain import AuditStatus, Source
from bot.errors import AuditStoreError
from bot.octopush import OctopushClient
from bot.sending.cancel import CancelService, CancelVerdict
from bot.sending.cancel_words import cancel_words
from tests.audit.test_indexes import full_scans, plan
from tests.cli.test_main import audit_json, run
from tests.conftest import OCTOPUSH_KEY, wait_for_requests

CANCEL_PATH = "/v1/public/sms-campaign/cancel"
TICKET = "sms_5fec89fe97109"


@pytest.fixture
def db(database_url: str) -> Iterator[AuditStore]:
    store = AuditStore.from_url(database_url)
    yield store
    store.close()


@pytest.fixture
def client(octopush_url: str) -> Iterator[OctopushClient]:
    octopush = OctopushClient(
        api_login="ops@example.com",
        api_key=OCTOPUSH_KEY,
        base_url=octopush_url,
        timeout=(0.5, 0.5),
        backoff=0,
    )
    yield octopush
    octopush.close()


def scheduled(
    store: AuditStore,
    *,
    user: str = "U1",
    minutes: float = 60,
    ticket: str = TICKET,
    request_id: str = "r-1",
) -> int:
    """A ``sent`` record of a send scheduled ``minutes`` ahead."""
    record_id = store.begin(
        NewAttempt(
            source=Source.SLASH,
            slack_user_id=user,
            recipients=("+33612345678",),
            text="maintenance tonight",
            send_at=datetime.now(UTC) + timedelta(minutes=minutes),
            request_id=request_id,
        )
    )
    store.complete(
        record_id,
        AttemptResult(status=AuditStatus.SENT, sms_ticket=ticket, total_cost=0.0333),
    )
    return record_id


def cancel_calls(httpserver: HTTPServer) -> list[dict[str, Any]]:
    return [
        json.loads(request.get_data())
        for request, _ in httpserver.log
        if request.path == CANCEL_PATH
    ]


def test_the_thousandth_cancel_of_the_month_is_the_last(
    db: AuditStore, client: OctopushClient, httpserver: HTTPServer
) -> None:
    httpserver.expect_request(CANCEL_PATH, method="DELETE").respond_with_data(
        "", status=204
    )
    record_id = scheduled(db)
    now = db.now()
    rows = [
        {
            "created_at": now,
            "source": "slash",
            "recipients": [],
            "simulation": False,
            "request_id": f"old-{n}",
            "status": "cancelled",
            "cancelled_at": now,
        }
        for n in range(1000)
    ]
    with db.transaction("seed cancels", write=True) as conn:
        conn.execute(sa.insert(audit_records), rows)
    service = CancelService(octopush=client, store=db)
    result = service.cancel(db.get(record_id), by="U1")
    assert result.verdict is CancelVerdict.NOT_ALLOWED
    assert "1,000 cancels a month" in cancel_words(result, TICKET)
    assert cancel_calls(httpserver) == []
    assert db.get(record_id).status is AuditStatus.SENT


def test_a_failed_write_after_octopushs_yes_is_retried(
    db: AuditStore,
    client: OctopushClient,
    httpserver: HTTPServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    httpserver.expect_request(CANCEL_PATH, method="DELETE").respond_with_data(
        "", status=204
    )
    record_id = scheduled(db)
    real = CancelLedger.mark_cancelled
    failures = iter([True, True])

    def flaky(self: CancelLedger, *args: Any, **kwargs: Any) -> bool:
        if next(failures, False):
            raise AuditStoreError("database is locked")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(CancelLedger, "mark_cancelled", flaky)
    service = CancelService(octopush=client, store=db, sleep=lambda _s: None)
    result = service.cancel(db.get(record_id), by="U1")
    assert result.verdict is CancelVerdict.CANCELLED
    assert len(cancel_calls(httpserver)) == 1
    assert db.get(record_id).status is AuditStatus.CANCELLED


def test_octopush_said_yes_and_the_record_could_not_be_written_is_told(
    db: AuditStore,
    client: OctopushClient,
    httpserver: HTTPServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    httpserver.expect_request(CANCEL_PATH, method="DELETE").respond_with_data(
        "", status=204
    )
    record_id = scheduled(db)

    def down(self: CancelLedger, *args: Any, **kwargs: Any) -> bool:
        raise AuditStoreError("database is down")

    monkeypatch.setattr(CancelLedger, "mark_cancelled", down)
    service = CancelService(octopush=client, store=db, sleep=lambda _s: None)
    result = service.cancel(db.get(record_id), by="U1")
    assert result.verdict is CancelVerdict.UNRECORDED
    said = cancel_words(result, TICKET)
    assert "Octopush cancelled it" in said and "will not go out" in said
    assert "still says sent" in said


def test_no_answer_from_octopush_is_not_taken_for_a_refusal(
    db: AuditStore, client: OctopushClient, httpserver: HTTPServer
) -> None:
    def slow(_request: Any) -> Any:
        import time

        from werkzeug import Response

        time.sleep(1.5)
        return Response("", status=204)

    httpserver.expect_request(CANCEL_PATH, method="DELETE").respond_with_handler(slow)
    record_id = scheduled(db)
    service = CancelService(octopush=client, store=db)
    result = service.cancel(db.get(record_id), by="U1")
    # The test server answers one request at a time: let it finish the abandoned
    # answer, so it is not still running when the next test starts.
    wait_for_requests(httpserver, 1)
    assert result.verdict is CancelVerdict.UNKNOWN
    assert "may or may not be cancelled" in cancel_words(result, TICKET)
    assert db.get(record_id).status is AuditStatus.SENT
    assert len(cancel_calls(httpserver)) == 1  # asked once: a cancel is not repeated


def test_a_send_less_than_ten_minutes_ahead_is_not_asked_of_octopush(
    db: AuditStore, client: OctopushClient, httpserver: HTTPServer
) -> None:
    soon = scheduled(db, minutes=9, request_id="r-soon", ticket="sms_soon")
    service = CancelService(octopush=client, store=db)
    result = service.cancel(db.get(soon), by="U1")
    assert result.verdict is CancelVerdict.NOT_ALLOWED
    assert "more than 10 minutes before" in cancel_words(result, "sms_soon")
    assert cancel_calls(httpserver) == []


def test_the_months_cancels_are_counted_along_an_index(db: AuditStore) -> None:
    ledger = CancelLedger(db)
    statements: list[tuple[str, Any]] = []

    def before(*args: Any) -> None:
        statements.append((args[2], args[3]))

    sa.event.listen(db.engine, "before_cursor_execute", before)
    try:
        assert ledger.cancels_since(datetime(2026, 12, 1, tzinfo=UTC)) == 0
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", before)
    (statement, params), *_ = [s for s in statements if "count" in s[0].lower()]
    lines = plan(db, statement, params)
    assert full_scans(lines, statement) == []
    assert "ix_audit_records_cancelled_at" in " ".join(lines)


def test_sms_bot_cancel_cancels_and_says_so(
    httpserver: HTTPServer, env: dict[str, str], tmp_path: Path
) -> None:
    httpserver.expect_request(CANCEL_PATH, method="DELETE").respond_with_data(
        "", status=204
    )
    store = AuditStore.from_url(env["DATABASE_URL"])
    try:
        record_id = scheduled(store)
    finally:
        store.close()
    result = run(["cancel", TICKET], env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "will not go out" in result.stdout
    assert cancel_calls(httpserver) == [{"ticket_number": TICKET}]
    (record,) = audit_json(env, tmp_path)
    assert record["id"] == record_id and record["status"] == "cancelled"

    again = run(["cancel", "sms_unknown"], env, tmp_path)
    assert again.returncode == 2
    assert "No send with the ticket sms_unknown" in again.stderr
    assert len(cancel_calls(httpserver)) == 1


def test_octopush_out_of_reach_is_not_called_a_refusal(
    db: AuditStore, httpserver: HTTPServer
) -> None:
    record_id = scheduled(db)
    unreachable = OctopushClient(
        api_login="ops@example.com",
        api_key=OCTOPUSH_KEY,
        base_url="http://127.0.0.1:9/v1/public",
        timeout=(0.5, 0.5),
        backoff=0,
    )
    try:
        result = CancelService(octopush=unreachable, store=db).cancel(
            db.get(record_id), by="U1"
        )
    finally:
        unreachable.close()
    assert result.verdict is CancelVerdict.REFUSED
    said = cancel_words(result, TICKET)
    assert "could not be reached" in said and "still scheduled" in said
    assert OCTOPUSH_KEY not in said
    stored = db.get(record_id)
    assert stored.status is AuditStatus.SENT and stored.claimed_by is None


def test_sms_admins_is_read_like_the_allowed_users(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bot.config import SmsSettings

    monkeypatch.setenv("SMS_ADMINS", " UADMIN, U2 ,")
    assert SmsSettings(_env_file=None).admins == ("UADMIN", "U2")  # type: ignore[call-arg]
