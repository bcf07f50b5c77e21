"""Issue 20, items 2 and 3: the /hooks endpoints store, answer, and page once per alert.

Through the real app over HTTP, on SQLite and PostgreSQL (``database_url``), with the
fake Octopush and the fake Slack recording what was sent and posted.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
import sqlalchemy as sa

from bot.audit.tables import alert_events, pages
from tests.alerts.conftest import (
    CHANNEL,
    TOKEN,
    FakeOctopush,
    am_payload,
    page_posts,
    post_alert,
)
from tests.conftest import SlackHarness
from tests.paging.conftest import NUMBERS, inject_store_faults

Start = Callable[..., SlackHarness]


def stored_events(harness: SlackHarness) -> list[dict[str, object]]:
    with harness.store.transaction("test: read alert events") as conn:
        rows = conn.execute(sa.select(alert_events).order_by(alert_events.c.id))
        return [dict(row) for row in rows.mappings()]


def page_rows(harness: SlackHarness) -> list[dict[str, object]]:
    with harness.store.transaction("test: read pages") as conn:
        rows = conn.execute(sa.select(pages).order_by(pages.c.id))
        return [dict(row) for row in rows.mappings()]


def on_call(harness: SlackHarness) -> str:
    return harness.stack.escalations.pager.plan("db-oncall").members[0]


def test_a_firing_alert_is_stored_answered_and_pages_the_rotation_once(
    start: Start, octopush: FakeOctopush
) -> None:
    harness = start()
    answer = post_alert(harness, am_payload())
    assert answer.status_code == 200
    harness.settle()
    first = on_call(harness)
    assert octopush.numbers() == [NUMBERS[first]]
    [page] = page_rows(harness)
    text = octopush.bodies[0]["text"]
    assert text == (
        f"[sms-bot #{page['id']}] DB down (prod, critical), paged by Alertmanager. "
        f"Reply ACK {page['id']}, RES {page['id']} to resolve, ESC {page['id']} to "
        "pass it on."
    )
    [post] = page_posts(harness)
    blocks = json.dumps(post["blocks"])
    assert "sms_resolve_page" in blocks and "sms_escalate_page" in blocks
    assert "https://runbooks.example.com/db" in blocks
    assert "http://prometheus.example.com/graph?g0.expr=up" in blocks
    [event] = stored_events(harness)
    assert (event["integration"], event["outcome"]) == ("prometheus", "opened")
    assert event["page_id"] == page["id"]

    # Alertmanager repeats the group (repeat_interval, group changes): no new page.
    again = am_payload(summary="DB down on two replicas")
    assert post_alert(harness, again).status_code == 200
    harness.settle()
    assert len(octopush.bodies) == 1
    assert len(page_rows(harness)) == 1
    assert stored_events(harness)[-1]["outcome"] == "deduplicated"
    harness.slack.wait_for("chat.update")
    updated = json.dumps(harness.slack.calls("chat.update")[-1].args["blocks"])
    assert "DB down on two replicas" in updated


def test_a_resolved_alert_closes_the_page_and_texts_resolved_to_whom_it_texted(
    start: Start, octopush: FakeOctopush
) -> None:
    harness = start()
    post_alert(harness, am_payload())
    harness.settle()
    first = on_call(harness)
    assert post_alert(harness, am_payload("resolved")).status_code == 200
    harness.settle()
    [page] = page_rows(harness)
    assert page["state"] == "resolved"
    assert page["next_escalation_at"] is None
    assert octopush.numbers() == [NUMBERS[first], NUMBERS[first]]
    assert octopush.bodies[1]["text"] == f"RESOLVED #{page['id']}: DB down"
    assert stored_events(harness)[-1]["outcome"] == "resolved"
    thread = [
        c.args
        for c in harness.slack.calls("chat.postMessage")
        if c.args.get("thread_ts")
    ]
    assert any("RESOLVED texted to 1 number" in t["text"] for t in thread)


def test_resolved_sms_can_be_turned_off(start: Start, octopush: FakeOctopush) -> None:
    harness = start(resolved_sms=False)
    post_alert(harness, am_payload())
    harness.settle()
    post_alert(harness, am_payload("resolved"))
    harness.settle()
    assert len(octopush.bodies) == 1
    assert page_rows(harness)[0]["state"] == "resolved"


def test_a_firing_after_a_resolve_is_held_back_within_the_flapping_bound(
    start: Start, octopush: FakeOctopush
) -> None:
    harness = start()
    for status in ("firing", "resolved", "firing"):
        post_alert(harness, am_payload(status))
        harness.settle()
    assert len(page_rows(harness)) == 1
    assert stored_events(harness)[-1]["outcome"] == "flapping"


def test_a_firing_after_a_resolve_opens_a_new_page_past_the_bound(
    start: Start, octopush: FakeOctopush
) -> None:
    harness = start(alert_repage_after="0s")
    for status in ("firing", "resolved", "firing"):
        post_alert(harness, am_payload(status))
        harness.settle()
    rows = page_rows(harness)
    assert [row["state"] for row in rows] == ["resolved", "open"]
    assert len(octopush.bodies) == 3  # page, RESOLVED, new page


def test_a_severity_that_does_not_page_only_posts(
    start: Start, octopush: FakeOctopush
) -> None:
    harness = start()
    assert post_alert(harness, am_payload(severity="warning")).status_code == 200
    harness.settle()
    assert octopush.bodies == []
    assert page_rows(harness) == []
    [post] = page_posts(harness)
    assert "not paging" in post["text"]


@pytest.mark.parametrize(
    ("integration", "token", "status"),
    [
        ("nope", TOKEN, 404),
        ("prometheus", None, 401),
        ("prometheus", "wrong", 401),
        ("prometheus", TOKEN + "-g", 401),  # another integration's token
    ],
)
def test_who_may_post_is_checked_before_anything_is_stored(
    start: Start,
    octopush: FakeOctopush,
    integration: str,
    token: str | None,
    status: int,
) -> None:
    harness = start()
    answer = post_alert(harness, am_payload(), integration=integration, token=token)
    assert answer.status_code == status
    assert TOKEN not in answer.text
    harness.settle()
    assert stored_events(harness) == []
    assert octopush.bodies == []


@pytest.mark.parametrize(
    ("body", "named"),
    [
        (b"{not json", "not JSON"),
        (json.dumps({"version": "4"}).encode(), "groupKey"),
        (json.dumps({**am_payload(), "status": "burning"}).encode(), "status"),
        (json.dumps({**am_payload(), "version": "9"}).encode(), "version"),
    ],
)
def test_a_malformed_body_is_400_naming_the_problem(
    start: Start, octopush: FakeOctopush, body: bytes, named: str
) -> None:
    harness = start()
    answer = post_alert(harness, body)
    assert answer.status_code == 400
    assert named in answer.json()["error"]
    assert stored_events(harness) == []


def test_a_body_over_512_kb_is_413(start: Start, octopush: FakeOctopush) -> None:
    harness = start()
    big = json.dumps({**am_payload(), "padding": "x" * (512 * 1024)}).encode()
    assert post_alert(harness, big).status_code == 413
    assert stored_events(harness) == []


def test_a_database_fault_answers_503_so_the_sender_retries(
    start: Start, octopush: FakeOctopush, monkeypatch: pytest.MonkeyPatch
) -> None:
    harness = start()
    faults = inject_store_faults(harness, monkeypatch)
    faults.fail("store an alert event", times=1)
    assert post_alert(harness, am_payload()).status_code == 503
    assert stored_events(harness) == []
    assert post_alert(harness, am_payload()).status_code == 200  # the retry lands
    harness.settle()
    assert len(octopush.bodies) == 1
    assert CHANNEL in {p["channel"] for p in page_posts(harness)}
