"""Issue 22: a rotation's ``call_after`` (the voice step), read from the directory."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.directory.files import parse_directory
from bot.directory.model import DirectoryError
from bot.directory.report import check_report

PEOPLE = """\
people:
  alice: {phone: "+33612345678"}
  bob: {phone: "+33698765432"}
"""


def rotation(extra: str) -> str:
    return PEOPLE + (
        "groups:\n  db-oncall:\n    members: [alice, bob]\n    rotation: weekly\n"
        "    start: 2026-11-02T09:00:00+01:00\n" + extra
    )


def problems(text: str) -> list[str]:
    with pytest.raises(DirectoryError) as excinfo:
        parse_directory(text, region="FR")
    return excinfo.value.problems


def test_call_after_is_read_and_shown_by_directory_check() -> None:
    text = rotation("    escalate_after: 5m\n    call_after: 2m\n")
    directory = parse_directory(text, region="FR")
    assert directory.rotations["db-oncall"].call_after == timedelta(minutes=2)
    report = check_report(directory, datetime(2026, 11, 10, 12, tzinfo=UTC))
    assert "db-oncall (weekly, Europe/Paris, escalates after 5m, calls after 2m)" in (
        report
    )


def test_without_call_after_nobody_is_called() -> None:
    directory = parse_directory(rotation("    escalate_after: 5m\n"), region="FR")
    assert directory.rotations["db-oncall"].call_after is None


def test_a_bad_call_after_is_named_with_its_line() -> None:
    assert problems(rotation("    call_after: soon\n")) == [
        "line 9, groups.db-oncall.call_after: 'soon' is not a duration; write "
        "daily, weekly, or a number and unit such as 12h, 30m, 90s, 2d, 1w or 1h30m"
    ]


def test_a_call_after_the_escalation_is_refused() -> None:
    found = problems(rotation("    escalate_after: 2m\n    call_after: 5m\n"))
    assert found == [
        "line 10, groups.db-oncall.call_after: call_after must be shorter than "
        "escalate_after"
    ]


def test_call_after_belongs_to_rotations_only() -> None:
    text = PEOPLE + "groups:\n  dba:\n    members: [alice]\n    call_after: 2m\n"
    assert problems(text)[0].startswith(
        "line 7, groups.dba.call_after: only rotations have it"
    )


def test_the_call_text_is_written_for_the_ear() -> None:
    from datetime import datetime

    from bot.audit.pages import Page, PageState
    from bot.i18n import translator
    from bot.paging.voice import call_text

    page = Page(
        id=12,
        created_at=datetime(2026, 11, 24, tzinfo=UTC),
        target="db-oncall",
        text="🔥 Primary DB   down\non db-1",
        slack_team_id=None,
        slack_user_id=None,
        slack_channel_id=None,
        slack_message_ts=None,
        members=("alice", "bob"),
        member_index=0,
        audit_ids=(),
        state=PageState.OPEN,
        escalate_after=None,
        next_escalation_at=None,
        acknowledged_by=None,
        acknowledged_at=None,
        version=1,
    )
    text = call_text(page, "alice", translator("en"), ack_word="ACK")
    assert text == (
        "Hello alice. You are paged for db-oncall. Primary DB down on db-1. "
        "Page number one, two. "
        "To acknowledge, reply ACK 12 by SMS, or press 1. "
        "To acknowledge, reply ACK 12 by SMS, or press 1."
    )
