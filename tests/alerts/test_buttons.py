"""Issue 20, item 4: the Resolve and Escalate buttons beside Acknowledge."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from bot.slack import ids
from tests.alerts.conftest import FakeOctopush, am_payload, post_alert
from tests.alerts.test_hooks import page_rows, stored_events
from tests.conftest import SlackHarness
from tests.paging.conftest import NUMBERS

Start = Callable[..., SlackHarness]


def press(harness: SlackHarness, action_id: str, page_id: int) -> None:
    harness.interact(
        {
            "type": "block_actions",
            "team": {"id": "T1"},
            "user": {"id": "U5"},
            "channel": {"id": "C0OPS"},
            "trigger_id": "t",
            "response_url": harness.slack.webhook_url("button"),
            "actions": [
                {
                    "action_id": action_id,
                    "block_id": "page_actions",
                    "type": "button",
                    "value": str(page_id),
                    "action_ts": "1",
                }
            ],
        }
    )
    harness.settle()


def thread_texts(harness: SlackHarness) -> list[Any]:
    return [
        c.args["text"]
        for c in harness.slack.calls("chat.postMessage")
        if c.args.get("thread_ts")
    ]


def test_the_resolve_button_texts_nobody_when_resolved_sms_is_off(
    start: Start, octopush: FakeOctopush
) -> None:
    """``SMS_RESOLVED_SMS=false`` holds for the Slack button as for the alert."""
    harness = start(resolved_sms=False)
    post_alert(harness, am_payload())
    harness.settle()
    [page] = page_rows(harness)
    press(harness, ids.RESOLVE_PAGE, int(page["id"]))
    [page] = page_rows(harness)
    assert page["state"] == "resolved"
    assert len(octopush.bodies) == 1  # the page itself, no RESOLVED text


def test_the_resolve_button_closes_the_page_and_its_alert(
    start: Start, octopush: FakeOctopush
) -> None:
    harness = start()
    post_alert(harness, am_payload())
    harness.settle()
    [page] = page_rows(harness)
    press(harness, ids.RESOLVE_PAGE, int(page["id"]))
    [page] = page_rows(harness)
    assert page["state"] == "resolved"
    assert page["acknowledged_by"] == "<@U5>"
    assert octopush.bodies[-1]["text"] == f"RESOLVED #{page['id']}: DB down"
    update = json.dumps(harness.slack.calls("chat.update")[-1].args["blocks"])
    assert "Resolved by <@U5>" in update and ids.RESOLVE_PAGE not in update
    assert any("RESOLVED texted to 1 number" in t for t in thread_texts(harness))
    # The alert's own resolve then finds no open page: nothing is texted twice.
    post_alert(harness, am_payload("resolved"))
    harness.settle()
    assert len(octopush.bodies) == 2
    assert stored_events(harness)[-1]["outcome"] == "no-page"


def test_the_escalate_button_pages_the_next_member_now(
    start: Start, octopush: FakeOctopush
) -> None:
    harness = start()
    post_alert(harness, am_payload())
    harness.settle()
    order = harness.stack.escalations.pager.plan("db-oncall").members
    [page] = page_rows(harness)
    press(harness, ids.ESCALATE_PAGE, int(page["id"]))
    assert octopush.numbers() == [NUMBERS[order[0]], NUMBERS[order[1]]]
    assert any("Passed on by" in t for t in thread_texts(harness))
