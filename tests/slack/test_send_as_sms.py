""" "Send as SMS" opens the form with what a person reads, not Slack's markup (issue 19
item 4): signed shortcut and submit requests in, the fake Slack and Octopush out.
"""

from __future__ import annotations

from typing import Any

from pytest_httpserver import HTTPServer

from bot.slack import ids
from bot.slack.listeners.form_opening import MAX_NAME_LOOKUPS
from bot.slack.views.emoji_note import EMOJI_NOTE_BLOCK
from tests.conftest import SENT, SlackHarness
from tests.slack.listeners.test_commands import finished, octopush_bodies
from tests.slack.listeners.test_forms import opened_view, state, submission

SEND_PATH = "/v1/public/sms-campaign/send"
LONG = "please look at the replication lag and the disk of the primary now"


def shortcut(harness: SlackHarness, text: str) -> dict[str, Any]:
    """Run "Send as SMS" on a message whose ``text`` is ``text``; the form it opens."""
    harness.slack.state.profiles["U0BOB"] = {
        "display_name": "bob",
        "real_name": "Bob Martin",
        "phone": "+33698765432",
    }
    harness.interact(
        {
            "type": "message_action",
            "callback_id": ids.MESSAGE_SHORTCUT,
            "trigger_id": "trig-message",
            "team": {"id": "T1"},
            "user": {"id": "U1"},
            "channel": {"id": "C7"},
            "message": {"type": "message", "text": text, "ts": "1.2"},
            "response_url": harness.slack.webhook_url("shortcut"),
        }
    )
    return opened_view(harness)


def block(view: dict[str, Any], block_id: str) -> dict[str, Any] | None:
    return next((b for b in view["blocks"] if b.get("block_id") == block_id), None)


def shown(view: dict[str, Any], block_id: str) -> str:
    found = block(view, block_id)
    assert found is not None
    return " ".join(element["text"] for element in found["elements"])


def test_the_form_shows_the_message_as_read_and_leaves_out_costly_emoji(
    harness: SlackHarness, httpserver: HTTPServer
) -> None:
    view = shortcut(
        harness,
        "<@U0BOB> *db-1* is _down_ :fire: see <https://status.example.com|status> "
        f"in <#C0OPS|ops> &amp; {LONG}",
    )
    expected = (
        f"@bob db-1 is down see status (https://status.example.com) in #ops & {LONG}"
    )
    text_block = block(view, ids.TEXT_BLOCK)
    assert text_block is not None
    assert text_block["element"]["initial_value"] == expected
    # The SMS count under it is the count of that text.
    assert "GSM-7" in shown(view, ids.PREVIEW_BLOCK)
    assert f"{len(expected)} characters" in shown(view, ids.PREVIEW_BLOCK)
    assert "1 SMS per recipient" in shown(view, ids.PREVIEW_BLOCK)
    note = shown(view, EMOJI_NOTE_BLOCK)
    assert "🔥" in note and "Unicode" in note and "3 SMS instead of 1" in note
    # The note sits right under the count line.
    order = [b.get("block_id") for b in view["blocks"]]
    assert order.index(EMOJI_NOTE_BLOCK) == order.index(ids.PREVIEW_BLOCK) + 1
    (profile,) = harness.slack.calls("users.profile.get")
    assert profile.args["user"] == "U0BOB"

    # Sent as shown: the form's text is what Octopush gets.
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_json(
        SENT, status=201
    )
    harness.interact(submission(state(text=expected)))
    finished(harness)
    (body,) = octopush_bodies(httpserver)
    assert body["text"] == expected


def test_an_emoji_that_costs_nothing_more_is_kept_and_no_note_is_shown(
    harness: SlackHarness,
) -> None:
    view = shortcut(harness, "*db-1* is down :fire: <@U0BOB|bob> on it")
    text_block = block(view, ids.TEXT_BLOCK)
    assert text_block is not None
    assert text_block["element"]["initial_value"] == "db-1 is down 🔥 @bob on it"
    assert "Unicode" in shown(view, ids.PREVIEW_BLOCK)
    assert block(view, EMOJI_NOTE_BLOCK) is None


def test_many_mentions_cost_a_bounded_number_of_profile_lookups(
    harness: SlackHarness,
) -> None:
    for i in range(MAX_NAME_LOOKUPS + 2):
        harness.slack.state.profiles[f"U{i:02d}"] = {"display_name": f"p{i}"}
    mentions = " ".join(f"<@U{i:02d}>" for i in range(MAX_NAME_LOOKUPS + 2))
    view = shortcut(harness, f"{mentions} <@U00> meeting")
    text_block = block(view, ids.TEXT_BLOCK)
    assert text_block is not None
    named = " ".join(f"@p{i}" for i in range(MAX_NAME_LOOKUPS))
    rest = f"@U{MAX_NAME_LOOKUPS:02d} @U{MAX_NAME_LOOKUPS + 1:02d}"
    assert text_block["element"]["initial_value"] == f"{named} {rest} @p0 meeting"
    assert len(harness.slack.calls("users.profile.get")) == MAX_NAME_LOOKUPS
