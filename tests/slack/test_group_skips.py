"""A group with an opted-out or phone-less member still reaches the others (issue 19
item 5): Slack user groups and directory groups, through signed ``/sms`` requests, on
SQLite and PostgreSQL. A number or a person named on their own that opted out is still
refused whole.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from bot.audit import OptOutList
from bot.domain import AuditStatus
from tests.conftest import SENT, SlackHarness
from tests.slack.listeners.test_commands import all_text, finished, octopush_bodies
from tests.slack.listeners.test_forms import state, submission

SEND_PATH = "/v1/public/sms-campaign/send"
DIRECTORY = """\
people:
  alice: {phone: "+33612345678", slack: UALICE}
  dave:  {phone: "+33698765432"}
  erin:  {phone: "+33611111111"}
groups:
  dba: {members: [alice, dave]}
  night: {members: [dave, erin]}
"""
DAVE = "+33698765432"
CAROL = "+41791234567"


@pytest.fixture
def harness(
    make_harness: Callable[..., SlackHarness],
    database_url: str,
    httpserver: HTTPServer,
    tmp_path: Path,
) -> SlackHarness:
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_json(
        SENT, status=201
    )
    path = tmp_path / "directory.yml"
    path.write_text(DIRECTORY)
    made = make_harness(database_url=database_url, directory=str(path))
    made.slack.state.profiles["UCAROL"] = {"display_name": "carol", "phone": CAROL}
    # UALICE (in the directory), UBOB (no phone), UCAROL (profile phone).
    made.slack.state.usergroups = {"S1": ["UALICE", "UBOB", "UCAROL"]}
    return made


def sent_to(httpserver: HTTPServer) -> list[list[str]]:
    return [
        [r["phone_number"] for r in body["recipients"]]
        for body in octopush_bodies(httpserver)
    ]


def note_about(harness: SlackHarness, needle: str) -> str:
    """The ephemeral note (after the result) that mentions ``needle``."""
    calls = harness.slack.wait_for("webhook/command")
    (note,) = [c.args for c in calls if needle in all_text(c.args)]
    assert note["response_type"] == "ephemeral"
    return all_text(note["blocks"])


def test_a_user_group_skips_the_opted_out_and_the_phoneless_and_names_them(
    harness: SlackHarness, httpserver: HTTPServer
) -> None:
    OptOutList(harness.store).add(CAROL, source="octopush")
    harness.command("<!subteam^S1|@ops-team> Disk full")
    (record,) = finished(harness)
    assert record.status is AuditStatus.SENT
    assert sent_to(httpserver) == [["+33612345678"]]
    assert record.recipients == ["+33612345678"]
    note = note_about(harness, "UCAROL")
    assert "<@UCAROL> replied STOP" in note
    assert "<@UBOB> has no phone number in their Slack profile" in note
    assert "UALICE" not in note
    assert CAROL not in note  # named, not numbered


def test_a_member_whose_profile_phone_cannot_be_read_for_sure_is_skipped(
    harness: SlackHarness, httpserver: HTTPServer
) -> None:
    # National form, and Slack gives no time zone: no country to read it in.
    harness.slack.state.profiles["UDAN"] = {
        "display_name": "dan",
        "phone": "079 123 45 67",
    }
    harness.slack.state.usergroups = {"S1": ["UALICE", "UDAN"]}
    harness.command("<!subteam^S1|@ops-team> Disk full")
    (record,) = finished(harness)
    assert record.status is AuditStatus.SENT
    assert sent_to(httpserver) == [["+33612345678"]]
    note = note_about(harness, "UDAN")
    assert "<@UDAN> has a profile phone without its country code" in note


def test_a_directory_group_skips_an_opted_out_member_and_names_them(
    harness: SlackHarness, httpserver: HTTPServer
) -> None:
    OptOutList(harness.store).add(DAVE, source="octopush")
    harness.command("dba Disk full")
    (record,) = finished(harness)
    assert record.status is AuditStatus.SENT
    assert sent_to(httpserver) == [["+33612345678"]]
    note = note_about(harness, "dave")
    assert "dave replied STOP" in note


def test_the_form_names_the_skipped_members_of_a_group_too(
    harness: SlackHarness, httpserver: HTTPServer
) -> None:
    OptOutList(harness.store).add(DAVE, source="octopush")
    harness.interact(submission(state(recipients="dba", text="Disk full")))
    (record,) = finished(harness)
    assert record.status is AuditStatus.SENT
    assert sent_to(httpserver) == [["+33612345678"]]
    (note,) = harness.slack.wait_for("chat.postEphemeral")
    assert note.args["user"] == "U1"
    assert "dave replied STOP" in all_text(note.args)


def test_when_every_member_is_skipped_nothing_is_sent_and_each_reason_is_said(
    harness: SlackHarness, httpserver: HTTPServer
) -> None:
    harness.slack.state.usergroups = {"S2": ["UBOB", "UCAROL"]}
    OptOutList(harness.store).add(CAROL, source="octopush")
    harness.command("<!subteam^S2|@night-team> Disk full")
    (reply,) = harness.webhooks()
    text = all_text(reply)
    assert "Nobody in" in text
    assert "@carol replied STOP" in text
    assert "Bob has no phone number in their Slack profile" in text
    (record,) = finished(harness)
    assert record.status is AuditStatus.REJECTED
    assert httpserver.log == []


def test_a_directory_group_whose_members_all_opted_out_sends_nothing(
    harness: SlackHarness, httpserver: HTTPServer
) -> None:
    for number in (DAVE, "+33611111111"):
        OptOutList(harness.store).add(number, source="octopush")
    harness.command("night Disk full")
    (reply,) = harness.webhooks()
    text = all_text(reply)
    assert "Nobody in night can be texted" in text
    assert "dave replied STOP" in text and "erin replied STOP" in text
    (record,) = finished(harness)
    assert record.status is AuditStatus.REJECTED
    assert httpserver.log == []


@pytest.mark.parametrize("typed", [DAVE, "dave", "dba, +33698765432"])
def test_an_opted_out_number_or_person_named_directly_is_still_refused(
    harness: SlackHarness, httpserver: HTTPServer, typed: str
) -> None:
    OptOutList(harness.store).add(DAVE, source="octopush")
    harness.command(f"{typed} Disk full")
    (record,) = finished(harness)
    assert record.status is AuditStatus.REJECTED
    assert "STOP" in (record.error_message or "")
    assert httpserver.log == []
