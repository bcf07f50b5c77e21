"""Issue 22: the simulator answers voice campaigns and posts the voice receipts."""

from __future__ import annotations

import json

from pytest_httpserver import HTTPServer

from bot.octopush import DeliveryReceipt, DeliveryStatus, parse_callback
from tests.playground.conftest import wait_for
from tests.playground.test_octopush_sim import AUTH, simulator

CALL = {
    "text": "Hello alice. You are paged for db-oncall.",
    "recipients": [{"phone_number": "+33600000001"}],
    "purpose": "alert",
    "voice_language": "en-GB",
    "request_id": "call-1",
}


def test_a_voice_campaign_rings_a_phone_and_is_charged() -> None:
    sim = simulator(credit=1.0)
    try:
        status, answer = sim.handle(
            "POST", "/voice-campaign/send", AUTH, json.dumps(CALL).encode()
        )
        assert status == 201 and answer["vocal_ticket"].startswith("vocal_")
        assert answer["total_cost"] == 0.1 and sim.credit == 0.9
        (call,) = sim.voice.snapshot()
        assert call["number"] == "+33600000001" and call["state"] == "ringing"
        again = sim.handle(
            "POST", "/voice-campaign/send", AUTH, json.dumps(CALL).encode()
        )
        assert again[0] == 400 and again[1]["code"] == 120  # the same request_id
        unauthenticated = sim.handle("POST", "/voice-campaign/send", {}, b"{}")
        assert unauthenticated[0] == 401
    finally:
        sim.close()


def test_each_button_posts_its_voice_receipt(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/cb", method="POST").respond_with_data("")
    sim = simulator()
    sim.callbacks.url = httpserver.url_for("/cb")
    try:
        for number, (index, answer) in enumerate(
            [(1, "answer"), (2, "busy"), (3, "refuse")]
        ):
            body = {**CALL, "request_id": f"call-{number}"}
            sim.handle("POST", "/voice-campaign/send", AUTH, json.dumps(body).encode())
            assert sim.voice.end(index, answer)
            assert not sim.voice.end(index, answer)  # it stopped ringing
        wait_for(lambda: len(httpserver.log) >= 3)
    finally:
        sim.close()
    events = [
        parse_callback(request.data, "application/json")
        for request, _ in httpserver.log
    ]
    assert all(isinstance(e, DeliveryReceipt) for e in events)
    receipts = [e for e in events if isinstance(e, DeliveryReceipt)]
    assert [(r.status, r.pressed_keys) for r in receipts] == [
        (DeliveryStatus.DELIVERED, "1"),
        (DeliveryStatus.BUSY, None),
        (DeliveryStatus.REFUSED, None),
    ]
    assert {r.channel for r in receipts} == {"voice_sms"}
