"""The Octopush simulator answers as docs/octopush-api.md says the v1 API does."""

from __future__ import annotations

import json
from typing import Any

from pytest_httpserver import HTTPServer

from bot.octopush import OctopushClient
from bot.octopush.models import Recipient, SmsCampaign
from bot.playground.changes import Changes
from bot.playground.octopush_sim import OctopushSimulator, Receipts
from bot.sending.segments import analyse
from tests.playground.conftest import wait_for

AUTH = {"api-login": "me@example.com", "api-key": "k3y"}


def simulator(**kwargs: Any) -> OctopushSimulator:
    return OctopushSimulator(
        api_login="me@example.com", api_key="k3y", changes=Changes(), **kwargs
    )


def send(sim: OctopushSimulator, **body: Any) -> tuple[int, dict[str, Any]]:
    campaign = {
        "text": "Server db-1 is down",
        "recipients": [{"phone_number": "+33600000002"}],
        "type": "sms_premium",
        "purpose": "alert",
        **body,
    }
    return sim.handle("POST", "/sms-campaign/send", AUTH, json.dumps(campaign).encode())


def test_send_answers_a_ticket_count_cost_and_a_credit_that_goes_down() -> None:
    sim = simulator(credit=10.0, price_per_sms=0.05, receipts=Receipts(status=None))
    text = "Café ☕ " * 12  # Unicode: more than 70 characters, so several parts
    parts = analyse(text).parts
    assert parts > 1
    status, first = send(
        sim,
        text=text,
        recipients=[{"phone_number": "+33600000001"}, {"phone_number": "+33600000002"}],
    )
    assert status == 201
    assert first["sms_ticket"].startswith("sms_")
    assert first["number_of_contacts"] == 2
    assert first["number_of_sms_needed"] == parts
    assert first["total_cost"] == round(2 * parts * 0.05, 4)
    assert first["residual_credit"] == round(10.0 - 2 * parts * 0.05, 4)
    _status, second = send(sim)
    assert second["sms_ticket"] != first["sms_ticket"]
    assert second["residual_credit"] == round(first["residual_credit"] - 0.05, 4)
    balance = sim.handle("GET", "/wallet/check-balance", AUTH, b"")
    assert balance == (200, {"amount": second["residual_credit"], "unit": "euros"})
    phone = {p["number"]: p for p in sim.phones.snapshot()}["+33600000001"]
    assert phone["messages"][0]["text"] == text
    assert phone["messages"][0]["sender"] == "Octopush"


def test_documented_refusals() -> None:
    sim = simulator(credit=0.01, receipts=Receipts(status=None))
    assert sim.handle("GET", "/wallet/check-balance", {}, b"")[1]["code"] == 108
    wrong = {"api-login": "me@example.com", "api-key": "nope"}
    assert sim.handle("GET", "/wallet/check-balance", wrong, b"")[0] == 401
    assert send(sim, sender="My Sender")[1]["code"] == 106  # no spaces on Octopush
    assert send(sim, purpose="wholesale")[1]["code"] == 121  # no STOP mention
    assert send(sim, type="sms_cheap")[1]["code"] == 112
    assert send(sim, recipients=[])[1]["code"] == 103
    status, body = send(sim)  # 0.045 > 0.01 left
    assert (status, body["code"]) == (400, 104)
    assert sim.phones.snapshot() == []


def test_the_page_can_make_the_next_send_fail_once() -> None:
    sim = simulator(receipts=Receipts(status=None))
    sim.set_fail_next("104")
    status, body = send(sim)
    assert (status, body["code"]) == (400, 104)
    sim.set_fail_next("106")
    assert send(sim)[1]["code"] == 106
    assert send(sim)[0] == 201
    assert len(sim.phones.snapshot()) == 1


def test_request_ids_are_never_sent_twice_and_simulation_sends_nothing() -> None:
    sim = simulator(credit=5.0, receipts=Receipts(status=None))
    simulated = send(sim, simulation_mode=True, request_id="r-1")[1]
    assert simulated["residual_credit"] == 5.0
    assert sim.phones.snapshot() == []
    assert send(sim, request_id="r-1")[0] == 201
    assert send(sim, request_id="r-1")[1]["code"] == 120
    assert sim.sends == 1


def test_receipts_replies_and_stop_are_posted_to_the_callback_url(
    httpserver: HTTPServer,
) -> None:
    httpserver.expect_request("/cb", method="POST").respond_with_data("")
    sim = simulator(receipts=Receipts(status="DELIVERED", delay=0.05))
    sim.callbacks.url = httpserver.url_for("/cb")
    try:
        ticket = send(sim)[1]["sms_ticket"]
        send(sim, type="sms_low_cost")  # Octopush sends receipts for premium only
        wait_for(lambda: len(httpserver.log) >= 1)
        sim.reply("+33600000002", "on it")
        sim.reply("+33600000002", "STOP")
        wait_for(lambda: len(httpserver.log) >= 3)
    finally:
        sim.close()
    bodies = [json.loads(request.data) for request, _ in httpserver.log]
    receipt, reply, stop = bodies
    assert receipt["message_id"] == ticket
    assert receipt["status"] == "DELIVERED"
    assert receipt["number"] == "+33600000002"
    assert "delivery_date" in receipt
    assert reply["text"] == "on it" and "reception_date" in reply
    assert stop["text"] == "STOP" and "stop_date" in stop
    assert {reply["message_id"], stop["message_id"]} != {ticket}  # the low-cost one
    statuses = [m.get("status") for m in sim.phones.snapshot()[0]["messages"]]
    assert statuses[0] == "delivered"


def test_the_real_client_reads_the_simulator(running: Any) -> None:
    keys = running.playground.keys
    with OctopushClient(
        api_login=keys.octopush_login,
        api_key=keys.octopush_key,
        base_url=f"{running.base}/octopush-sim/v1/public",
    ) as client:
        before = client.get_balance()
        result = client.send_sms_campaign(
            SmsCampaign(
                text="hello",
                recipients=[Recipient(phone_number="+33600000004")],
                type="sms_premium",
                purpose="alert",
            )
        )
        after = client.get_balance()
    assert result.sms_ticket.startswith("sms_")
    assert after.amount == before.amount - result.total_cost
