"""A form too large for Slack's ``private_metadata`` is still sent when confirmed.

Issue 18 item 7: over 3,000 characters the confirmation stored ``{"too_long": true}``,
still showed **Send**, and the press did nothing, silently. Now the draft waits in the
audit database under a random id only its author can use, once, within a day.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from pytest_httpserver import HTTPServer

from bot.audit import AuditStore
from bot.audit.drafts import DRAFT_LIFETIME, DraftStore
from bot.audit.tables import form_drafts
from bot.domain import AuditStatus
from bot.slack import ids
from bot.slack.views.modals import METADATA_MAX
from tests.conftest import FakeClock, SlackHarness
from tests.slack.listeners.test_commands import all_text, finished
from tests.slack.listeners.test_forms import as_dict, state, submission

MakeHarness = Callable[..., SlackHarness]
SEND_PATH = "/v1/public/sms-campaign/send"
NUMBERS = [f"+33612{i:06d}" for i in range(150)]
#: 1,224 characters: the longest message a send accepts.
TEXT = ("Primary database failover in progress, expect errors for a while. " * 19)[
    :1224
]


def confirmation_of_a_large_form(harness: SlackHarness) -> dict[str, Any]:
    """Submit a form of 150 recipients and 1,224 characters; the confirmation view."""
    response = harness.interact(
        submission(state(recipients=", ".join(NUMBERS), text=TEXT))
    )
    assert response.json()["response_action"] == "update"  # "checking…"
    (update,) = harness.slack.wait_for("views.update")
    confirm = as_dict(update.args["view"])
    assert confirm["callback_id"] == ids.CONFIRM_MODAL
    assert "150 recipients" in all_text(confirm)
    return confirm


def press_send(harness: SlackHarness, metadata: str, *, user: str = "U1") -> None:
    confirmed = harness.interact(
        {
            "type": "view_submission",
            "team": {"id": "T1"},
            "user": {"id": user},
            "view": {
                "id": "V2",
                "type": "modal",
                "root_view_id": "V1",
                "callback_id": ids.CONFIRM_MODAL,
                "private_metadata": metadata,
                "state": {"values": {}},
            },
        }
    )
    assert confirmed.json() == {"response_action": "clear"}


def kept_drafts(store: AuditStore) -> int:
    with store.transaction("count drafts") as conn:
        return int(
            conn.execute(
                sa.select(sa.func.count()).select_from(form_drafts)
            ).scalar_one()
        )


def test_a_form_over_the_metadata_limit_is_sent_when_confirmed(
    make_harness: MakeHarness, database_url: str, sent: HTTPServer
) -> None:
    harness = make_harness(database_url=database_url, max_recipients=200)
    confirm = confirmation_of_a_large_form(harness)
    metadata = confirm["private_metadata"]
    assert len(metadata) <= METADATA_MAX
    assert TEXT[:40] not in metadata and NUMBERS[0] not in metadata  # kept aside
    assert kept_drafts(harness.store) == 1
    assert sent.log == []

    press_send(harness, metadata)
    harness.slack.wait_for("chat.postMessage")
    (record,) = finished(harness)
    assert record.status is AuditStatus.SENT
    (request, _), *_ = sent.log
    body = json.loads(request.get_data())
    assert [r["phone_number"] for r in body["recipients"]] == NUMBERS
    assert body["text"] == TEXT
    assert kept_drafts(harness.store) == 0  # used once, then gone


def test_a_kept_draft_is_sent_once_and_only_for_its_author(
    make_harness: MakeHarness, database_url: str, sent: HTTPServer
) -> None:
    harness = make_harness(database_url=database_url, max_recipients=200)
    metadata = confirmation_of_a_large_form(harness)["private_metadata"]
    press_send(harness, metadata, user="U2")  # someone else's press
    (told,) = harness.slack.wait_for("chat.postMessage")  # a private message
    assert told.args["channel"] == "U2"
    assert "nothing was sent" in all_text(told.args)
    harness.stack.executor.shutdown(wait=True)
    assert sent.log == []
    assert harness.store.recent(limit=5) == []
    assert kept_drafts(harness.store) == 1  # still the author's


def test_a_second_press_of_a_used_draft_sends_nothing_more(
    make_harness: MakeHarness, sent: HTTPServer
) -> None:
    harness = make_harness(max_recipients=200)
    metadata = confirmation_of_a_large_form(harness)["private_metadata"]
    press_send(harness, metadata)
    finished(harness)
    press_send(harness, metadata)
    harness.stack.executor.shutdown(wait=True)
    assert len(sent.log) == 1
    assert len(harness.store.recent(limit=5)) == 1
    told = harness.slack.calls("chat.postMessage")
    assert any(
        call.args["channel"] == "U1" and "already used" in all_text(call.args)
        for call in told
    )


def test_drafts_are_removed_after_a_day(database_url: str, clock: FakeClock) -> None:
    store = AuditStore.from_url(database_url)
    try:
        drafts = DraftStore(store, clock=clock)
        old = drafts.keep("U1", {"draft": {"text": "old"}})
        clock.advance((DRAFT_LIFETIME + timedelta(seconds=1)).total_seconds())
        assert drafts.take(old, "U1") is None  # too old to send
        stale = drafts.keep("U1", {"draft": {"text": "stale"}})
        clock.advance((DRAFT_LIFETIME + timedelta(seconds=1)).total_seconds())
        fresh = drafts.keep("U1", {"draft": {"text": "fresh"}})  # removes the stale
        assert kept_drafts(store) == 1
        assert drafts.take(stale, "U1") is None
        assert drafts.take(fresh, "U2") is None  # not theirs
        assert drafts.take(fresh, "U1") == {"draft": {"text": "fresh"}}
        assert drafts.take(fresh, "U1") is None  # once
        abandoned = drafts.keep("U1", {"draft": {"text": "abandoned"}})
        clock.advance((DRAFT_LIFETIME + timedelta(seconds=1)).total_seconds())
        assert drafts.take("no-such-draft", "U2") is None  # any take removes it
        assert kept_drafts(store) == 0
        assert drafts.take(abandoned, "U1") is None
    finally:
        store.close()
