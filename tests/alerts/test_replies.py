"""Issue 20, item 4: ACK, RES and ESC by SMS reply, with or without the page number.

Replies arrive as Octopush callbacks (stored, then handled by the inbox worker).
"""

from __future__ import annotations

import json
from collections.abc import Callable

from tests.alerts.conftest import FakeOctopush, am_payload, post_alert
from tests.alerts.test_hooks import on_call, page_rows
from tests.conftest import SlackHarness
from tests.paging.conftest import NUMBERS

Start = Callable[..., SlackHarness]


def reply(harness: SlackHarness, number: str, text: str) -> None:
    """A reply that names no SMS of ours (the page is found by number or sender)."""
    body = {
        "message_id": "sms_unknown",
        "number": number,
        "text": text,
        "reception_date": "2026-12-05 10:01:00",
    }
    assert harness.callback(json.dumps(body)).status_code == 200
    harness.settle()


def open_alert(harness: SlackHarness, group: str = "db") -> int:
    post_alert(harness, am_payload(group_key=group, summary=f"{group} down"))
    harness.settle()
    return int(page_rows(harness)[-1]["id"])


def test_res_with_the_page_number_resolves_and_texts_resolved(
    start: Start, octopush: FakeOctopush
) -> None:
    harness = start()
    page_id = open_alert(harness)
    number = NUMBERS[on_call(harness)]
    reply(harness, number, f"RES {page_id}")
    [page] = page_rows(harness)
    assert page["state"] == "resolved"
    assert page["acknowledged_by"].endswith("by SMS")
    assert octopush.bodies[-1]["text"] == f"RESOLVED #{page_id}: db down"
    assert octopush.numbers()[-1] == number
    # Its alert is closed too: the alert's own resolve changes nothing more.
    post_alert(harness, am_payload("resolved", group_key="db"))
    harness.settle()
    assert len(octopush.bodies) == 2


def test_ack_without_a_number_acts_on_the_only_open_page(
    start: Start, octopush: FakeOctopush
) -> None:
    harness = start()
    open_alert(harness)
    reply(harness, NUMBERS[on_call(harness)], "ack")
    assert page_rows(harness)[0]["state"] == "acknowledged"


def test_esc_passes_the_page_to_the_next_member_now(
    start: Start, octopush: FakeOctopush
) -> None:
    harness = start()
    page_id = open_alert(harness)
    order = harness.stack.escalations.pager.plan("db-oncall").members
    reply(harness, NUMBERS[order[0]], f"ESC #{page_id}")
    assert octopush.numbers() == [NUMBERS[order[0]], NUMBERS[order[1]]]
    assert page_rows(harness)[0]["member_index"] == 1


def test_several_open_pages_and_no_number_asks_which_by_sms(
    start: Start, octopush: FakeOctopush
) -> None:
    harness = start()
    first, second = open_alert(harness, "db"), open_alert(harness, "web")
    number = NUMBERS[on_call(harness)]
    reply(harness, number, "RES")
    assert [row["state"] for row in page_rows(harness)] == ["open", "open"]
    asked = octopush.bodies[-1]
    assert asked["recipients"][0]["phone_number"] == number
    assert f"#{second}" in asked["text"] and f"#{first}" in asked["text"]
    assert "RES" in asked["text"]


def test_only_a_number_the_page_texted_may_resolve_it(
    start: Start, octopush: FakeOctopush
) -> None:
    harness = start()
    page_id = open_alert(harness)
    texted = NUMBERS[on_call(harness)]
    stranger = next(n for n in NUMBERS.values() if n != texted)
    reply(harness, stranger, f"RES {page_id}")
    assert page_rows(harness)[0]["state"] == "open"
    assert len(octopush.bodies) == 1


def test_ok_to_an_sms_that_was_no_page_acknowledges_nothing(
    start: Start, octopush: FakeOctopush
) -> None:
    harness = start()
    open_alert(harness)
    number = NUMBERS[on_call(harness)]
    harness.command(f"{number} lunch at noon?")
    harness.settle()
    ticket = f"sms_t{len(octopush.bodies)}"
    body = {
        "message_id": ticket,
        "number": number,
        "text": "OK",
        "reception_date": "2026-12-05 10:01:00",
    }
    assert harness.callback(json.dumps(body)).status_code == 200
    harness.settle()
    assert page_rows(harness)[0]["state"] == "open"
