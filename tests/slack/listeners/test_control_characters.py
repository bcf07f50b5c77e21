"""A NUL byte (or another control character) in a text is bad input, on every database.

Issue 18 item 8: on PostgreSQL ``/sms +33… hi\\x00`` answered "Something went wrong" and
left no audit record (PostgreSQL's text cannot hold a NUL); on SQLite it was sent. Now
both refuse it in the ack with a plain answer, send nothing, and audit the refusal with
the NUL written as ``␀``.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pytest_httpserver import HTTPServer

from bot.audit.engine import NUL_STORED
from bot.domain import AuditStatus
from bot.errors import InputError
from bot.sending.rules import check_text
from bot.slack import ids
from tests.conftest import SlackHarness
from tests.slack.listeners.test_commands import all_text, finished
from tests.slack.listeners.test_forms import state, submission

MakeHarness = Callable[..., SlackHarness]


@pytest.mark.parametrize("text", ["hi\x00there", "\x00", "bell\x07", "esc\x1b[0m"])
def test_check_text_refuses_control_characters_plainly(text: str) -> None:
    with pytest.raises(InputError) as refused:
        check_text(text)
    message = refused.value.problems["text"]
    assert "control character" in message
    assert "\x00" not in message


@pytest.mark.parametrize("text", ["two\nlines", "tab\there", "crlf\r\nok"])
def test_line_breaks_and_tabs_are_ordinary_text(text: str) -> None:
    assert check_text(text) == text


@pytest.mark.parametrize(
    "typed", ["+33612345678 Disk\x00full", "+33612345678 bell\x07 ring"]
)
def test_a_control_character_is_refused_in_the_ack_and_audited_on_every_database(
    make_harness: MakeHarness,
    database_url: str,
    httpserver: HTTPServer,
    typed: str,
) -> None:
    harness = make_harness(database_url=database_url)
    response = harness.command(typed)
    assert response.status_code == 200
    answer = response.json()
    assert answer["response_type"] == "ephemeral"
    assert "control character" in all_text(answer)
    (record,) = finished(harness)
    harness.stack.executor.shutdown(wait=True)  # the lazy listener is done
    assert record.status is AuditStatus.REJECTED
    assert record.text == typed.split(" ", 1)[1].replace("\x00", NUL_STORED)
    assert httpserver.log == []  # Octopush never called
    said = [call.args for call in harness.slack.state.calls]
    assert "went wrong" not in all_text(said).lower()


def test_a_nul_in_a_recipient_is_refused_and_audited_on_every_database(
    make_harness: MakeHarness, database_url: str, httpserver: HTTPServer
) -> None:
    harness = make_harness(database_url=database_url)
    response = harness.command("+33612345678\x00 Disk full")
    assert response.status_code == 200
    assert response.json()["response_type"] == "ephemeral"
    (record,) = finished(harness)
    harness.stack.executor.shutdown(wait=True)
    assert record.status is AuditStatus.REJECTED
    assert httpserver.log == []
    said = [call.args for call in harness.slack.state.calls]
    assert "went wrong" not in all_text(said).lower()


def test_a_nul_in_the_form_shows_under_the_message_and_sends_nothing(
    harness: SlackHarness, httpserver: HTTPServer
) -> None:
    response = harness.interact(submission(state(text="Disk\x00full")))
    assert response.status_code == 200
    answer = response.json()
    assert answer["response_action"] == "errors"
    assert "control character" in answer["errors"][ids.TEXT_BLOCK]
    harness.stack.executor.shutdown(wait=True)
    assert httpserver.log == []
