"""``/sms history`` lists the channel's sends: each with the start of its text, numbers
masked; a refused command is not a send, so it is neither listed nor counted."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pytest_httpserver import HTTPServer

from bot.log import mask_number
from tests.conftest import SENT, SlackHarness
from tests.slack.listeners.test_commands import all_text, finished, wait_until

SEND_PATH = "/v1/public/sms-campaign/send"
MakeHarness = Callable[..., SlackHarness]


def history(harness: SlackHarness, typed: str = "history") -> str:
    before = len(harness.slack.calls("webhook/command"))
    harness.command(typed, trigger="t-history")
    replies = harness.webhooks(before + 1)
    return all_text(replies[-1])


def test_history_lists_sends_with_a_snippet_and_leaves_refusals_out(
    make_harness: MakeHarness, httpserver: HTTPServer
) -> None:
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_json(
        SENT, status=201
    )
    harness = make_harness(blocked_numbers="+33698765432")
    harness.command(
        "+33612345678 Disk full on db-1, call me at 06 11 22 33 44 now please",
        trigger="t-1",
    )
    finished(harness)
    harness.slack.wait_for("chat.postMessage")
    for n in range(3):  # refused: nothing sent, nothing to list
        harness.command("0698765432 Disk full", trigger=f"t-r{n}")
    wait_until(lambda: len(harness.store.recent(limit=10)) == 4)

    text = history(harness, "history 1")
    assert "Last 1 send in this channel" in text
    assert mask_number("+33612345678") in text
    assert "“Disk full on db-1, call me at 0" in text
    assert "11 22 33" not in text  # a number in the text is masked too
    assert "…" in text  # the text is cut
    assert "rejected" not in text and "0•••" not in text
    assert "98 76 54 32" not in text


def test_a_channel_with_only_refusals_has_no_sends(make_harness: MakeHarness) -> None:
    harness = make_harness(allowed_users="U7")
    harness.command("+33612345678 hello", trigger="t-1")
    wait_until(lambda: len(harness.store.recent(limit=10)) == 1)
    assert "No SMS sent from this channel yet" in history(harness)


def test_a_redacted_text_is_said_not_kept(
    make_harness: MakeHarness, httpserver: HTTPServer
) -> None:
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_json(
        SENT, status=201
    )
    harness = make_harness(audit_redact_text=True)
    harness.command("+33612345678 secret words", trigger="t-1")
    finished(harness)
    wait_until(lambda: harness.store.recent(limit=1)[0].text is None)
    text = history(harness)
    assert "text not kept" in text and "secret words" not in text


def test_history_names_the_recipients_the_post_named(
    make_harness: MakeHarness, httpserver: HTTPServer, tmp_path: Path
) -> None:
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_json(
        SENT, status=201
    )
    directory = tmp_path / "directory.yml"
    directory.write_text('people:\n  dave: {phone: "+33611111111"}\n')
    harness = make_harness(directory=str(directory))
    harness.command("dave, +33698765432 disk full", trigger="t-1")
    finished(harness)
    harness.slack.wait_for("chat.postMessage")
    text = history(harness)
    assert f"dave ({mask_number('+33611111111')})" in text
    assert mask_number("+33698765432") in text
    assert f"({mask_number('+33698765432')})" not in text  # typed: no name
