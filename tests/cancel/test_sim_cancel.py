"""The playground's Octopush simulator cancels scheduled campaigns by Octopush's rules."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from bot.playground.octopush_sim import Receipts
from tests.playground.test_octopush_sim import AUTH, send, simulator


def ahead(minutes: float) -> str:
    return (datetime.now(UTC) + timedelta(minutes=minutes)).isoformat()


def cancel(sim: object, ticket: str) -> tuple[int, dict[str, object]]:
    body = json.dumps({"ticket_number": ticket}).encode()
    return sim.handle("DELETE", "/sms-campaign/cancel", AUTH, body)  # type: ignore[attr-defined, no-any-return]


def test_a_scheduled_campaign_is_cancelled_refunded_and_never_arrives() -> None:
    sim = simulator(credit=10.0, price_per_sms=0.05, receipts=Receipts(status=None))
    status, sent = send(sim, send_at=ahead(60))
    assert status == 201
    assert sim.credit == 10.0 - 0.05
    assert cancel(sim, str(sent["sms_ticket"]))[0] == 204
    assert sim.credit == 10.0
    assert sim.scheduled._waiting == {}
    phones = {p["number"]: p for p in sim.phones.snapshot()}
    assert not phones.get("+33600000002", {}).get("messages")
    again_status, again = cancel(sim, str(sent["sms_ticket"]))
    assert again_status == 400 and "cannot be cancelled" in str(again["message"])


def test_the_rules_refuse_three_recipients_ten_minutes_and_unknown_tickets() -> None:
    sim = simulator(credit=10.0, receipts=Receipts(status=None))
    three = [{"phone_number": f"+3360000000{n}"} for n in range(3)]
    _s, crowd = send(sim, send_at=ahead(60), recipients=three)
    _s, soon = send(sim, send_at=ahead(9))
    for ticket, why in (
        (crowd["sms_ticket"], "fewer than 3 recipients"),
        (soon["sms_ticket"], "more than 10 minutes"),
        ("sms_unknown", "No waiting or scheduled campaign"),
    ):
        status, answer = cancel(sim, str(ticket))
        assert status == 400 and why in str(answer["message"])


def test_only_1000_cancels_a_month() -> None:
    sim = simulator(credit=1000.0, price_per_sms=0.001, receipts=Receipts(status=None))
    sim.scheduled._cancels[(datetime.now(UTC).year, datetime.now(UTC).month)] = 1000
    _s, sent = send(sim, send_at=ahead(60))
    status, answer = cancel(sim, str(sent["sms_ticket"]))
    assert status == 400 and "1000 cancel requests" in str(answer["message"])
