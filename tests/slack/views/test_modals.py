"""The send form: a valid view, a live preview, and a submission read into a draft."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain import Purpose, SendDraft, SmsType
from bot.errors import InputError
from bot.slack import ids
from bot.slack.modal_reader import ModalSubmission, errors_for_modal, read_sms_modal
from bot.slack.views.modals import (
    ModalContext,
    build_confirm_modal,
    build_preview_block,
    build_sms_modal,
    update_preview,
)

ALL_IDS = {
    value
    for name, value in vars(ids).items()
    if name.isupper() and isinstance(value, str)
}
CONTEXT = ModalContext(
    channel_id="C123",
    response_url="https://hooks.slack.com/commands/T1/1/x",
    user_id="U1",
)
READ_ONLY = (
    "id",
    "hash",
    "state",
    "team_id",
    "app_id",
    "bot_id",
    "root_view_id",
    "previous_view_id",
    "app_installed_team_id",
)


def modal(**changes: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "context": CONTEXT,
        "default_sender": "OpsTeam",
        "default_type": SmsType.PREMIUM,
        "default_purpose": Purpose.ALERT,
        "region": "fr",
    }
    arguments.update(changes)
    return build_sms_modal(**arguments)


def block(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    return next(b for b in view["blocks"] if b.get("block_id") == block_id)


def elements(view: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for b in view["blocks"]:
        if "element" in b:
            yield b["element"]


def as_slack_sends_it(view: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """The view as it comes back in block_actions and view_submission payloads."""
    return {
        **view,
        "id": "V123",
        "hash": "1700000000.abc",
        "team_id": "T1",
        "app_id": "A1",
        "bot_id": "B1",
        "root_view_id": "V123",
        "previous_view_id": None,
        "app_installed_team_id": "T1",
        "state": {"values": values},
    }


def text_value(value: str | None) -> dict[str, Any]:
    return {"type": "plain_text_input", "value": value}


def option(value: str) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": value}, "value": value}


def full_state() -> dict[str, Any]:
    return {
        ids.RECIPIENTS_BLOCK: {
            ids.RECIPIENTS_INPUT: text_value(
                "+33612345678, 06 12 34 56 78\nalice,, db-oncall , "
            )
        },
        ids.PEOPLE_BLOCK: {
            ids.PEOPLE_SELECT: {
                "type": "multi_users_select",
                "selected_users": ["U0ALICE", "U0BOB"],
            }
        },
        ids.TEXT_BLOCK: {ids.TEXT_INPUT: text_value("  Disk full on db-2\nCall me  ")},
        ids.SENDER_BLOCK: {ids.SENDER_INPUT: text_value(" OpsTeam ")},
        ids.TYPE_BLOCK: {
            ids.TYPE_SELECT: {
                "type": "radio_buttons",
                "selected_option": option("sms_low_cost"),
            }
        },
        ids.PURPOSE_BLOCK: {
            ids.PURPOSE_SELECT: {
                "type": "radio_buttons",
                "selected_option": option("wholesale"),
            }
        },
        ids.SEND_AT_BLOCK: {
            ids.SEND_AT_PICKER: {
                "type": "datetimepicker",
                "selected_date_time": 1796113800,
            }
        },
        ids.OPTIONS_BLOCK: {
            ids.OPTIONS_CHECKBOXES: {
                "type": "checkboxes",
                "selected_options": [
                    option(ids.OPTION_REPLIES),
                    option(ids.OPTION_SIMULATION),
                ],
            }
        },
        ids.CHANNEL_BLOCK: {
            ids.CHANNEL_SELECT: {
                "type": "conversations_select",
                "selected_conversation": "C777",
            }
        },
    }


# --- the form -----------------------------------------------------------------------


def test_form_is_a_valid_modal_with_submit_and_cancel() -> None:
    view = modal()
    assert view["type"] == "modal"
    assert view["callback_id"] == ids.SMS_MODAL
    assert view["title"]["text"] == "Send an SMS"
    for key in ("title", "submit", "close"):
        assert view[key]["type"] == "plain_text"
        assert len(view[key]["text"]) <= 24
    assert view["submit"]["text"] == "Send"
    assert view["close"]["text"] == "Cancel"
    assert view["notify_on_close"] is False
    assert len(view["blocks"]) <= 100
    assert len(view["private_metadata"]) <= 3000


def test_every_block_and_action_id_comes_from_ids() -> None:
    view = modal()
    block_ids = [b["block_id"] for b in view["blocks"]]
    assert len(block_ids) == len(set(block_ids))
    assert set(block_ids) <= ALL_IDS
    assert all(len(block_id) <= 255 for block_id in block_ids)
    for element in elements(view):
        assert element["action_id"] in ALL_IDS
    input_ids = [b["block_id"] for b in view["blocks"] if b["type"] == "input"]
    assert input_ids == [
        ids.RECIPIENTS_BLOCK,
        ids.PEOPLE_BLOCK,
        ids.TEXT_BLOCK,
        ids.SENDER_BLOCK,
        ids.TYPE_BLOCK,
        ids.PURPOSE_BLOCK,
        ids.SEND_AT_BLOCK,
        ids.OPTIONS_BLOCK,
        ids.CHANNEL_BLOCK,
    ]
    assert set(ids.FIELD_BLOCKS.values()) <= set(input_ids)


def test_form_respects_slack_text_and_option_limits() -> None:
    view = modal(region="FR")
    for b in view["blocks"]:
        if b["type"] == "input":
            assert len(b["label"]["text"]) <= 2000
            assert len(b.get("hint", {}).get("text", "")) <= 2000
    for element in elements(view):
        assert len(element.get("placeholder", {}).get("text", "")) <= 150
        if element["type"] in ("radio_buttons", "checkboxes"):
            assert 0 < len(element["options"]) <= 10
            for choice in element["options"]:
                assert len(choice["text"]["text"]) <= 75


def test_only_message_choices_and_channel_are_required() -> None:
    view = modal()
    required = {
        b["block_id"]
        for b in view["blocks"]
        if b["type"] == "input" and not b.get("optional")
    }
    assert required == {
        ids.TEXT_BLOCK,
        ids.TYPE_BLOCK,
        ids.PURPOSE_BLOCK,
        ids.CHANNEL_BLOCK,
    }


def test_recipients_field_explains_what_to_type_and_the_region() -> None:
    recipients = block(modal(region="be"), ids.RECIPIENTS_BLOCK)
    assert recipients["element"]["type"] == "plain_text_input"
    assert (
        recipients["element"]["placeholder"]["text"]
        == "+33612345678, 06 12 34 56 78, alice, db-oncall"
    )
    assert "national numbers are read as BE" in recipients["hint"]["text"]
    people = block(modal(), ids.PEOPLE_BLOCK)
    assert people["element"]["type"] == "multi_users_select"
    assert people["label"]["text"] == "Slack people (their profile phone)"


def test_message_field_dispatches_each_keystroke_for_the_preview() -> None:
    message = block(modal(initial_text="Server db-1 is down"), ids.TEXT_BLOCK)
    assert message["dispatch_action"] is True
    element = message["element"]
    assert element["multiline"] is True
    assert element["max_length"] == 1224
    assert element["initial_value"] == "Server db-1 is down"
    assert element["dispatch_action_config"] == {
        "trigger_actions_on": ["on_character_entered"]
    }
    assert "initial_value" not in block(modal(), ids.TEXT_BLOCK)["element"]


def test_preview_follows_the_message_and_describes_the_initial_text() -> None:
    view = modal(initial_text="x" * 172)
    position = [b.get("block_id") for b in view["blocks"]].index(ids.PREVIEW_BLOCK)
    assert view["blocks"][position - 1]["block_id"] == ids.TEXT_BLOCK
    assert view["blocks"][position] == build_preview_block("x" * 172)


def test_sender_type_and_purpose_start_at_the_workspace_defaults() -> None:
    view = modal(
        default_sender="Acme",
        default_type=SmsType.LOW_COST,
        default_purpose=Purpose.WHOLESALE,
    )
    sender = block(view, ids.SENDER_BLOCK)
    assert sender["element"]["initial_value"] == "Acme"
    assert sender["hint"]["text"].startswith("3-11 letters, digits or spaces")
    sms_type = block(view, ids.TYPE_BLOCK)["element"]
    assert sms_type["initial_option"]["value"] == "sms_low_cost"
    assert sms_type["initial_option"] in sms_type["options"]
    labels = {o["value"]: o["text"]["text"] for o in sms_type["options"]}
    assert labels == {"sms_premium": "Premium", "sms_low_cost": "Low cost"}
    purpose = block(view, ids.PURPOSE_BLOCK)["element"]
    assert purpose["initial_option"]["value"] == "wholesale"
    marketing = purpose["initial_option"]["description"]["text"]
    assert "STOP au 30101" in marketing
    without = modal(default_sender=None)
    assert "initial_value" not in block(without, ids.SENDER_BLOCK)["element"]


def test_schedule_and_options_are_offered() -> None:
    view = modal()
    send_at = block(view, ids.SEND_AT_BLOCK)
    assert send_at["element"]["type"] == "datetimepicker"
    assert send_at["hint"]["text"] == "Leave empty to send now"
    options = block(view, ids.OPTIONS_BLOCK)["element"]
    assert options["type"] == "checkboxes"
    assert [o["value"] for o in options["options"]] == [
        ids.OPTION_REPLIES,
        ids.OPTION_SIMULATION,
    ]
    assert "France only" in options["options"][0]["description"]["text"]
    assert "Nothing is sent" in options["options"][1]["description"]["text"]


def test_result_channel_defaults_to_where_the_form_was_opened() -> None:
    channel = block(modal(), ids.CHANNEL_BLOCK)
    element = channel["element"]
    assert element["type"] == "conversations_select"
    assert element["response_url_enabled"] is True
    assert element["default_to_current_conversation"] is True
    assert element["initial_conversation"] == "C123"
    assert channel.get("optional") is False
    unknown = modal(context=ModalContext())
    assert "initial_conversation" not in block(unknown, ids.CHANNEL_BLOCK)["element"]


# --- private_metadata ---------------------------------------------------------------


def test_context_round_trips_through_private_metadata() -> None:
    metadata = modal()["private_metadata"]
    assert ModalContext.from_metadata(metadata) == CONTEXT
    assert json.loads(metadata)["channel_id"] == "C123"
    assert ModalContext().to_metadata() == "{}"


@pytest.mark.parametrize(
    "metadata",
    ["", "null", "not json", "[1, 2]", '{"channel_id": 5, "user_id": null}', "{"],
)
def test_unreadable_metadata_gives_an_empty_context(metadata: str) -> None:
    assert ModalContext.from_metadata(metadata) == ModalContext()


# --- the live preview ---------------------------------------------------------------


def preview_text(text: str) -> str:
    preview = build_preview_block(text)
    assert preview["type"] == "context"
    assert preview["block_id"] == ids.PREVIEW_BLOCK
    return str(preview["elements"][0]["text"])


def test_preview_of_a_gsm_text_counts_characters_and_sms() -> None:
    assert preview_text("x" * 172).endswith(
        "GSM-7 · 172 characters · 2 SMS per recipient"
    )
    assert preview_text("ok").endswith("GSM-7 · 2 characters · 1 SMS per recipient")


def test_preview_of_a_unicode_text_names_the_characters_forcing_it() -> None:
    line = preview_text("Ça va 😀")
    assert "Unicode because of “Ç”, “😀”" not in line  # Ç is in the GSM table
    assert "Unicode because of “😀”" in line
    assert line.endswith("1 SMS per recipient")
    assert "Unicode because of “ç”, “’”" in preview_text("ça c’est")
    assert "U+00A0" in preview_text("no\u00a0break")


def test_preview_of_an_empty_text_invites_typing() -> None:
    assert preview_text("").endswith("Type a message to see its length and SMS count")


def test_preview_names_at_most_five_forcing_characters() -> None:
    line = preview_text("αβγδεζηθ")
    assert "and 3 more" in line


def test_update_preview_replaces_only_the_preview_and_keeps_ids() -> None:
    original = modal(initial_text="")
    sent_back = as_slack_sends_it(original, full_state())
    updated = update_preview(sent_back, "ça")
    assert [b.get("block_id") for b in updated["blocks"]] == [
        b.get("block_id") for b in original["blocks"]
    ]
    for before, after in zip(original["blocks"], updated["blocks"], strict=True):
        if before.get("block_id") == ids.PREVIEW_BLOCK:
            assert after == build_preview_block("ça")
            assert after != before
        else:
            assert after == before
    for key in ("callback_id", "private_metadata", "title", "submit", "close", "type"):
        assert updated[key] == original[key]
    for key in READ_ONLY:
        assert key not in updated


def test_update_preview_does_not_touch_the_view_it_was_given() -> None:
    sent_back = as_slack_sends_it(modal(), {})
    snapshot = json.dumps(sent_back, sort_keys=True)
    updated = update_preview(sent_back, "new text")
    updated["blocks"][0]["label"]["text"] = "changed"
    assert json.dumps(sent_back, sort_keys=True) == snapshot


def test_update_preview_adds_a_missing_preview_after_the_message() -> None:
    view = modal()
    view["blocks"] = [b for b in view["blocks"] if b["block_id"] != ids.PREVIEW_BLOCK]
    updated = update_preview(view, "hello")
    block_ids = [b["block_id"] for b in updated["blocks"]]
    assert block_ids.index(ids.PREVIEW_BLOCK) == block_ids.index(ids.TEXT_BLOCK) + 1


# --- reading a submission -----------------------------------------------------------


def test_submission_is_read_into_a_draft_with_tokens_as_typed() -> None:
    view = as_slack_sends_it(modal(), full_state())
    urls = [
        {"channel_id": "C1", "response_url": "https://hooks.slack.com/app/1"},
        {"channel_id": "C777", "response_url": "https://hooks.slack.com/app/777"},
    ]
    submission = read_sms_modal(view, response_urls=urls)
    assert submission == ModalSubmission(
        draft=SendDraft(
            recipients=(
                "+33612345678",
                "06 12 34 56 78",
                "alice",
                "db-oncall",
                "<@U0ALICE>",
                "<@U0BOB>",
            ),
            text="  Disk full on db-2\nCall me  ",
            sender="OpsTeam",
            sms_type=SmsType.LOW_COST,
            purpose=Purpose.WHOLESALE,
            send_at=datetime(2026, 12, 1, 8, 30, tzinfo=UTC),
            with_replies=True,
            simulation=True,
        ),
        channel_id="C777",
        response_url="https://hooks.slack.com/app/777",
        people=("U0ALICE", "U0BOB"),
    )
    assert submission.draft.send_at is not None
    assert submission.draft.send_at.utcoffset() is not None


def test_minimal_submission_leaves_the_rest_to_the_defaults() -> None:
    values = {
        ids.PEOPLE_BLOCK: {ids.PEOPLE_SELECT: {"selected_users": ["U0ALICE"]}},
        ids.TEXT_BLOCK: {ids.TEXT_INPUT: text_value("hi")},
        ids.SENDER_BLOCK: {ids.SENDER_INPUT: text_value(None)},
        ids.SEND_AT_BLOCK: {ids.SEND_AT_PICKER: {"selected_date_time": None}},
        ids.OPTIONS_BLOCK: {ids.OPTIONS_CHECKBOXES: {"selected_options": []}},
        ids.CHANNEL_BLOCK: {ids.CHANNEL_SELECT: {"selected_conversation": "C1"}},
    }
    submission = read_sms_modal(as_slack_sends_it(modal(), values))
    assert isinstance(submission, ModalSubmission)
    assert submission.draft == SendDraft(recipients=("<@U0ALICE>",), text="hi")
    assert submission.response_url is None


def test_response_url_falls_back_to_the_first_one() -> None:
    state = full_state()
    urls = [{"channel_id": "C1", "response_url": "https://hooks.slack.com/app/1"}]
    submission = read_sms_modal(as_slack_sends_it(modal(), state), response_urls=urls)
    assert isinstance(submission, ModalSubmission)
    assert submission.response_url == "https://hooks.slack.com/app/1"


def test_empty_form_gets_an_error_under_each_missing_field() -> None:
    assert read_sms_modal(as_slack_sends_it(modal(), {})) == {
        ids.RECIPIENTS_BLOCK: "Add at least one phone number, name or person",
        ids.TEXT_BLOCK: "Write the message to send",
        ids.CHANNEL_BLOCK: "Pick the channel where the result is posted",
    }


def test_blank_message_and_separators_only_are_missing_values() -> None:
    state = full_state()
    state[ids.RECIPIENTS_BLOCK][ids.RECIPIENTS_INPUT]["value"] = " , \n ,"
    state[ids.PEOPLE_BLOCK][ids.PEOPLE_SELECT]["selected_users"] = []
    state[ids.TEXT_BLOCK][ids.TEXT_INPUT]["value"] = "  \n "
    errors = read_sms_modal(as_slack_sends_it(modal(), state))
    assert isinstance(errors, dict)
    assert set(errors) == {ids.RECIPIENTS_BLOCK, ids.TEXT_BLOCK}


def test_unknown_choices_and_bad_dates_read_as_not_chosen() -> None:
    state = full_state()
    state[ids.TYPE_BLOCK][ids.TYPE_SELECT]["selected_option"] = option("sms_gold")
    state[ids.PURPOSE_BLOCK][ids.PURPOSE_SELECT]["selected_option"] = None
    state[ids.SEND_AT_BLOCK][ids.SEND_AT_PICKER]["selected_date_time"] = 10**20
    submission = read_sms_modal(as_slack_sends_it(modal(), state))
    assert isinstance(submission, ModalSubmission)
    assert submission.draft.sms_type is None
    assert submission.draft.purpose is None
    assert submission.draft.send_at is None


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
ELEMENT_KEYS = st.sampled_from(
    [
        "value",
        "selected_users",
        "selected_option",
        "selected_options",
        "selected_date_time",
        "selected_conversation",
    ]
)
ELEMENT = st.dictionaries(ELEMENT_KEYS, JSON | st.lists(JSON, max_size=3), max_size=4)
BLOCK_IDS = st.sampled_from(sorted(ids.FIELD_BLOCKS.values()) + [ids.PEOPLE_BLOCK])
ACTION_IDS = st.sampled_from(sorted(ALL_IDS))
VALUES = st.dictionaries(
    BLOCK_IDS | st.text(max_size=5),
    st.dictionaries(ACTION_IDS, ELEMENT | JSON, max_size=3) | JSON,
    max_size=9,
)
VIEW = (
    st.builds(lambda values: {"state": {"values": values}}, VALUES | JSON)
    | st.builds(lambda state: {"state": state}, JSON)
    | st.dictionaries(st.text(max_size=8), JSON, max_size=3)
)


@settings(max_examples=300, deadline=None)
@given(view=VIEW, urls=st.lists(JSON | st.dictionaries(st.text(), JSON), max_size=3))
def test_reading_any_payload_never_raises(
    view: dict[str, Any], urls: list[Any]
) -> None:
    result = read_sms_modal(view, response_urls=urls)
    if isinstance(result, dict):
        assert result
        assert set(result) <= {ids.RECIPIENTS_BLOCK, ids.TEXT_BLOCK, ids.CHANNEL_BLOCK}
    else:
        assert isinstance(result, ModalSubmission)
        assert result.draft.recipients
        assert result.draft.text.strip()


# --- errors and confirmation --------------------------------------------------------


def test_input_errors_land_under_their_fields() -> None:
    error = InputError.from_problems(
        {
            "recipients": "'abc' is not a phone number",
            "sender": "The sender is too long",
            "send_at": "The time is in the past",
            "sms_type": "Unknown type",
            "purpose": "Marketing needs STOP au 30101",
        }
    )
    assert errors_for_modal(error) == {
        ids.RECIPIENTS_BLOCK: "'abc' is not a phone number",
        ids.SENDER_BLOCK: "The sender is too long",
        ids.SEND_AT_BLOCK: "The time is in the past",
        ids.TYPE_BLOCK: "Unknown type",
        ids.PURPOSE_BLOCK: "Marketing needs STOP au 30101",
    }


def test_unknown_fields_go_under_the_message_merged_with_its_own() -> None:
    error = InputError.from_problems(
        {"text": "The message is empty", "with_replies": "Replies need France"}
    )
    assert errors_for_modal(error) == {
        ids.TEXT_BLOCK: "The message is empty; Replies need France"
    }


def test_long_errors_are_shortened() -> None:
    errors = errors_for_modal(InputError("recipients", "x" * 5000))
    assert len(errors[ids.RECIPIENTS_BLOCK]) <= 500
    assert errors[ids.RECIPIENTS_BLOCK].endswith("…")


def test_confirmation_shows_the_estimate_and_carries_the_draft() -> None:
    metadata = json.dumps({"draft": "…"})
    view = build_confirm_modal(
        draft_metadata=metadata,
        summary="*Recipients (30):* +33 6 •• •• •• 78 and 29 more",
        estimate="30 recipients × 2 SMS = 60 SMS, about 2.1",
    )
    assert view["type"] == "modal"
    assert view["callback_id"] == ids.CONFIRM_MODAL
    assert view["private_metadata"] == metadata
    assert view["submit"]["text"] == "Send"
    for key in ("title", "submit", "close"):
        assert len(view[key]["text"]) <= 24
    text = "\n".join(b["text"]["text"] for b in view["blocks"] if "text" in b)
    assert "30 recipients × 2 SMS = 60 SMS, about 2.1" in text
    assert "and 29 more" in text
