"""``/sms RECIPIENTS MESSAGE`` as a new user types it: what the ack says, who gets texted.

Every case of issue 10 item 1: numbers inside the message, an unknown name after a comma,
dates and IP addresses, ``tel:`` links; an ambiguous split is asked about with buttons
whose choice survives a restart; the ack judges what needs no lookup (item 2).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from bot.domain import AuditStatus
from bot.slack import ids
from bot.slack.listeners.commands import SmsCommandHandlers
from tests.conftest import SlackHarness
from tests.slack.listeners.test_commands import (
    all_text,
    assert_no_full_number,
    finished,
    octopush_bodies,
)

SEND_PATH = "/v1/public/sms-campaign/send"
MakeHarness = Callable[..., SlackHarness]
DIRECTORY = """\
people:
  alice: {phone: "+33612345678", slack: UALICE}
  bob:   {phone: "06 98 76 54 32"}
groups:
  db-oncall: {members: [alice]}
"""


@pytest.fixture
def directory(tmp_path: Path) -> str:
    path = tmp_path / "directory.yml"
    path.write_text(DIRECTORY)
    return str(path)


def sent_to(httpserver: HTTPServer) -> list[tuple[list[str], str]]:
    return [
        ([r["phone_number"] for r in body["recipients"]], body["text"])
        for body in octopush_bodies(httpserver)
    ]


def buttons(ack: dict[str, Any]) -> dict[str, str]:
    """``action_id -> value`` of the buttons in an ack."""
    return {
        element["action_id"]: element["value"]
        for block in ack.get("blocks") or []
        if block["type"] == "actions"
        for element in block["elements"]
    }


def press(harness: SlackHarness, action_id: str, value: str) -> None:
    harness.interact(
        {
            "type": "block_actions",
            "team": {"id": "T1", "domain": "test"},
            "user": {"id": "U1", "username": "someone", "team_id": "T1"},
            "api_app_id": "A1",
            "channel": {"id": "C1", "name": "ops"},
            "container": {"type": "message", "is_ephemeral": True},
            "trigger_id": "trigger-button",
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


def test_a_valid_command_is_sent_at_once_and_the_ack_says_to_whom_masked(
    harness: SlackHarness, sent: HTTPServer
) -> None:
    ack = harness.command("+33612345678 Disk full").json()
    assert "+33 6 •• •• •• 78" in all_text(ack)
    assert_no_full_number(all_text(ack))
    harness.slack.wait_for("chat.postMessage")
    assert sent_to(sent) == [(["+33612345678"], "Disk full")]


@pytest.mark.parametrize(
    ("typed", "number", "message"),
    [
        ("+33612345678 0800 123 456 is the hotline", "+33800123456", "0800 123 456"),
        ("+33612345678 06 98 76 54 32 is my other phone", "+33698765432", "06 98"),
    ],
)
def test_a_number_that_may_start_the_message_is_asked_about_not_sent(
    harness: SlackHarness, sent: HTTPServer, typed: str, number: str, message: str
) -> None:
    ack = harness.command(typed).json()
    assert ack["response_type"] == "ephemeral"
    assert set(buttons(ack)) == {
        ids.SEND_AS_SHOWN,
        ids.SEND_CERTAIN,
        ids.OPEN_FORM_PREFILLED,
    }
    shown = json.dumps([b.get("text") for b in ack["blocks"]], ensure_ascii=False)
    assert "+33 6 •• •• •• 78" in shown and number not in shown.replace(" ", "")
    harness.settle()
    assert sent.log == []
    assert harness.store.recent(limit=5) == []  # nothing attempted yet

    press(harness, ids.SEND_CERTAIN, buttons(ack)[ids.SEND_CERTAIN])
    (record,) = finished(harness)
    assert record.status is AuditStatus.SENT
    assert sent_to(sent) == [(["+33612345678"], typed.removeprefix("+33612345678 "))]
    assert message in sent_to(sent)[0][1]


def test_send_as_shown_texts_both_and_a_second_button_sends_nothing_more(
    harness: SlackHarness, sent: HTTPServer
) -> None:
    ack = harness.command("+33612345678 06 98 76 54 32 is my other phone").json()
    press(harness, ids.SEND_AS_SHOWN, buttons(ack)[ids.SEND_AS_SHOWN])
    finished(harness)
    press(harness, ids.SEND_CERTAIN, buttons(ack)[ids.SEND_CERTAIN])
    harness.slack.wait_for("webhook/command", 3)  # "Sending…", twice, then the answer
    assert sent_to(sent) == [(["+33612345678", "+33698765432"], "is my other phone")]
    assert len(harness.store.recent(limit=5)) == 1


def test_the_question_survives_a_restart(
    make_harness: MakeHarness, sent: HTTPServer
) -> None:
    first = make_harness()
    ack = first.command("+33612345678 0800 123 456 is the hotline").json()
    restarted = make_harness()  # a new process: nothing of the first one in memory
    press(restarted, ids.SEND_CERTAIN, buttons(ack)[ids.SEND_CERTAIN])
    finished(restarted)
    assert sent_to(sent) == [(["+33612345678"], "0800 123 456 is the hotline")]


def test_an_altered_button_value_sends_nothing(
    harness: SlackHarness, sent: HTTPServer
) -> None:
    ack = harness.command("+33612345678 0800 123 456 is the hotline").json()
    value = buttons(ack)[ids.SEND_CERTAIN].replace("+33612345678", "+33698765432")
    press(harness, ids.SEND_CERTAIN, value)
    (reply,) = harness.webhooks()
    assert "expired" in reply["text"]
    assert sent.log == []
    assert harness.store.recent(limit=5) == []


def test_open_the_form_prefills_the_certain_recipients_and_the_message(
    harness: SlackHarness,
) -> None:
    ack = harness.command("+33612345678 0800 123 456 is the hotline").json()
    press(harness, ids.OPEN_FORM_PREFILLED, buttons(ack)[ids.OPEN_FORM_PREFILLED])
    (call,) = harness.slack.wait_for("views.open")
    assert call.args["trigger_id"] == "trigger-button"
    view = call.args["view"]
    view = json.loads(view) if isinstance(view, str) else view
    inputs = {
        block["block_id"]: block["element"].get("initial_value")
        for block in view["blocks"]
        if block["type"] == "input"
    }
    assert inputs[ids.RECIPIENTS_BLOCK] == "+33612345678"
    assert inputs[ids.TEXT_BLOCK] == "0800 123 456 is the hotline"


@pytest.mark.parametrize(
    ("typed", "recipients", "text"),
    [
        ("+33612345678 2024-05-01 outage", ["+33612345678"], "2024-05-01 outage"),
        (
            "db-oncall 192.168.10.12 unreachable",
            ["+33612345678"],
            "192.168.10.12 unreachable",
        ),
        (
            "<tel:+33698765432|+33 6 98 76 54 32> call me back",
            ["+33698765432"],
            "call me back",
        ),
        ("alice\nbob is on his way", ["+33612345678"], "bob is on his way"),
    ],
)
def test_dates_addresses_and_tel_links_are_read_as_typed_and_sent_at_once(
    make_harness: MakeHarness,
    directory: str,
    sent: HTTPServer,
    typed: str,
    recipients: list[str],
    text: str,
) -> None:
    harness = make_harness(directory=directory)
    ack = harness.command(typed).json()
    assert buttons(ack) == {}
    finished(harness)
    assert sent_to(sent) == [(recipients, text)]


def test_an_unknown_name_after_a_comma_is_named_and_nobody_is_texted(
    make_harness: MakeHarness, directory: str, sent: HTTPServer
) -> None:
    harness = make_harness(directory=directory)
    ack = harness.command("alice, bobb Server down").json()
    assert "'bobb'" in all_text(ack)
    (record,) = finished(harness)
    assert record.status is AuditStatus.REJECTED
    assert sent.log == []


@pytest.mark.parametrize(
    ("settings", "typed", "rule"),
    [
        ({"allowed_channels": "C9"}, "+33612345678 hi", "Where SMS may be sent from"),
        ({"allowed_users": "U7"}, "+33612345678 hi", "Who may send SMS"),
        (
            {"max_recipients": 1},
            "+33612345678, +33698765432 hi",
            "Recipients per send",
        ),
    ],
)
def test_policy_refusals_that_need_no_lookup_are_answered_in_the_ack(
    make_harness: MakeHarness,
    sent: HTTPServer,
    settings: dict[str, Any],
    typed: str,
    rule: str,
) -> None:
    harness = make_harness(**settings)
    ack = harness.command(typed).json()
    assert rule in all_text(ack)
    (record,) = finished(harness)
    assert record.status is AuditStatus.REJECTED
    assert sent.log == []
    assert harness.slack.calls("webhook/command") == []


def test_the_ack_makes_no_slack_call_and_only_stores_the_command(
    make_harness: MakeHarness, directory: str
) -> None:
    harness = make_harness(directory=directory)
    deps = harness.stack.paging.deps
    handlers = SmsCommandHandlers(deps, harness.stack.paging)
    answers: list[dict[str, Any]] = []
    before = harness.slack.methods()
    typed = [
        "+33612345678 Disk full",
        "+33612345678 06 98 76 54 32 is my other phone",
        "alice, bobb Server down",
        "<@UALICE|alice> db-oncall hello",
        "+33612345678 " + "x" * 1300,
    ]
    # How fast the ack is is measured by bench/ack.py; this checks what it touches.
    for round_ in range(20):
        for number, text in enumerate(typed):
            handlers.ack(
                lambda **kwargs: answers.append(kwargs),  # type: ignore[arg-type]
                {
                    "text": text,
                    "user_id": "U1",
                    "channel_id": "C1",
                    "team_id": "T1",
                    "trigger_id": f"trigger-{round_}-{number}",
                },
            )
    assert len(answers) == 20 * len(typed)
    assert harness.slack.methods() == before
    assert harness.store.recent(limit=5) == []
    # Its one write: each command stored for the sender, nothing else.
    assert harness.stack.sender is not None
    assert harness.stack.sender.queue.unprocessed() == 20 * len(typed)


def test_a_page_to_several_at_once_is_refused_in_the_ack(
    make_harness: MakeHarness, directory: str
) -> None:
    harness = make_harness(directory=directory)
    ack = harness.command("page db-oncall,alice DB down").json()
    assert "one person, group or rotation at a time" in ack["text"]
    usage = harness.command("page db-oncall,alice").json()
    assert "Usage" in usage["text"]


def test_user_group_members_without_a_phone_are_named_to_the_sender(
    harness: SlackHarness, sent: HTTPServer
) -> None:
    harness.slack.state.usergroups = {"S1": ["UALICE", "UBOB"]}
    harness.command("<!subteam^S1|@team> Disk full")
    finished(harness)
    assert sent_to(sent) == [(["+33612345678"], "Disk full")]
    notes = [
        call.args
        for call in harness.slack.wait_for("webhook/command")
        if "UBOB" in all_text(call.args)
    ]
    (note,) = notes
    assert note["response_type"] == "ephemeral"
    assert "<@UBOB>" in all_text(note["blocks"])
    assert "UALICE" not in all_text(note)
