"""The result post names the recipients the sender named, and says who did not get it.

Through the real app: a ``/sms`` or a form naming a directory person and a Slack member
posts ``dave (+33 6 •• •• •• 11)`` and ``Alice (+33 6 •• •• •• 78)``; a typed number
stays a masked number. Delivery receipts rebuild the post from the audit store: the
names stay (SQLite and PostgreSQL), and a "not delivered" turns the header into
"SMS sent to 2 of 3".
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from bot.log import mask_number
from bot.sending.recipient_names import RecipientNames
from tests.conftest import SENT, SlackHarness
from tests.slack.listeners.test_commands import finished, wait_until
from tests.slack.listeners.test_forms import state, submission

SEND_PATH = "/v1/public/sms-campaign/send"
MakeHarness = Callable[..., SlackHarness]

ALICE = "+33612345678"  # UALICE's Slack profile phone (tests/conftest.py)
DAVE = "+33611111111"
TYPED = "+33698765432"

DIRECTORY = f"""\
people:
  dave: {{phone: "{DAVE}"}}
groups:
  dba: {{members: [dave]}}
"""


def text_of(args: dict[str, Any]) -> str:
    blocks = args.get("blocks") or []
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    return json.dumps(blocks, ensure_ascii=False) + str(args.get("text"))


def receipt(number: str, status: str) -> str:
    return json.dumps(
        {
            "message_id": SENT["sms_ticket"],
            "number": number,
            "status": status,
            "delivery_date": "2026-12-01 10:00:00",
        }
    )


@pytest.fixture
def start(
    make_harness: MakeHarness, tmp_path: Path, httpserver: HTTPServer
) -> Callable[..., SlackHarness]:
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_json(
        {**SENT, "number_of_contacts": 3}, status=201
    )

    def make(**settings: Any) -> SlackHarness:
        directory = tmp_path / "directory.yml"
        directory.write_text(DIRECTORY)
        return make_harness(directory=str(directory), confirm_above=100, **settings)

    return make


def test_a_command_names_the_people_it_named_and_masks_typed_numbers(
    start: Callable[..., SlackHarness],
) -> None:
    harness = start()
    harness.command(f"{TYPED}, dave, <@UALICE|alice> disk full")
    finished(harness)
    (post,) = harness.slack.wait_for("chat.postMessage")
    text = text_of(post.args)
    assert f"dave ({mask_number(DAVE)})" in text
    assert f"Alice ({mask_number(ALICE)})" in text
    assert mask_number(TYPED) in text
    assert f"({mask_number(TYPED)})" not in text  # no name before it


def test_a_group_names_its_members(start: Callable[..., SlackHarness]) -> None:
    harness = start()
    harness.command("dba disk full")
    finished(harness)
    (post,) = harness.slack.wait_for("chat.postMessage")
    assert f"dave ({mask_number(DAVE)})" in text_of(post.args)


def test_the_form_names_the_people_picked(start: Callable[..., SlackHarness]) -> None:
    harness = start()
    harness.interact(submission(state(recipients=f"{TYPED}, dave", people=["UALICE"])))
    finished(harness)
    (post,) = harness.slack.wait_for("chat.postMessage")
    text = text_of(post.args)
    assert f"dave ({mask_number(DAVE)})" in text
    assert f"Alice ({mask_number(ALICE)})" in text
    assert f"({mask_number(TYPED)})" not in text


def test_a_receipt_keeps_the_names_and_the_header_says_who_did_not_get_it(
    start: Callable[..., SlackHarness], database_url: str
) -> None:
    harness = start(database_url=database_url)
    harness.command(f"{TYPED}, dave, <@UALICE|alice> disk full")
    (record,) = finished(harness)
    wait_until(lambda: harness.store.get(record.id).slack_message_ts)
    assert "SMS sent*" in text_of(harness.slack.calls("chat.postMessage")[0].args)

    harness.callback(receipt(DAVE, "DELIVERED"))
    first = harness.slack.wait_for("chat.update")[-1]
    assert "SMS sent*" in text_of(first.args)  # delivered: nothing to warn about
    harness.callback(receipt(ALICE, "NOT_DELIVERED"))

    def updated_header() -> str | None:
        text = text_of(harness.slack.calls("chat.update")[-1].args)
        return text if "SMS sent to 2 of 3" in text else None

    text = wait_until(updated_header)
    assert "⚠️" in text
    assert f"dave ({mask_number(DAVE)})" in text
    assert f"Alice ({mask_number(ALICE)})" in text


def test_nobody_reached_says_not_delivered(
    start: Callable[..., SlackHarness],
) -> None:
    harness = start()
    harness.command("dave disk full")
    (record,) = finished(harness)
    wait_until(lambda: harness.store.get(record.id).slack_message_ts)
    harness.callback(receipt(DAVE, "NOT_DELIVERED"))

    def header() -> str | None:
        calls = harness.slack.calls("chat.update")
        text = text_of(calls[-1].args) if calls else ""
        return text if "SMS not delivered" in text else None

    assert "❌" in wait_until(header)


def test_purging_the_record_removes_its_names(
    start: Callable[..., SlackHarness], database_url: str
) -> None:
    harness = start(database_url=database_url)
    harness.command("dave disk full")
    (record,) = finished(harness)
    harness.slack.wait_for("chat.postMessage")
    names = RecipientNames(harness.store)
    assert names.of(record.id) == {DAVE: "dave"}
    harness.store.purge(older_than=datetime.now(UTC) + timedelta(days=1))
    assert names.of(record.id) == {}
