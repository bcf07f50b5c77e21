"""The send form's submission and its large-send confirmation are stored before their
ack, and a sender checks and sends them.

Before, both were run by a lazy listener of the web process: a restart between the ack
("checking…", or the closed confirmation) and the send lost them. Now the ack stores
the submission (kind ``form``) or the confirmation (kind ``form-confirm``) in one
insert, still with no other I/O, and a sender runs it, in this process (``inline``) or
in another instance (``external``). A double submit is stored once; a form submitted
again after its problems were shown is stored again; a store that fails says nothing
was sent and sends nothing; a run again after a sender died texts once.
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
from tests.slack.listeners.stored_actions import (
    MakeHarness,
    run_and_die,
    run_elsewhere,
    stored,
)
from tests.slack.listeners.test_commands import all_text, finished
from tests.slack.listeners.test_forms import as_dict, state, submission

SEND_PATH = "/v1/public/sms-campaign/send"
TWO = "+33612345678, +33698765432"


def submit(harness: SlackHarness, form: dict[str, Any]) -> dict[str, Any]:
    response = harness.interact(form)
    assert response.status_code == 200
    answer: dict[str, Any] = response.json()
    return answer


def confirm(harness: SlackHarness, confirmation: dict[str, Any]) -> dict[str, Any]:
    """Press Send on the confirmation view (as Slack sends it: the form's view id)."""
    return submit(
        harness,
        {
            "type": "view_submission",
            "token": "legacy",
            "team": {"id": "T1"},
            "user": {"id": "U1"},
            "view": {
                **confirmation,
                "id": "V1",
                "root_view_id": "V1",
                "hash": "h-confirm",
                "state": {"values": {}},
            },
        },
    )


def updates(harness: SlackHarness) -> list[dict[str, Any]]:
    return [as_dict(call.args["view"]) for call in harness.slack.calls("views.update")]


def test_a_submission_is_stored_by_its_ack_and_sent_by_a_sender_of_another_instance(
    make_harness: MakeHarness, database_url: str, sent: HTTPServer
) -> None:
    web = make_harness(database_url=database_url, sender="external")
    form = {**submission(state()), "token": "legacy"}
    answer = submit(web, form)
    assert answer["response_action"] == "update"  # "checking…", at once
    assert answer["view"]["callback_id"] == ids.CHECKING_MODAL
    web.settle()
    assert sent.log == [], "the web process only stores"
    assert web.slack.calls("views.update") == []
    (row,) = stored(web, "form")
    payload = row["payload"]
    assert payload["user"] == {"id": "U1"} and payload["team"] == {"id": "T1"}
    assert payload["view"]["id"] == "V1" and payload["view"]["hash"] == "h1"
    assert payload["view"]["state"] == form["view"]["state"]
    assert "token" not in payload

    run_elsewhere(make_harness, database_url)
    web.settle()
    (request, _), *_ = sent.log
    assert json.loads(request.get_data())["text"] == "Primary DB down"
    assert len(sent.log) == 1
    (update,) = updates(web)
    assert "Sending to 1 recipient" in all_text(update)
    (post,) = web.slack.wait_for("chat.postMessage")
    assert post.args["channel"] == "C9"
    (record,) = finished(web)
    assert record.status is AuditStatus.SENT and record.source.value == "modal"
    (row,) = stored(web, "form")
    assert row["outcome"] == "run" and row["body"] == b""


def test_a_large_send_is_confirmed_and_both_steps_are_run_by_a_sender(
    make_harness: MakeHarness, database_url: str, sent: HTTPServer
) -> None:
    web = make_harness(database_url=database_url, sender="external", confirm_above="1")
    submit(web, submission(state(recipients=TWO)))
    run_elsewhere(make_harness, database_url, confirm_above="1")
    (confirmation,) = updates(web)
    assert confirmation["callback_id"] == ids.CONFIRM_MODAL
    assert sent.log == []

    assert confirm(web, confirmation) == {"response_action": "clear"}
    web.settle()
    assert sent.log == [], "the web process only stores"
    (row,) = stored(web, "form-confirm")
    assert (
        row["payload"]["view"]["private_metadata"] == (confirmation["private_metadata"])
    )
    assert "token" not in row["payload"]

    run_elsewhere(make_harness, database_url, confirm_above="1")
    web.settle()
    (request, _), *_ = sent.log
    assert len(json.loads(request.get_data())["recipients"]) == 2
    assert len(sent.log) == 1
    (post,) = web.slack.wait_for("chat.postMessage")
    assert post.args["channel"] == "C9"
    (record,) = finished(web)
    assert record.status is AuditStatus.SENT
    assert [row["outcome"] for row in stored(web)] == ["run", "run"]


def test_a_double_submit_is_stored_once_and_texts_once(
    make_harness: MakeHarness, database_url: str, sent: HTTPServer
) -> None:
    harness = make_harness(database_url=database_url)
    submit(harness, submission(state(), view_id="V-double"))
    finished(harness)
    submit(harness, submission(state(), view_id="V-double"))
    harness.settle()
    assert len(stored(harness, "form")) == 1
    assert len(sent.log) == 1
    assert len(harness.slack.calls("chat.postMessage")) == 1


def test_a_form_submitted_again_after_its_problems_is_stored_again_and_sent(
    harness: SlackHarness, sent: HTTPServer
) -> None:
    refused = submission(state(recipients=None, people=["UBOB"]))
    submit(harness, refused)
    (refilled,) = harness.slack.wait_for("views.update")
    assert "Bob has no phone number" in all_text(refilled.args["view"])
    fixed = submission(state())
    fixed["view"]["hash"] = "h2"  # Slack's view, updated: same id, a new hash
    submit(harness, fixed)
    (record,) = finished(harness)
    assert record.status is AuditStatus.SENT
    harness.settle()
    assert len(stored(harness, "form")) == 2
    assert len(sent.log) == 1


def test_a_submission_that_cannot_be_stored_stays_open_and_sends_nothing(
    harness: SlackHarness, sent: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    sender = harness.stack.sender
    assert sender is not None

    def down(*args: object) -> int:
        raise AuditStoreError("database is locked")

    monkeypatch.setattr(sender.queue, "put_command", down)
    answer = submit(harness, submission(state()))
    harness.settle()
    assert answer["response_action"] == "errors"
    assert answer["errors"][ids.TEXT_BLOCK].startswith("Nothing was sent")
    assert sent.log == []
    assert harness.store.recent(limit=5) == []
    assert harness.slack.calls("views.update") == []
    assert stored(harness) == []


def test_a_confirmation_that_cannot_be_stored_says_so_and_sends_nothing(
    make_harness: MakeHarness, sent: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    harness = make_harness(confirm_above="1")
    submit(harness, submission(state(recipients=TWO)))
    (update,) = harness.slack.wait_for("views.update")
    confirmation = as_dict(update.args["view"])
    sender = harness.stack.sender
    assert sender is not None

    def down(*args: object) -> int:
        raise AuditStoreError("database is locked")

    monkeypatch.setattr(sender.queue, "put_command", down)
    answer = confirm(harness, confirmation)
    harness.settle()
    assert answer["response_action"] == "update"
    assert "Nothing was sent" in all_text(answer["view"])
    assert sent.log == []
    assert harness.store.recent(limit=5) == []
    assert stored(harness, "form-confirm") == []


def test_a_confirmation_pressed_twice_is_stored_once_and_texts_once(
    make_harness: MakeHarness, database_url: str, sent: HTTPServer
) -> None:
    harness = make_harness(database_url=database_url, confirm_above="1")
    submit(harness, submission(state(recipients=TWO)))
    (update,) = harness.slack.wait_for("views.update")
    confirmation = as_dict(update.args["view"])
    confirm(harness, confirmation)
    finished(harness)
    confirm(harness, confirmation)
    harness.settle()
    assert len(stored(harness, "form-confirm")) == 1
    assert len(sent.log) == 1
    assert len(harness.slack.calls("chat.postMessage")) == 1


def test_a_confirmation_run_again_after_its_sender_died_does_not_text_twice(
    make_harness: MakeHarness, database_url: str, sent: HTTPServer
) -> None:
    web = make_harness(database_url=database_url, sender="external", confirm_above="1")
    submit(web, submission(state(recipients=TWO)))
    run_elsewhere(make_harness, database_url, confirm_above="1")
    (confirmation,) = updates(web)
    confirm(web, confirmation)
    web.settle()
    (row,) = stored(web, "form-confirm")
    run_and_die(web, row)
    assert len(sent.log) == 1

    run_elsewhere(make_harness, database_url, confirm_above="1")
    web.settle()
    assert len(sent.log) == 1
    assert len(web.slack.calls("chat.postMessage")) == 1
    (record,) = finished(web)
    assert record.status is AuditStatus.SENT
    (row,) = stored(web, "form-confirm")
    assert row["attempts"] == 2 and row["outcome"] == "run"
