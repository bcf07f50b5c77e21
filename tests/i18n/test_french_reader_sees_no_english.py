"""A French Slack user reads no English, whatever they type: every answer, every form.

Each scenario drives the real app over HTTP as a French reader (U1, whose fake
``users.info`` locale is ``fr-FR``) and collects everything shown to them: the ack, the
later answers to the command's ``response_url``, ephemeral posts and opened views. The
workspace language stays English, so a channel post is not part of what is checked.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from pytest_httpserver import HTTPServer

from bot.slack import ids
from tests.conftest import SENT, SlackHarness
from tests.i18n.english_words import english_words
from tests.slack.listeners.test_command_ack import buttons, press
from tests.slack.listeners.test_commands import finished, wait_until
from tests.slack.listeners.test_forms import opened_view, state, submission

SEND_PATH = "/v1/public/sms-campaign/send"
BALANCE_PATH = "/v1/public/wallet/check-balance"
MakeHarness = Callable[..., SlackHarness]

DIRECTORY = """\
people:
  alice: {phone: "+33612345678", slack: UALICE}
  bob:   {phone: "06 98 76 54 32"}
groups:
  db-oncall:
    members: [alice, bob]
    rotation: weekly
    start: 2026-11-02T09:00:00+01:00
"""


def answer(response: requests.Response) -> Any:
    """The ack's JSON body, or ``None`` for an empty ack (the answer comes later)."""
    assert response.status_code == 200
    return response.json() if response.content else None


def shown_to_reader(harness: SlackHarness, ack: Any, *, answers: int = 0) -> list[Any]:
    """The ack, then what reached the person afterwards (``answers`` of them at least)."""
    if answers:
        wait_until(
            lambda: (
                len(harness.slack.calls("webhook/command"))
                + len(harness.slack.calls("chat.postEphemeral"))
                >= answers
            )
        )
    later = harness.slack.calls("webhook/command") + harness.slack.calls(
        "chat.postEphemeral"
    )
    return [ack, *(call.args for call in later)]


@pytest.fixture
def french(make_harness: MakeHarness, tmp_path: Path) -> Callable[..., SlackHarness]:
    def make(**sms: Any) -> SlackHarness:
        directory = tmp_path / "directory.yml"
        directory.write_text(DIRECTORY)
        harness = make_harness(directory=str(directory), **sms)
        harness.slack.state.locales = {"U1": "fr-FR", "U2": "en-US"}
        assert harness.stack.languages is not None
        harness.stack.languages.warm()
        return harness

    return make


@pytest.fixture
def sent(httpserver: HTTPServer) -> HTTPServer:
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_json(
        SENT, status=201
    )
    httpserver.expect_request(BALANCE_PATH, method="GET").respond_with_json(
        {"amount": 12.54, "unit": "euros"}
    )
    return httpserver


#: What a French reader types, the settings in force and how many later answers come.
COMMANDS = [
    pytest.param("help", {}, 0, id="help"),
    pytest.param("+3361 disque plein", {}, 0, id="invalid-number"),
    pytest.param("+339 +338 disque plein", {}, 0, id="two-invalid-numbers"),
    pytest.param("+33612345678 " + "x" * 1300, {}, 0, id="text-too-long"),
    pytest.param("+33612345678", {}, 0, id="no-text"),
    pytest.param("alice, bobb disque plein", {}, 0, id="unknown-name"),
    pytest.param("<@UBOB|bob> disque plein", {}, 1, id="mention-without-phone"),
    pytest.param("+33612345678 0800 123 456 est la hotline", {}, 0, id="ambiguous"),
    pytest.param("+33612345678 disque plein", {}, 0, id="sent"),
    pytest.param(
        "+33612345678 disque plein", {"allowed_users": "U7"}, 0, id="not-allowed"
    ),
    pytest.param(
        "+33612345678 disque plein",
        {"allowed_channels": "C9"},
        0,
        id="wrong-channel",
    ),
    pytest.param(
        "+33612345678, +33698765432 disque plein",
        {"max_recipients": 1},
        0,
        id="too-many-recipients",
    ),
    pytest.param("balance", {}, 1, id="balance"),
    pytest.param("history", {}, 1, id="history"),
    pytest.param("oncall", {}, 1, id="oncall"),
    pytest.param("page nosuch disque plein", {}, 1, id="page-unknown-rotation"),
    pytest.param("page db-oncall", {}, 0, id="page-without-text"),
    pytest.param("oncall set nosuch @alice for 4h", {}, 1, id="override-unknown"),
    pytest.param("frobnicate", {}, 0, id="unknown-word"),
]


@pytest.mark.parametrize(("typed", "settings", "answers"), COMMANDS)
def test_every_command_answer_is_french(
    french: Callable[..., SlackHarness],
    sent: HTTPServer,
    typed: str,
    settings: dict[str, Any],
    answers: int,
) -> None:
    harness = french(**settings)
    ack = answer(harness.command(typed))
    shown = shown_to_reader(harness, ack, answers=answers)
    assert english_words(shown, typed=tuple(typed.split())) == []


@pytest.mark.parametrize("typed", ["help", "+3361 disk full", "+33612345678"])
def test_the_check_sees_the_english_an_english_reader_gets(
    french: Callable[..., SlackHarness], typed: str
) -> None:
    harness = french()
    assert english_words(answer(harness.command(typed, user="U2"))) != []


def test_the_note_about_group_members_without_a_phone_is_french(
    french: Callable[..., SlackHarness], sent: HTTPServer
) -> None:
    harness = french()
    harness.slack.state.usergroups = {"S1": ["UALICE", "UBOB"]}
    ack = answer(harness.command("<!subteam^S1|@team> disque plein"))
    finished(harness)
    shown = shown_to_reader(harness, ack, answers=1)
    assert any("UBOB" in str(payload) for payload in shown)
    assert english_words(shown, typed=("disque", "plein")) == []


def test_the_answers_to_the_question_buttons_are_french(
    french: Callable[..., SlackHarness], sent: HTTPServer
) -> None:
    harness = french()
    typed = "+33612345678 0800 123 456 est la hotline"
    ack = answer(harness.command(typed))
    offered = buttons(ack)
    altered = offered[ids.SEND_CERTAIN].replace("+33612345678", "+33698765432")
    press(harness, ids.SEND_CERTAIN, altered)  # refused: the value was tampered with
    press(harness, ids.SEND_CERTAIN, offered[ids.SEND_CERTAIN])
    finished(harness)
    press(harness, ids.SEND_AS_SHOWN, offered[ids.SEND_AS_SHOWN])  # already answered
    shown = shown_to_reader(harness, ack, answers=3)
    assert english_words(shown, typed=tuple(typed.split())) == []


def test_a_rate_limited_second_send_is_refused_in_french(
    french: Callable[..., SlackHarness], sent: HTTPServer
) -> None:
    harness = french(rate_limit="1/hour")
    harness.command("+33612345678 disque plein", trigger="t-1")
    finished(harness)
    ack = answer(harness.command("+33612345678 disque plein", trigger="t-2"))
    shown = shown_to_reader(harness, ack, answers=1)
    assert english_words(shown, typed=("disque", "plein")) == []


def test_the_form_and_its_errors_are_french(
    french: Callable[..., SlackHarness], sent: HTTPServer
) -> None:
    harness = french()
    harness.command("")
    view = opened_view(harness)
    assert english_words(view) == []
    for fields in (
        {"recipients": None, "text": None},
        {"recipients": "+3361, bobb", "text": "x" * 1300},
        {"recipients": "+33612345678", "sender": "Ops-é!", "text": "disque plein"},
        {"recipients": "+33612345678", "send_at": 1_000_000_000},
        {"recipients": "+33612345678", "purpose": "wholesale", "text": "Promo"},
    ):
        body = harness.interact(submission(state(**fields))).json()
        assert body.get("response_action") in ("errors", "update", "push")
        assert english_words(body, typed=("bobb", "Ops-é!", "+3361")) == []
    # A valid form: "checking" in the ack, then the confirmation or "sending" views.
    body = harness.interact(submission(state(text="disque plein"))).json()
    finished(harness)
    updates = [call.args for call in harness.slack.calls("views.update")]
    assert english_words([body, *updates], typed=("disque", "plein")) == []
