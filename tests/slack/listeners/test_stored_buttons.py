"""A ``/sms`` question's send buttons are stored before their ack, and a sender sends.

Before, the press was sent from a lazy listener of the web process: a restart between
the ack and the send lost it. Now the ack stores the press (one row, kind ``button``,
under the sealed request id), and a sender runs it, in this process (``inline``) or in
another instance (``external``); a press delivered twice is stored once, a press that
cannot be stored is answered "nothing was sent" and sends nothing, and a press run
again after its sender died texts once.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from bot.domain import AuditStatus
from bot.errors import AuditStoreError
from bot.slack import ids
from tests.conftest import SlackHarness
from tests.runtime.test_sender import wait_until
from tests.slack.listeners.stored_actions import (
    MakeHarness,
    run_and_die,
    run_elsewhere,
    stored,
)
from tests.slack.listeners.test_command_ack import buttons, press
from tests.slack.listeners.test_commands import finished

SEND_PATH = "/v1/public/sms-campaign/send"
AMBIGUOUS = "+33612345678 0800 123 456 is the hotline"


def octopush_bodies(httpserver: HTTPServer) -> list[dict[str, Any]]:
    return [json.loads(request.get_data()) for request, _ in httpserver.log]


def test_a_press_is_stored_by_its_ack_and_sent_by_a_sender_of_another_instance(
    make_harness: MakeHarness, database_url: str, sent: HTTPServer
) -> None:
    web = make_harness(database_url=database_url, sender="external")
    ack = web.command(AMBIGUOUS).json()
    press(web, ids.SEND_CERTAIN, buttons(ack)[ids.SEND_CERTAIN])
    web.settle()
    assert sent.log == [], "the web process only stores"
    assert web.slack.calls("webhook/command") == []
    (row,) = stored(web, "button")
    assert row["processed_at"] is None
    payload = row["payload"]
    assert payload["user"] == {"id": "U1"} and payload["channel"] == {"id": "C1"}
    assert payload["actions"][0]["action_id"] == ids.SEND_CERTAIN
    assert payload["response_url"] == web.slack.webhook_url("command")
    assert "token" not in json.dumps(payload)

    run_elsewhere(make_harness, database_url)
    web.settle()
    (body,) = octopush_bodies(sent)
    assert body["recipients"] == [{"phone_number": "+33612345678"}]
    assert body["text"] == "0800 123 456 is the hotline"
    (replaced,) = web.webhooks()
    assert replaced["replace_original"] is True and replaced["text"] == "Sending…"
    (post,) = web.slack.wait_for("chat.postMessage")
    assert post.args["channel"] == "C1"
    assert "sms_5fec89fe97109" in json.dumps(post.args)
    (record,) = finished(web)
    assert record.status is AuditStatus.SENT and record.slack_user_id == "U1"
    (row,) = stored(web, "button")
    assert row["outcome"] == "run" and row["body"] == b""


def test_a_press_delivered_twice_is_stored_once_and_texts_once(
    make_harness: MakeHarness, database_url: str, sent: HTTPServer
) -> None:
    harness = make_harness(database_url=database_url)
    ack = harness.command(AMBIGUOUS).json()
    value = buttons(ack)[ids.SEND_CERTAIN]
    press(harness, ids.SEND_CERTAIN, value)
    finished(harness)
    press(harness, ids.SEND_CERTAIN, value)
    harness.settle()
    assert len(stored(harness, "button")) == 1
    assert len(sent.log) == 1
    assert len(harness.store.recent(limit=5)) == 1
    replies = [call.args for call in harness.slack.calls("webhook/command")]
    assert "already handled" in replies[-1]["text"]
    assert len(harness.slack.calls("chat.postMessage")) == 1


def test_a_press_that_cannot_be_stored_says_nothing_was_sent_and_sends_nothing(
    harness: SlackHarness, sent: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    ack = harness.command(AMBIGUOUS).json()
    sender = harness.stack.sender
    assert sender is not None

    def down(*args: object) -> int:
        raise AuditStoreError("database is locked")

    monkeypatch.setattr(sender.queue, "put_command", down)
    press(harness, ids.SEND_CERTAIN, buttons(ack)[ids.SEND_CERTAIN])
    (reply,) = harness.webhooks()
    harness.settle()
    assert reply["response_type"] == "ephemeral"
    assert reply["replace_original"] is False  # the question stays, to press again
    assert reply["text"].startswith("Nothing was sent")
    assert len(harness.slack.calls("webhook/command")) == 1  # no "Sending…"
    assert sent.log == []
    assert harness.store.recent(limit=5) == []
    assert stored(harness, "button") == []


def test_a_press_run_again_after_its_sender_died_does_not_text_twice(
    make_harness: MakeHarness, database_url: str, sent: HTTPServer
) -> None:
    web = make_harness(database_url=database_url, sender="external")
    ack = web.command(AMBIGUOUS).json()
    press(web, ids.SEND_CERTAIN, buttons(ack)[ids.SEND_CERTAIN])
    web.settle()
    (row,) = stored(web, "button")
    run_and_die(web, row)
    assert len(sent.log) == 1

    run_elsewhere(make_harness, database_url)
    web.settle()
    assert len(sent.log) == 1
    (record,) = finished(web)
    assert record.status is AuditStatus.SENT
    replies = [call.args for call in web.slack.calls("webhook/command")]
    assert "already handled" in replies[-1]["text"]
    (row,) = stored(web, "button")
    assert row["attempts"] == 2 and row["outcome"] == "run"


def test_a_large_sends_confirmation_is_stored_and_sent(
    make_harness: MakeHarness, sent: HTTPServer
) -> None:
    harness = make_harness(confirm_above="1")
    harness.command("+33612345678, +33698765432 hello")
    (prompt,) = harness.webhooks()
    press(harness, ids.CONFIRM_SEND, buttons(prompt)[ids.CONFIRM_SEND])
    (record,) = finished(harness)
    assert record.status is AuditStatus.SENT
    harness.settle()
    (row,) = stored(harness, "button")
    assert row["outcome"] == "run"
    (body,) = octopush_bodies(sent)
    assert len(body["recipients"]) == 2
    wait_until(lambda: harness.slack.calls("chat.postMessage"))
