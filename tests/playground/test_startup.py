"""The playground starts clean and speaks each person's language from the first answer.

The Slack stand-in answers ``users.list`` (with locales), as Slack does: the app reads
everyone's language at start, so nothing is logged that looks like a broken install,
and French Bob's very first ``/sms help`` is French.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from slack_sdk import WebClient

from bot.playground.app import Playground
from tests.playground.conftest import Running, text_of, wait_for


def test_users_list_gives_every_member_with_their_locale(running: Running) -> None:
    api = WebClient(
        token=running.playground.keys.bot_token, base_url=f"{running.base}/slack-api/"
    )
    members = api.users_list(include_locale=True)["members"]
    locales = {member["id"]: member["locale"] for member in members}
    assert locales["U0BOB"] == "fr-FR"
    assert {"U0ALICE", "U0BOB", "U0CAROL"} <= set(locales)
    assert "locale" not in api.users_list()["members"][0]


def test_start_logs_no_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.chdir(tmp_path)
    caplog.set_level(logging.WARNING)
    playground = Playground(port=0, workdir=tmp_path, receipt_delay=0.2)
    try:
        playground.start()
        assert playground.slack is not None
        assert "users.list" in playground.slack.calls
    finally:
        playground.stop()
    assert [
        r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING
    ] == []


def test_french_bobs_first_answer_is_french(running: Running) -> None:
    running.ui("message", user="U0BOB", channel="C0OPS", text="/sms help")
    answers = wait_for(
        lambda: [m for m in running.messages("U0BOB") if m.get("ephemeral")]
    )
    text = text_of(answers[0])
    assert "Envoyer des SMS depuis Slack" in text
    assert "Send SMS from Slack" not in text
