"""The form end to end: shortcuts open it, typing updates the preview, submit sends."""

from __future__ import annotations

import json
import time
from typing import Any

from pytest_httpserver import HTTPServer

from bot.domain import AuditStatus
from bot.slack import ids
from bot.slack.views.modals import ModalContext
from tests.conftest import SENT, SlackHarness
from tests.slack.listeners.test_commands import (
    all_text,
    assert_no_full_number,
    finished,
)

SEND_PATH = "/v1/public/sms-campaign/send"


def state(
    *,
    recipients: str | None = "+33612345678",
    people: list[str] | None = None,
    text: str | None = "Primary DB down",
    sender: str | None = None,
    sms_type: str = "sms_premium",
    purpose: str = "alert",
    send_at: int | None = None,
    options: tuple[str, ...] = (),
    channel: str | None = "C9",
) -> dict[str, Any]:
    """A ``view.state`` as Slack sends it on submit."""

    def radio(value: str) -> dict[str, Any]:
        return {
            "type": "radio_buttons",
            "selected_option": {
                "value": value,
                "text": {"type": "plain_text", "text": value},
            },
        }

    return {
        "values": {
            ids.RECIPIENTS_BLOCK: {
                ids.RECIPIENTS_INPUT: {"type": "plain_text_input", "value": recipients}
            },
            ids.PEOPLE_BLOCK: {
                ids.PEOPLE_SELECT: {
                    "type": "multi_users_select",
                    "selected_users": people or [],
                }
            },
            ids.TEXT_BLOCK: {
                ids.TEXT_INPUT: {"type": "plain_text_input", "value": text}
            },
            ids.SENDER_BLOCK: {
                ids.SENDER_INPUT: {"type": "plain_text_input", "value": sender}
            },
            ids.TYPE_BLOCK: {ids.TYPE_SELECT: radio(sms_type)},
            ids.PURPOSE_BLOCK: {ids.PURPOSE_SELECT: radio(purpose)},
            ids.SEND_AT_BLOCK: {
                ids.SEND_AT_PICKER: {
                    "type": "datetimepicker",
                    "selected_date_time": send_at,
                }
            },
            ids.OPTIONS_BLOCK: {
                ids.OPTIONS_CHECKBOXES: {
                    "type": "checkboxes",
                    "selected_options": [{"value": value} for value in options],
                }
            },
            ids.CHANNEL_BLOCK: {
                ids.CHANNEL_SELECT: {
                    "type": "conversations_select",
                    "selected_conversation": channel,
                }
            },
        }
    }


def submission(view_state: dict[str, Any], *, view_id: str = "V1") -> dict[str, Any]:
    metadata = ModalContext(
        channel_id="C1", response_url=None, user_id="U1"
    ).to_metadata()
    return {
        "type": "view_submission",
        "team": {"id": "T1", "domain": "test"},
        "user": {"id": "U1", "username": "someone", "team_id": "T1"},
        "api_app_id": "A1",
        "trigger_id": "trigger-view",
        "view": {
            "id": view_id,
            "type": "modal",
            "callback_id": ids.SMS_MODAL,
            "private_metadata": metadata,
            "hash": "h1",
            "state": view_state,
            "blocks": [],
        },
        "response_urls": [],
    }


def as_dict(view: Any) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(view) if isinstance(view, str) else view
    return parsed


def opened_form_blocks(harness: SlackHarness) -> list[dict[str, Any]]:
    """The blocks of the real form, as Slack would send them back on submit."""
    harness.command("", trigger="trigger-open")
    blocks: list[dict[str, Any]] = opened_view(harness)["blocks"]
    return blocks


def opened_view(harness: SlackHarness) -> dict[str, Any]:
    (call,) = harness.slack.wait_for("views.open")
    view = call.args["view"]
    parsed: dict[str, Any] = json.loads(view) if isinstance(view, str) else view
    return parsed


def test_a_valid_submission_closes_the_form_sends_and_posts_in_the_chosen_channel(
    harness: SlackHarness, httpserver: HTTPServer
) -> None:
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_json(
        SENT, status=201
    )
    response = harness.interact(
        submission(
            state(
                recipients="06 12 34 56 78",
                sender="OpsTeam",
                options=(ids.OPTION_SIMULATION,),
            )
        )
    )
    assert response.status_code == 200
    assert response.json()["response_action"] == "update"  # "checking…", at once
    (post,) = harness.slack.wait_for("chat.postMessage")
    assert post.args["channel"] == "C9"
    (update,) = harness.slack.wait_for("views.update")
    assert update.args["view_id"] == "V1"
    assert "Sending to 1 recipient" in all_text(update.args["view"])
    assert_no_full_number(all_text(post.args))
    body = json.loads(httpserver.log[0][0].get_data())
    assert body["recipients"] == [{"phone_number": "+33612345678"}]
    assert body["sender"] == "OpsTeam"
    assert body["simulation_mode"] is True
    (record,) = finished(harness)
    assert record.source.value == "modal"
    assert record.slack_channel_id == "C9"
    assert record.status is AuditStatus.SENT


def test_problems_come_back_on_their_own_fields_and_nothing_is_sent(
    harness: SlackHarness, httpserver: HTTPServer
) -> None:
    response = harness.interact(
        submission(
            state(
                recipients="+33612345678, nonsense",
                sender="!",
                text="Promo STOP",
                purpose="wholesale",
            )
        )
    )
    body = response.json()
    assert body["response_action"] == "errors"
    assert set(body["errors"]) == {
        ids.RECIPIENTS_BLOCK,
        ids.SENDER_BLOCK,
        ids.TEXT_BLOCK,
    }
    assert "nonsense" in body["errors"][ids.RECIPIENTS_BLOCK]
    assert "STOP au 30101" in body["errors"][ids.TEXT_BLOCK]
    assert httpserver.log == []


def test_an_empty_form_names_the_missing_fields(harness: SlackHarness) -> None:
    body = harness.interact(submission(state(recipients=None, text=None))).json()
    assert body["response_action"] == "errors"
    assert {ids.RECIPIENTS_BLOCK, ids.TEXT_BLOCK} <= set(body["errors"])


def test_a_picked_person_without_a_phone_gives_the_form_back_with_the_problem(
    harness: SlackHarness, httpserver: HTTPServer
) -> None:
    form = submission(state(recipients=None, people=["UBOB"], text="Disk full"))
    form["view"]["blocks"] = opened_form_blocks(harness)
    body = harness.interact(form).json()
    assert body["response_action"] == "update"
    (update,) = harness.slack.wait_for("views.update")
    view = as_dict(update.args["view"])
    assert view["callback_id"] == ids.SMS_MODAL
    problems = next(
        b for b in view["blocks"] if b.get("block_id") == ids.PROBLEMS_BLOCK
    )
    assert "Bob has no phone number" in all_text(problems)
    elements = {b["block_id"]: b["element"] for b in view["blocks"] if "element" in b}
    assert elements[ids.PEOPLE_BLOCK]["initial_users"] == ["UBOB"]
    assert elements[ids.TEXT_BLOCK]["initial_value"] == "Disk full"
    assert elements[ids.CHANNEL_BLOCK]["initial_conversation"] == "C9"
    assert httpserver.log == []


def test_the_submit_ack_does_no_io_even_with_thirty_slow_profiles(
    harness: SlackHarness, httpserver: HTTPServer
) -> None:
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_json(
        {**SENT, "number_of_contacts": 30}, status=201
    )
    people = [f"UP{i:02d}" for i in range(30)]
    harness.slack.state.profiles.update(
        {
            user: {"phone": f"+336123456{i:02d}", "real_name": user}
            for i, user in enumerate(people)
        }
    )
    harness.slack.state.stalls["users.profile.get"] = 0.12
    started = time.monotonic()
    response = harness.interact(submission(state(recipients=None, people=people)))
    elapsed = time.monotonic() - started
    assert response.json()["response_action"] == "update"
    assert elapsed < 1.0, f"the ack took {elapsed:.2f} s"
    # 30 SMS > SMS_CONFIRM_ABOVE (20): the checked view asks for confirmation.
    (update,) = harness.slack.wait_for("views.update", timeout=15)
    confirm = as_dict(update.args["view"])
    assert confirm["callback_id"] == ids.CONFIRM_MODAL
    assert "30 recipients" in all_text(confirm)
    assert len(harness.slack.calls("users.profile.get")) == 30
    assert httpserver.log == []
    harness.interact(
        {
            "type": "view_submission",
            "team": {"id": "T1"},
            "user": {"id": "U1"},
            "view": {**confirm, "id": "V1", "state": {"values": {}}},
        }
    )
    harness.slack.wait_for("chat.postMessage", timeout=15)
    body = json.loads(httpserver.log[0][0].get_data())
    assert len(body["recipients"]) == 30


def test_a_picked_person_with_a_phone_is_texted(
    harness: SlackHarness, httpserver: HTTPServer
) -> None:
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_json(
        SENT, status=201
    )
    harness.interact(submission(state(recipients=None, people=["UALICE"])))
    harness.slack.wait_for("chat.postMessage")
    body = json.loads(httpserver.log[0][0].get_data())
    assert body["recipients"] == [{"phone_number": "+33612345678"}]


def test_a_double_submit_sends_once(
    harness: SlackHarness, httpserver: HTTPServer
) -> None:
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_json(
        SENT, status=201
    )
    harness.interact(submission(state(), view_id="V-double"))
    harness.slack.wait_for("chat.postMessage")
    harness.interact(submission(state(), view_id="V-double"))
    finished(harness)
    assert len(httpserver.log) == 1
    assert len(harness.slack.calls("chat.postMessage")) == 1


def test_the_global_shortcut_opens_the_form(harness: SlackHarness) -> None:
    harness.interact(
        {
            "type": "shortcut",
            "callback_id": ids.GLOBAL_SHORTCUT,
            "trigger_id": "trig-global",
            "team": {"id": "T1"},
            "user": {"id": "U1"},
        }
    )
    view = opened_view(harness)
    assert view["callback_id"] == ids.SMS_MODAL


def test_the_message_shortcut_prefills_the_text(harness: SlackHarness) -> None:
    harness.interact(
        {
            "type": "message_action",
            "callback_id": ids.MESSAGE_SHORTCUT,
            "trigger_id": "trig-message",
            "team": {"id": "T1"},
            "user": {"id": "U1"},
            "channel": {"id": "C7"},
            "message": {
                "type": "message",
                "text": "db-1 &amp; db-2 down <https://status.example.com>",
                "ts": "1.2",
            },
            "response_url": harness.slack.webhook_url("shortcut"),
        }
    )
    view = opened_view(harness)
    text_block = next(b for b in view["blocks"] if b.get("block_id") == ids.TEXT_BLOCK)
    assert (
        text_block["element"]["initial_value"]
        == "db-1 & db-2 down https://status.example.com"
    )
    assert ModalContext.from_metadata(view["private_metadata"]).channel_id == "C7"


def test_typing_updates_the_preview(harness: SlackHarness) -> None:
    harness.command("")
    view = opened_view(harness)
    harness.interact(
        {
            "type": "block_actions",
            "team": {"id": "T1"},
            "user": {"id": "U1"},
            "trigger_id": "trig-typing",
            "view": {**view, "id": "V1", "hash": "h1", "state": {"values": {}}},
            "actions": [
                {
                    "type": "plain_text_input",
                    "block_id": ids.TEXT_BLOCK,
                    "action_id": ids.TEXT_INPUT,
                    "value": "Café ☕ ready",
                    "action_ts": "1.0",
                }
            ],
        }
    )
    (update,) = harness.slack.wait_for("views.update")
    assert update.args["view_id"] == "V1"
    new_view = update.args["view"]
    new_view = json.loads(new_view) if isinstance(new_view, str) else new_view
    preview = next(
        b for b in new_view["blocks"] if b.get("block_id") == ids.PREVIEW_BLOCK
    )
    assert "Unicode" in all_text(preview)
    assert "☕" in all_text(preview)
