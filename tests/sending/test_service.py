from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from bot.audit import AuditStore
from bot.audit.deliveries import DeliveryLog
from bot.domain import Actor, AuditStatus, Purpose, SendDraft, Source
from bot.errors import InputError
from bot.sending.service import SmsService
from tests.audit.test_store import attempt
from tests.conftest import SENT, wait_for_requests

SEND_PATH = "/v1/public/sms-campaign/send"
CLI = Actor(source=Source.CLI)
SLACK = Actor(
    source=Source.SLASH, slack_team_id="T1", slack_user_id="U1", slack_channel_id="C1"
)


def sent_bodies(httpserver: HTTPServer) -> list[dict[str, object]]:
    return [json.loads(request.get_data()) for request, _ in httpserver.log]


def test_send_writes_pending_before_octopush_and_sent_after(
    httpserver: HTTPServer, service: SmsService, store: AuditStore
) -> None:
    seen_while_sending: list[str] = []

    def octopush(request: Request) -> Response:
        seen_while_sending.extend(
            record.status.value for record in store.recent(limit=5)
        )
        return Response(json.dumps(SENT), status=201, content_type="application/json")

    httpserver.expect_request(SEND_PATH, method="POST").respond_with_handler(octopush)
    outcome = service.send(
        SendDraft(recipients=("06 12 34 56 78",), text="db-1 down"), SLACK
    )

    assert seen_while_sending == ["pending"]
    assert outcome.status is AuditStatus.SENT
    assert outcome.sms_ticket == "sms_5fec89fe97109"
    record = store.get(outcome.audit_id)
    assert record.status is AuditStatus.SENT
    assert record.recipients == ["+33612345678"]
    assert record.slack_user_id == "U1"
    assert record.source is Source.SLASH
    assert record.total_cost == pytest.approx(0.0333)
    assert record.residual_credit == pytest.approx(99.5)
    assert record.request_id == outcome.request_id
    assert record.duration_ms is not None


def test_send_always_states_type_purpose_and_request_id(
    httpserver: HTTPServer, service: SmsService
) -> None:
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_json(
        SENT, status=201
    )
    outcome = service.send(SendDraft(recipients=("+33612345678",), text="hello"), CLI)
    (body,) = sent_bodies(httpserver)
    assert body["type"] == "sms_premium"
    assert body["purpose"] == "alert"
    assert body["request_id"] == outcome.request_id
    assert body["recipients"] == [{"phone_number": "+33612345678"}]
    assert "simulation_mode" not in body


def test_octopush_error_is_recorded_failed_with_code_message_and_hint(
    httpserver: HTTPServer, service: SmsService, store: AuditStore
) -> None:
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_json(
        {"code": 104, "message": "Not enough credit"}, status=400
    )
    outcome = service.send(SendDraft(recipients=("+33612345678",), text="hello"), CLI)
    assert outcome.status is AuditStatus.FAILED
    assert outcome.error_code == "104"
    assert outcome.error_hint
    record = store.get(outcome.audit_id)
    assert record.status is AuditStatus.FAILED
    assert record.error_code == "104"
    assert record.error_message == "Not enough credit"
    assert len(httpserver.log) == 1


def test_a_timeout_is_recorded_failed_and_says_it_may_have_been_sent(
    httpserver: HTTPServer, service: SmsService, store: AuditStore
) -> None:
    received: list[dict[str, object]] = []

    def slow(request: Request) -> Response:
        received.append(json.loads(request.get_data()))
        time.sleep(0.6)
        return Response(json.dumps(SENT), status=201, content_type="application/json")

    httpserver.expect_request(SEND_PATH, method="POST").respond_with_handler(slow)
    outcome = service.send(SendDraft(recipients=("+33612345678",), text="hello"), CLI)
    # The test server handles one request at a time: let it finish the abandoned ones
    # (the try and the retry), so none is still running when the next test starts.
    wait_for_requests(httpserver, 2)
    assert outcome.status is AuditStatus.FAILED
    assert outcome.maybe_sent is True
    record = store.get(outcome.audit_id)
    assert record.status is AuditStatus.FAILED
    assert record.error_message is not None
    assert "may have received it" in record.error_message
    assert len(received) == 2
    assert received[0]["request_id"] == received[1]["request_id"] == outcome.request_id


def test_invalid_input_is_rejected_recorded_and_never_sent(
    httpserver: HTTPServer, service: SmsService, store: AuditStore
) -> None:
    draft = SendDraft(recipients=("not-a-number",), text="hello", sender="x")
    with pytest.raises(InputError) as exc_info:
        service.send(draft, SLACK)
    error = exc_info.value
    assert set(error.problems) == {"recipients", "sender"}
    assert "'not-a-number'" in error.problems["recipients"]
    assert error.audit_id is not None
    record = store.get(error.audit_id)
    assert record.status is AuditStatus.REJECTED
    assert record.recipients == ["not-a-number"]
    assert record.error_code == "input"
    assert record.error_message is not None and "not-a-number" in record.error_message
    assert httpserver.log == []


def test_marketing_without_stop_mention_is_rejected_before_octopush(
    httpserver: HTTPServer, service: SmsService
) -> None:
    draft = SendDraft(
        recipients=("+33612345678",), text="Promo -20%", purpose=Purpose.WHOLESALE
    )
    with pytest.raises(InputError) as exc_info:
        service.send(draft, CLI)
    assert "STOP au 30101" in exc_info.value.problems["text"]
    assert httpserver.log == []


def test_the_same_request_id_is_sent_once_and_answered_with_the_first_result(
    httpserver: HTTPServer, service: SmsService, store: AuditStore
) -> None:
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_json(
        SENT, status=201
    )
    draft = SendDraft(recipients=("+33612345678",), text="hello", request_id="cron-42")
    first = service.send(draft, CLI)
    second = service.send(draft, CLI)
    assert len(httpserver.log) == 1
    assert second.duplicate is True
    assert second.audit_id == first.audit_id
    assert second.sms_ticket == first.sms_ticket
    assert len(store.recent(limit=10)) == 1


def test_a_rejected_attempt_does_not_block_a_corrected_resend_with_the_same_id(
    httpserver: HTTPServer, service: SmsService
) -> None:
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_json(
        SENT, status=201
    )
    with pytest.raises(InputError):
        service.send(
            SendDraft(recipients=("nope",), text="hi", request_id="modal-1"), SLACK
        )
    outcome = service.send(
        SendDraft(recipients=("+33612345678",), text="hi", request_id="modal-1"), SLACK
    )
    assert outcome.status is AuditStatus.SENT
    assert outcome.duplicate is False


def test_forced_simulation_sends_simulation_mode(
    httpserver: HTTPServer, service: SmsService, store: AuditStore
) -> None:
    service.force_simulation = True
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_json(
        SENT, status=201
    )
    outcome = service.send(SendDraft(recipients=("+33612345678",), text="hello"), CLI)
    (body,) = sent_bodies(httpserver)
    assert body["simulation_mode"] is True
    assert store.get(outcome.audit_id).simulation is True


def test_a_scheduled_send_carries_send_at_with_its_offset(
    httpserver: HTTPServer, service: SmsService
) -> None:
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_json(
        SENT, status=201
    )
    at = (datetime.now(UTC) + timedelta(hours=2)).replace(microsecond=0)
    service.send(SendDraft(recipients=("+33612345678",), text="later", send_at=at), CLI)
    (body,) = sent_bodies(httpserver)
    assert datetime.fromisoformat(str(body["send_at"])) == at


def test_an_unexpected_error_completes_the_audit_record_and_says_it_may_be_out(
    service: SmsService, store: AuditStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(campaign: object) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(service.octopush, "send_sms_campaign", explode)
    outcome = service.send(SendDraft(recipients=("+33612345678",), text="hello"), CLI)
    # The request may have left before the client broke: never "nothing happened".
    assert outcome.status is AuditStatus.FAILED
    assert outcome.maybe_sent is True
    (record,) = store.recent(limit=1)
    assert record.status is AuditStatus.FAILED
    assert record.error_code == "unknown"
    assert record.error_message is not None
    assert record.error_message.startswith("internal error: RuntimeError")


def test_a_rejection_log_line_masks_the_numbers_it_quotes(
    service: SmsService, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(InputError):
        service.send(SendDraft(recipients=("+336123",), text="hello"), CLI)
    with pytest.raises(InputError):
        service.send(SendDraft(recipients=("06 12 34 56 7",), text="hello"), CLI)
    refused = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert len(refused) == 2
    for line in refused:
        assert "336123" not in line.replace(" ", "")
        assert "0612345" not in line.replace(" ", "")


def test_the_post_and_its_earlier_receipts_take_one_transaction(
    service: SmsService, store: AuditStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Run after every result post: remembering it and reading the receipts that beat
    # it were two transactions; the observers get what the one read.
    record_id = store.begin(attempt())
    DeliveryLog(store).record(
        audit_id=record_id,
        message_id="sms_6512ab",
        number="+33612345678",
        status="DELIVERED",
        raw_status="DELIVERED",
        final_statuses=("DELIVERED",),
    )
    seen: list[tuple[int, list[str]]] = []
    service.post_observers.append(
        lambda audit_id, receipts: seen.append((audit_id, [d.status for d in receipts]))
    )
    opened: list[str] = []
    real = store.transaction

    def counted(operation: str, **kw: Any) -> Any:
        opened.append(operation)
        return real(operation, **kw)

    monkeypatch.setattr(store, "transaction", counted)
    service.remember_post(record_id, channel="C0OPS", ts="1712345678.000100")
    assert opened == ["remember the Slack message"]
    assert seen == [(record_id, ["DELIVERED"])]
    assert store.get(record_id).slack_message_ts == "1712345678.000100"
