"""Issue 19 through HTTP: where ``/sms`` recipients end, as Slack delivers the command.

Names, user groups and mentions that could be the message, numbers that vary in length,
the question's buttons (each sends its reading; no risky one is primary; numbers that
cannot take an SMS are flagged), a misspelt sub-command, the ack's mentions.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from bot.domain import AuditStatus
from bot.runtime.slack_app import LISTENER_THREADS
from bot.slack import ids
from tests.conftest import SlackHarness
from tests.slack.listeners.test_command_ack import press, sent_to
from tests.slack.listeners.test_commands import all_text, finished

SEND_PATH = "/v1/public/sms-campaign/send"
MakeHarness = Callable[..., SlackHarness]
DIRECTORY = """\
people:
  alice: {phone: "+33612345678", slack: UALICE}
  bob:   {phone: "06 98 76 54 32"}
  carol: {phone: "+33611111111", slack: UCAROL}
groups:
  dba: {members: [bob, carol]}
"""
ALICE, BOB, CAROL = "+33612345678", "+33698765432", "+33611111111"


@pytest.fixture
def named(make_harness: MakeHarness, tmp_path: Path) -> SlackHarness:
    path = tmp_path / "directory.yml"
    path.write_text(DIRECTORY)
    harness = make_harness(directory=str(path))
    harness.slack.state.profiles["UCAROL"] = {"phone": CAROL, "real_name": "Carol"}
    return harness


def drain(harness: SlackHarness) -> None:
    """Wait until every lazy listener started so far has finished.

    Every worker must reach the barrier at once, so none is still running older work.
    """
    barrier = threading.Barrier(LISTENER_THREADS)
    waits = [
        harness.stack.executor.submit(barrier.wait, 10) for _ in range(LISTENER_THREADS)
    ]
    for wait in waits:
        wait.result(timeout=15)


def send_buttons(ack: dict[str, Any]) -> list[dict[str, Any]]:
    """The send buttons of a question, reading 1 first."""
    return [
        element
        for block in ack.get("blocks") or []
        if block["type"] == "actions"
        for element in block["elements"]
        if element["action_id"] != ids.OPEN_FORM_PREFILLED
    ]


def asked_and_nothing_sent(harness: SlackHarness, typed: str) -> dict[str, Any]:
    """Type ``typed``: the answer is the question, and nothing is sent or recorded."""
    ack: dict[str, Any] = harness.command(typed).json()
    assert ack["response_type"] == "ephemeral"
    assert "Where does your message start?" in all_text(ack)
    drain(harness)
    assert harness.store.recent(limit=5) == []
    return ack


@pytest.mark.parametrize(
    ("typed", "reading", "recipients", "text"),
    [
        ("alice DBA migration at 17:00", 0, [ALICE, BOB, CAROL], "migration at 17:00"),
        ("alice DBA migration at 17:00", 1, [ALICE], "DBA migration at 17:00"),
        (
            "<@UALICE|alice> <@UCAROL|carol> asked me to tell you",
            1,
            [ALICE],
            "@carol asked me to tell you",
        ),
        (
            "<@UALICE|alice> <@UCAROL|carol> asked me to tell you",
            0,
            [ALICE, CAROL],
            "asked me to tell you",
        ),
    ],
)
def test_a_name_or_mention_that_could_be_the_message_is_asked_about(
    named: SlackHarness,
    sent: HTTPServer,
    typed: str,
    reading: int,
    recipients: list[str],
    text: str,
) -> None:
    ack = asked_and_nothing_sent(named, typed)
    assert sent.log == []
    button = send_buttons(ack)[reading]
    press(named, button["action_id"], button["value"])
    (record,) = finished(named)
    assert record.status is AuditStatus.SENT
    drain(named)
    assert sent_to(sent) == [(recipients, text)]


@pytest.mark.parametrize(
    ("typed", "recipients", "text"),
    [
        ("alice Server down", [ALICE], "Server down"),
        ("alice, dba Server down", [ALICE, BOB, CAROL], "Server down"),
        ("<@UALICE|alice>, bob Server down", [ALICE, BOB], "Server down"),
        ("<@UALICE|alice>,<@UCAROL|carol> asked me", [ALICE, CAROL], "asked me"),
        ("alice bob\nServer down", [ALICE, BOB], "Server down"),
        ("+33612345678 dba\nDBA migration", [ALICE, BOB, CAROL], "DBA migration"),
    ],
)
def test_commas_or_a_line_break_send_at_once(
    named: SlackHarness,
    sent: HTTPServer,
    typed: str,
    recipients: list[str],
    text: str,
) -> None:
    ack = named.command(typed).json()
    assert send_buttons(ack) == []
    finished(named)
    drain(named)
    assert sent_to(sent) == [(recipients, text)]


@pytest.mark.parametrize(
    ("reading", "number", "text"),
    [(0, "+436641234563", "disks failed"), (1, "+43664123456", "3 disks failed")],
)
def test_a_digit_that_lengthens_a_number_is_asked_about_and_each_button_sends_its_reading(
    harness: SlackHarness, sent: HTTPServer, reading: int, number: str, text: str
) -> None:
    ack = asked_and_nothing_sent(harness, "+43 664 123456 3 disks failed")
    assert sent.log == []
    buttons = send_buttons(ack)
    assert len(buttons) == 2
    assert all("style" not in button for button in buttons)  # neither is safe
    press(harness, buttons[reading]["action_id"], buttons[reading]["value"])
    finished(harness)
    drain(harness)
    assert sent_to(sent) == [([number], text)]


def test_the_reading_that_texts_a_toll_free_number_is_flagged_and_not_primary(
    harness: SlackHarness, sent: HTTPServer
) -> None:
    ack = asked_and_nothing_sent(harness, "+33612345678 0800 123 456 is the hotline")
    as_typed, certain = send_buttons(ack)
    assert "style" not in as_typed
    assert certain["style"] == "primary"
    text = all_text(ack["blocks"])
    assert "is a toll-free number: it cannot receive SMS" in text
    assert "+33800123456" not in text.replace(" ", "")
    press(harness, certain["action_id"], certain["value"])
    finished(harness)
    drain(harness)
    assert sent_to(sent) == [([ALICE], "0800 123 456 is the hotline")]


def test_a_flagged_number_in_both_readings_makes_no_button_primary(
    harness: SlackHarness, sent: HTTPServer
) -> None:
    ack = asked_and_nothing_sent(harness, "0145678901 0612345678 call me")
    assert all("style" not in button for button in send_buttons(ack))
    text = all_text(ack["blocks"])
    assert text.count("is a landline number: it usually cannot receive SMS") == 2
    assert sent.log == []


@pytest.mark.parametrize(
    ("typed", "meant"),
    [("hlep", "help"), ("Halp", "help"), ("pgae db-oncall DB down", "page")],
)
def test_a_misspelt_sub_command_gets_did_you_mean_and_the_usage(
    named: SlackHarness, sent: HTTPServer, typed: str, meant: str
) -> None:
    before = named.slack.methods()
    ack = named.command(typed).json()
    assert ack["response_type"] == "ephemeral"
    assert f"Did you mean `/sms {meant}`?" in all_text(ack)
    assert "/sms RECIPIENTS MESSAGE" in all_text(ack)  # the usage
    drain(named)
    assert sent.log == []
    assert named.store.recent(limit=5) == []
    looked_up = set(named.slack.methods()[len(before) :])
    assert not looked_up & {"users.profile.get", "usergroups.users.list"}


def test_a_directory_name_close_to_a_sub_command_is_a_recipient(
    make_harness: MakeHarness, tmp_path: Path, sent: HTTPServer
) -> None:
    path = tmp_path / "directory.yml"
    path.write_text('people:\n  paige: {phone: "+33612345678"}\n')
    harness = make_harness(directory=str(path))
    ack = harness.command("paige Server down").json()
    assert "Did you mean" not in all_text(ack)
    finished(harness)
    assert sent_to(sent) == [([ALICE], "Server down")]


def test_the_ack_shows_a_mention_as_slack_does_never_its_escaped_markup(
    harness: SlackHarness, sent: HTTPServer
) -> None:
    ack = harness.command("<@UALICE|alice> Disk full").json()
    assert ack["text"] == "📤 Sending to @alice…"
    assert "<@UALICE>" in all_text(ack["blocks"])
    assert "&lt;" not in all_text(ack)
    finished(harness)
    assert sent_to(sent) == [([ALICE], "Disk full")]
