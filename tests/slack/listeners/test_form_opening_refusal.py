"""Someone who may not send is told so when they ask for the form, not after filling it.

Driven over HTTP: ``/sms`` alone, the global shortcut and "Send as SMS" each open a
small modal with the refusal in plain words, and no form; allowed people get the form.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from bot.slack import ids
from tests.conftest import SlackHarness
from tests.slack.listeners.test_forms import opened_view

MakeHarness = Callable[..., SlackHarness]


def global_shortcut(user: str) -> dict[str, Any]:
    return {
        "type": "shortcut",
        "callback_id": ids.GLOBAL_SHORTCUT,
        "trigger_id": "trig-global",
        "team": {"id": "T1"},
        "user": {"id": user},
    }


def message_shortcut(user: str, channel: str = "C1") -> dict[str, Any]:
    return {
        "type": "message_action",
        "callback_id": ids.MESSAGE_SHORTCUT,
        "trigger_id": "trig-message",
        "team": {"id": "T1"},
        "user": {"id": user},
        "channel": {"id": channel},
        "message": {"type": "message", "text": "db-1 down", "ts": "1.2"},
        "response_url": "http://127.0.0.1:9/unused",
    }


def open_by(harness: SlackHarness, surface: str, user: str) -> dict[str, Any]:
    if surface == "command":
        response = harness.command("", user=user)
        assert response.status_code == 200
    elif surface == "global":
        harness.interact(global_shortcut(user))
    else:
        harness.interact(message_shortcut(user))
    return opened_view(harness)


def is_form(view: dict[str, Any]) -> bool:
    return view.get("callback_id") == ids.SMS_MODAL or any(
        block.get("type") == "input" for block in view.get("blocks") or []
    )


SURFACES = ["command", "global", "message"]


@pytest.mark.parametrize("surface", SURFACES)
def test_someone_not_allowed_gets_the_refusal_instead_of_the_form(
    make_harness: MakeHarness, surface: str
) -> None:
    harness = make_harness(allowed_users="U7")
    view = open_by(harness, surface, "U1")
    assert not is_form(view)
    assert "submit" not in view
    text = json.dumps(view)
    assert "You are not allowed to send SMS with this app" in text
    assert "Who may send SMS" in text and "SMS_ALLOWED_USERS" not in text
    assert harness.store.recent(limit=5) == []  # asking is not a send attempt


@pytest.mark.parametrize("surface", SURFACES)
def test_an_allowed_person_gets_the_form(
    make_harness: MakeHarness, surface: str
) -> None:
    harness = make_harness(allowed_users="U7")
    assert is_form(open_by(harness, surface, "U7"))


@pytest.mark.parametrize("surface", SURFACES)
def test_a_member_of_an_allowed_user_group_gets_the_form(
    make_harness: MakeHarness, surface: str
) -> None:
    harness = make_harness(allowed_usergroups="S1")
    harness.slack.state.usergroups = {"S1": ["U1"], "S2": ["U2"]}
    assert is_form(open_by(harness, surface, "U1"))


@pytest.mark.parametrize("surface", SURFACES)
def test_someone_outside_the_allowed_user_groups_is_refused(
    make_harness: MakeHarness, surface: str
) -> None:
    harness = make_harness(allowed_usergroups="S1")
    harness.slack.state.usergroups = {"S1": ["U7"]}
    assert not is_form(open_by(harness, surface, "U1"))


@pytest.mark.parametrize("surface", ["command", "message"])
def test_from_a_conversation_where_sms_are_not_allowed_the_form_does_not_open(
    make_harness: MakeHarness, surface: str
) -> None:
    harness = make_harness(allowed_channels="C9")
    view = open_by(harness, surface, "U1")
    assert not is_form(view)
    assert "not allowed from this conversation" in json.dumps(view)


def test_the_global_shortcut_opens_the_form_where_the_channel_is_chosen(
    make_harness: MakeHarness,
) -> None:
    harness = make_harness(allowed_channels="C9")
    assert is_form(open_by(harness, "global", "U1"))
