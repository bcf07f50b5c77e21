"""A stored ``/sms`` send keeps the ack's reading and its verdict, so the sender does not
parse it or judge it again.

A row stored by an earlier version (no reading, no verdict) or with a reading that cannot
be read is parsed and judged again by the sender, and still sent.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

import bot.slack.listeners.commands as commands
from bot.domain import AuditStatus
from bot.errors import InputError, PolicyError
from bot.slack.command_reading import READING, REFUSED
from bot.slack.grammar import SmsCommand
from tests.slack.listeners.stored_actions import MakeHarness, run_elsewhere, stored

SEND_PATH = "/v1/public/sms-campaign/send"
AMBIGUOUS = "+33612345678 0800 123 456 is the hotline"


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The texts ``/sms`` parsed, in whichever harness."""
    seen: list[str] = []
    real = commands.parse_sms_command

    def counted(text: str, **kw: Any) -> SmsCommand:
        seen.append(text)
        return real(text, **kw)

    monkeypatch.setattr(commands, "parse_sms_command", counted)
    return seen


@pytest.fixture
def judged(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, ...]]:
    """The recipients of every ``/sms`` judged without lookups, in whichever harness."""
    seen: list[tuple[str, ...]] = []
    real = commands.precheck

    def counted(draft: Any, **kw: Any) -> InputError | PolicyError | None:
        seen.append(tuple(draft.recipients))
        return real(draft, **kw)

    monkeypatch.setattr(commands, "precheck", counted)
    return seen


def octopush_bodies(httpserver: HTTPServer) -> list[dict[str, Any]]:
    return [json.loads(request.get_data()) for request, _ in httpserver.log]


def test_the_sender_sends_the_acks_reading_without_parsing_again(
    make_harness: MakeHarness, database_url: str, sent: HTTPServer, parses: list[str]
) -> None:
    web = make_harness(database_url=database_url, sender="external")
    web.command("+33612345678 Disk full on db-1")
    web.settle()
    (row,) = stored(web, "send")
    assert row["payload"][READING] == [[["+33612345678"], "Disk full on db-1"]]
    assert row["payload"]["text"] == "+33612345678 Disk full on db-1"  # older senders

    run_elsewhere(make_harness, database_url)
    (body,) = octopush_bodies(sent)
    assert body["recipients"] == [{"phone_number": "+33612345678"}]
    assert body["text"] == "Disk full on db-1"
    assert parses == ["+33612345678 Disk full on db-1"], "parsed by the ack only"


def test_an_ambiguous_command_keeps_every_reading_and_waits_for_a_button(
    make_harness: MakeHarness, database_url: str, sent: HTTPServer, parses: list[str]
) -> None:
    web = make_harness(database_url=database_url, sender="external")
    web.command(AMBIGUOUS)
    web.settle()
    (row,) = stored(web, "send")
    kept = row["payload"][READING]
    assert len(kept) > 1 and kept[0][0][0] == "+33612345678"
    run_elsewhere(make_harness, database_url)
    assert sent.log == []  # a button sends it
    assert parses == [AMBIGUOUS]


@pytest.mark.parametrize(
    "reading",
    [None, "not a list", [[[], "no one"]], [[["+33612345678"], 3]]],
    ids=["stored-by-an-earlier-version", "a-string", "no-recipient", "not-a-text"],
)
def test_a_row_without_a_usable_reading_is_parsed_by_the_sender_and_sent(
    make_harness: MakeHarness,
    database_url: str,
    sent: HTTPServer,
    parses: list[str],
    caplog: pytest.LogCaptureFixture,
    reading: object,
) -> None:
    web = make_harness(database_url=database_url, sender="external")
    sender = web.stack.sender
    assert sender is not None
    command: dict[str, Any] = {
        "team_id": "T1",
        "channel_id": "C1",
        "user_id": "U1",
        "command": "/sms",
        "text": "+33612345678 Disk full",
        "trigger_id": "trigger-old-row",
    }
    if reading is not None:
        command[READING] = reading
    assert sender.store("send", "slack-command-old-row", command) is not None
    with caplog.at_level(logging.WARNING, logger="bot.slack.command_reading"):
        run_elsewhere(make_harness, database_url)
    (body,) = octopush_bodies(sent)
    assert body["recipients"] == [{"phone_number": "+33612345678"}]
    assert body["text"] == "Disk full"
    assert parses == ["+33612345678 Disk full"], "parsed by the sender"
    unreadable = "unreadable reading" in caplog.text
    assert unreadable is (reading is not None)


def test_the_sender_takes_the_acks_verdict_without_judging_again(
    make_harness: MakeHarness, database_url: str, sent: HTTPServer, judged: list[Any]
) -> None:
    web = make_harness(database_url=database_url, sender="external")
    web.command("+33612345678 Disk full on db-1")
    web.settle()
    (row,) = stored(web, "send")
    assert row["payload"][REFUSED] is False
    run_elsewhere(make_harness, database_url)
    assert len(sent.log) == 1
    assert judged == [("+33612345678",)], "judged by the ack only"


def test_a_send_the_ack_refused_is_recorded_refused_by_the_sender_without_a_second_judgement(
    make_harness: MakeHarness, database_url: str, sent: HTTPServer, judged: list[Any]
) -> None:
    web = make_harness(database_url=database_url, sender="external", allowed_users="U2")
    ack = web.command("+33612345678 Disk full on db-1", user="U1").json()
    assert "not allowed to send SMS" in json.dumps(ack)
    web.settle()
    (row,) = stored(web, "send")
    assert row["payload"][REFUSED] is True
    second = run_elsewhere(make_harness, database_url, allowed_users="U2")
    assert sent.log == []
    (record,) = second.stack.service.store.recent(limit=5)
    assert record.status is AuditStatus.REJECTED
    assert record.error_code == "policy:SMS_ALLOWED_USERS"
    assert judged == [("+33612345678",)], "judged by the ack only"


def test_a_row_stored_without_a_verdict_is_judged_by_the_sender(
    make_harness: MakeHarness, database_url: str, sent: HTTPServer, judged: list[Any]
) -> None:
    web = make_harness(database_url=database_url, sender="external")
    sender = web.stack.sender
    assert sender is not None
    command = {
        "team_id": "T1",
        "channel_id": "C1",
        "user_id": "U1",
        "command": "/sms",
        "text": "+33612345678 Disk full",
        "trigger_id": "trigger-no-verdict",
        READING: [[["+33612345678"], "Disk full"]],
    }
    assert sender.store("send", "slack-command-no-verdict", command) is not None
    run_elsewhere(make_harness, database_url)
    assert len(sent.log) == 1
    assert judged == [("+33612345678",)], "judged by the sender"
