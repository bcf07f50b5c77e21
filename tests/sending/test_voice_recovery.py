"""Issue 22: a call left ``pending`` by a crash is made again as a call, once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pytest_httpserver import HTTPServer

from bot.audit import AuditStore, NewAttempt
from bot.domain import AuditStatus, Source
from bot.sending.recovery import recover_pending
from bot.sending.service import SmsService
from tests.sending.test_recovery import (  # noqa: F401 (fixtures)
    NUMBER,
    Clock,
    audit,
    bodies,
    clock,
    migrated,
    recovering,
)

VOICE_PATH = "/v1/public/voice-campaign/send"


def test_a_pending_call_is_resent_to_the_voice_endpoint_with_its_request_id(
    httpserver: HTTPServer,
    recovering: SmsService,  # noqa: F811
    audit: AuditStore,  # noqa: F811
    clock: Clock,  # noqa: F811
) -> None:
    clock.shift = -timedelta(minutes=2)
    try:
        record_id = audit.begin(
            NewAttempt(
                source=Source.ESCALATION,
                recipients=(NUMBER,),
                text="Hello bob. You are paged for db-oncall.",
                sms_type="voice",
                purpose="alert",
                request_id="call-1",
            )
        )
    finally:
        clock.shift = timedelta(0)
    httpserver.expect_request(VOICE_PATH, method="POST").respond_with_json(
        {"vocal_ticket": "vocal_1", "number_of_contacts": 1, "total_cost": 0.1},
        status=201,
    )

    (settled,) = recover_pending(recovering)

    (body,) = bodies(httpserver)
    assert body["request_id"] == "call-1" and body["voice_language"] == "en-GB"
    assert body["recipients"] == [{"phone_number": NUMBER}]
    assert "type" not in body
    assert settled.status is AuditStatus.SENT
    record = audit.get(record_id)
    assert record.sms_ticket == "vocal_1"
    assert record.total_cost == pytest.approx(0.1)
