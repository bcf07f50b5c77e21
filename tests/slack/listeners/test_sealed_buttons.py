"""A question's buttons answer only the person asked, and only for a while.

Issue 18 item 8: the seal held the recipients, the text and the request id, not who
may press: anyone else's press sent the SMS. Now the seal names the person asked and an
expiry; another person gets a private "not yours" (and the attempt is logged), a late
press is told the question expired, and nothing is sent either way.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from bot.slack import ids
from bot.slack.sealed import SEAL_SECONDS, button_key, seal
from tests.conftest import SlackHarness
from tests.slack.listeners.test_command_ack import buttons
from tests.slack.listeners.test_commands import finished

SEND_PATH = "/v1/public/sms-campaign/send"
AMBIGUOUS = "+33612345678 0800 123 456 is the hotline"


def press(harness: SlackHarness, action_id: str, value: str, *, user: str) -> None:
    response = harness.interact(
        {
            "type": "block_actions",
            "team": {"id": "T1", "domain": "test"},
            "user": {"id": user, "username": user.lower(), "team_id": "T1"},
            "api_app_id": "A1",
            "channel": {"id": "C1", "name": "ops"},
            "container": {"type": "message", "is_ephemeral": True},
            "trigger_id": f"trigger-{user}",
            "response_url": harness.slack.webhook_url("command"),
            "actions": [
                {
                    "type": "button",
                    "action_id": action_id,
                    "block_id": "b",
                    "value": value,
                    "action_ts": "1700000000.1",
                }
            ],
        }
    )
    assert response.status_code == 200


def answer_after_press(harness: SlackHarness, before: int = 0) -> dict[str, Any]:
    """The one reply to the press, once the lazy listener is done."""
    (reply,) = harness.webhooks(before + 1)[before:]
    harness.stack.executor.shutdown(wait=True)
    assert len(harness.slack.calls("webhook/command")) == before + 1
    return reply


@pytest.mark.parametrize(
    "action_id", [ids.SEND_AS_SHOWN, ids.SEND_CERTAIN, ids.OPEN_FORM_PREFILLED]
)
def test_someone_else_pressing_the_question_sends_nothing_and_is_told_privately(
    harness: SlackHarness,
    sent: HTTPServer,
    caplog: pytest.LogCaptureFixture,
    action_id: str,
) -> None:
    ack = harness.command(AMBIGUOUS, user="U1").json()
    with caplog.at_level(logging.WARNING, logger="bot.slack"):
        press(harness, action_id, buttons(ack)[action_id], user="U2")
        reply = answer_after_press(harness)
    assert reply["response_type"] == "ephemeral"
    assert reply["replace_original"] is False  # the asker's question stays as it is
    assert "asked to someone else" in reply["text"]
    assert "nothing was sent" in reply["text"]
    assert sent.log == []
    assert harness.store.recent(limit=5) == []
    assert harness.slack.calls("views.open") == []
    assert any("not asked" in record.getMessage() for record in caplog.records)


def test_the_person_asked_can_still_answer_after_someone_else_tried(
    harness: SlackHarness, sent: HTTPServer
) -> None:
    ack = harness.command(AMBIGUOUS, user="U1").json()
    press(harness, ids.SEND_CERTAIN, buttons(ack)[ids.SEND_CERTAIN], user="U2")
    harness.webhooks()
    press(harness, ids.SEND_CERTAIN, buttons(ack)[ids.SEND_CERTAIN], user="U1")
    (record,) = finished(harness)
    assert record.slack_user_id == "U1"
    assert len(sent.log) == 1


def test_someone_else_confirming_a_large_send_sends_nothing(
    make_harness: Any, sent: HTTPServer
) -> None:
    harness = make_harness(confirm_above="1")
    harness.command("+33612345678, +33698765432 hello", user="U1")
    (prompt,) = harness.webhooks()
    value = buttons(prompt)[ids.CONFIRM_SEND]
    press(harness, ids.CONFIRM_SEND, value, user="U2")
    reply = answer_after_press(harness, before=1)
    assert reply["response_type"] == "ephemeral"
    assert "asked to someone else" in reply["text"]
    assert sent.log == []
    assert harness.store.recent(limit=5) == []


def test_a_press_after_the_question_expired_sends_nothing_and_says_so(
    harness: SlackHarness, sent: HTTPServer
) -> None:
    asked = time.time() - SEAL_SECONDS - 1
    value = seal(
        {"r": ["+33612345678"], "t": "late", "id": "slack-command-late"},
        button_key(harness.settings),
        user="U1",
        now=asked,
    )
    assert value is not None
    press(harness, ids.SEND_CERTAIN, value, user="U1")
    reply = answer_after_press(harness)
    assert "expired" in reply["text"] and "type the command again" in reply["text"]
    assert sent.log == []
    assert harness.store.recent(limit=5) == []


def test_a_press_just_before_the_expiry_sends(
    harness: SlackHarness, sent: HTTPServer
) -> None:
    value = seal(
        {"r": ["+33612345678"], "t": "in time", "id": "slack-command-in-time"},
        button_key(harness.settings),
        user="U1",
        now=time.time() - SEAL_SECONDS + 60,
    )
    assert value is not None
    press(harness, ids.SEND_CERTAIN, value, user="U1")
    (record,) = finished(harness)
    assert record.text == "in time"
    assert len(sent.log) == 1
