"""Issue 22: the voice endpoint of the Octopush client, and the voice receipts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import ValidationError
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from bot.octopush import (
    DeliveryReceipt,
    DeliveryStatus,
    OctopushClient,
    OctopushResponseError,
    OctopushValidationError,
    Recipient,
    SmsCampaign,
    VoiceCampaign,
    parse_callback,
)
from tests.octopush.test_client import KEY, make_client

VOICE = "/v1/public/voice-campaign/send"
BALANCE = "/v1/public/wallet/check-balance"


@pytest.fixture
def client(httpserver: HTTPServer) -> Iterator[OctopushClient]:
    with make_client(httpserver.url_for("/v1/public")) as octopush:
        yield octopush


def call(**overrides: Any) -> VoiceCampaign:
    fields: dict[str, Any] = {
        "text": "Hello bob. You are paged for db-oncall.",
        "recipients": [Recipient(phone_number="+33612345678")],
        "purpose": "alert",
        "voice_language": "fr-FR",
        "request_id": "req-v1",
    }
    fields.update(overrides)
    return VoiceCampaign(**fields)


def test_a_call_posts_the_documented_body_and_reads_the_vocal_ticket(
    client: OctopushClient, httpserver: HTTPServer
) -> None:
    answer = {"vocal_ticket": "vocal_5f6c49f92a476", "number_of_contacts": 1}
    httpserver.expect_oneshot_request(VOICE, method="POST").respond_with_json(
        {**answer, "total_cost": 0.1}, status=201
    )
    result = client.send_voice_campaign(call())
    assert result.sms_ticket == "vocal_5f6c49f92a476"
    assert result.tickets == ("vocal_5f6c49f92a476",)
    assert result.total_cost == pytest.approx(0.1)
    assert result.number_of_sms_needed == 1
    request: Request = httpserver.log[0][0]
    assert request.headers["api-key"] == KEY
    assert json.loads(request.get_data()) == {
        "text": "Hello bob. You are paged for db-oncall.",
        "recipients": [{"phone_number": "+33612345678"}],
        "purpose": "alert",
        "voice_language": "fr-FR",
        "request_id": "req-v1",
    }


@pytest.mark.parametrize("field", ["voice_ticket", "sms_ticket", "ticket"])
def test_other_ticket_names_are_read_too(
    client: OctopushClient, httpserver: HTTPServer, field: str
) -> None:
    httpserver.expect_oneshot_request(VOICE, method="POST").respond_with_json(
        {field: "vocal_1"}, status=201
    )
    assert client.send_voice_campaign(call()).sms_ticket == "vocal_1"


def test_a_refused_call_raises_a_typed_error_and_is_not_retried(
    client: OctopushClient, httpserver: HTTPServer
) -> None:
    httpserver.expect_request(VOICE, method="POST").respond_with_json(
        {"code": 117, "message": "No valid number in recipient list"}, status=400
    )
    with pytest.raises(OctopushValidationError) as raised:
        client.send_voice_campaign(call())
    assert raised.value.code == "117" and not raised.value.maybe_sent
    assert len(httpserver.log) == 1


def test_an_answer_without_a_ticket_is_a_response_error(
    client: OctopushClient, httpserver: HTTPServer
) -> None:
    httpserver.expect_request(VOICE, method="POST").respond_with_json(
        {"number_of_contacts": 1}, status=201
    )
    with pytest.raises(OctopushResponseError):
        client.send_voice_campaign(call())


def test_a_voice_campaign_refuses_what_octopush_would_ignore() -> None:
    with pytest.raises(ValidationError):
        call(voice_language="french")
    with pytest.raises(ValidationError):
        call(type="sms_premium")  # no such field on the voice endpoint
    with pytest.raises(ValidationError):
        SmsCampaign(
            text="x",
            recipients=[Recipient(phone_number="+33612345678")],
            type="voice",
            purpose="alert",
        )


def test_the_voice_balance_asks_for_the_vocal_sms_product(
    client: OctopushClient, httpserver: HTTPServer
) -> None:
    def answer(request: Request) -> Response:
        assert request.args["product_name"] == "vocal_sms"
        assert request.args["country_code"] == "FR"
        return Response(json.dumps({"amount": 42, "unit": "vocal_sms"}), status=200)

    httpserver.expect_request(BALANCE, method="GET").respond_with_handler(answer)
    balance = client.get_voice_balance("FR")
    assert balance.amount == 42 and balance.unit == "vocal_sms"


def receipt(**fields: Any) -> DeliveryReceipt:
    body = {
        "message_id": "vocal_1",
        "number": "+33612345678",
        "channel": "voice_sms",
        "delivery_date": "2026-11-24 10:00:00",
        **fields,
    }
    event = parse_callback(json.dumps(body).encode(), "application/json")
    assert isinstance(event, DeliveryReceipt)
    return event


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        ("DELIVERED", DeliveryStatus.DELIVERED),
        ("NOT_DELIVERED", DeliveryStatus.NOT_DELIVERED),
        ("NOT_DELIVERABLE", DeliveryStatus.NOT_DELIVERABLE),
        ("BUSY", DeliveryStatus.BUSY),
        ("REFUSED", DeliveryStatus.REFUSED),
        ("BLACKLISTED_NUMBER", DeliveryStatus.BLACKLISTED_NUMBER),
    ],
)
def test_the_voice_statuses_are_read(raw: str, status: DeliveryStatus) -> None:
    event = receipt(status=raw)
    assert event.status is status and event.channel == "voice_sms"
    assert event.status.is_final
    assert event.status.is_failure is (raw != "DELIVERED")


@pytest.mark.parametrize(
    ("fields", "keys"),
    [
        ({"meta_data": {"pressed_keys_code": "1"}}, "1"),
        ({"meta_data": {"Pressed_Keys_Code": 1}}, "1"),
        ({"pressed_keys_code": "1"}, "1"),
        ({"pressed_keys_code": ["1", "2"]}, "12"),
        ({"meta_data": json.dumps({"pressed_keys_code": "1#"})}, "1#"),
        ({"meta_data": {"call_duration": 12}}, None),
        ({"pressed_keys_code": ""}, None),
        ({"pressed_keys_code": None}, None),
        ({"pressed_keys_code": {"odd": 1}}, None),
        ({"meta_data": "not json"}, None),
        ({}, None),
    ],
)
def test_pressed_keys_are_read_defensively(
    fields: dict[str, Any], keys: str | None
) -> None:
    assert receipt(status="DELIVERED", **fields).pressed_keys == keys


def test_pressed_keys_in_a_form_body() -> None:
    body = (
        "message_id=vocal_1&number=%2B33612345678&status=DELIVERED"
        "&delivery_date=2026-11-24+10%3A00%3A00&meta_data%5Bpressed_keys_code%5D=1"
    )
    event = parse_callback(body.encode(), "application/x-www-form-urlencoded")
    assert isinstance(event, DeliveryReceipt) and event.pressed_keys == "1"
