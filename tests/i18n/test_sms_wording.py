"""Words the bot adds to an SMS follow SMS_LANGUAGE; the text a person typed never changes."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from tests.conftest import SENT, SlackHarness

SEND_PATH = "/v1/public/sms-campaign/send"
DIRECTORY = """\
people:
  alice: {phone: "+33612345678"}
  bob:   {phone: "+33698765432"}
groups:
  db-oncall:
    members: [alice, bob]
    rotation: weekly
    start: 2026-11-02T09:00:00+01:00
    escalate_after: 1s
"""


def sent_texts(httpserver: HTTPServer) -> list[str]:
    return [json.loads(request.get_data())["text"] for request, _ in httpserver.log]


def wait_for_sends(httpserver: HTTPServer, count: int) -> None:
    deadline = time.monotonic() + 5
    while len(httpserver.log) < count and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(httpserver.log) >= count


@pytest.mark.parametrize(
    ("language", "note"),
    [
        ("fr", "(escalade : {first} n'a pas acquitté)"),
        ("en", "(escalated: {first} did not acknowledge)"),
    ],
)
def test_escalation_note_follows_sms_language_and_keeps_the_typed_text(
    make_harness: Callable[..., SlackHarness],
    httpserver: HTTPServer,
    tmp_path: Path,
    language: str,
    note: str,
) -> None:
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_json(
        SENT, status=201
    )
    directory = tmp_path / "directory.yml"
    directory.write_text(DIRECTORY)
    harness = make_harness(directory=str(directory), language=language)
    typed = "Réplication en retard: check db-2 now"
    harness.command(f"page db-oncall {typed}")
    wait_for_sends(httpserver, 1)
    harness.slack.wait_for("chat.postMessage")
    deadline = time.monotonic() + 10
    escalations: list[object] = []
    while not escalations and time.monotonic() < deadline:
        time.sleep(0.2)
        escalations = list(harness.stack.escalations.run_escalations())
    assert escalations, "the page never escalated"
    first_member = harness.stack.escalations.pager.plan("db-oncall").members[0]
    first, second = sent_texts(httpserver)[:2]
    # The page SMS keeps the typed text whole, after its number (issue 20).
    assert first.startswith(f"[sms-bot #1] {typed}. ")
    assert "ACK 1" in first
    assert second == f"{first} {note.format(first=first_member)}"
