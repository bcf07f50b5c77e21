"""The App Home's *Page on-call* form is stored before its ack, and a sender pages.

Before, the page was sent from a lazy listener of the web process: a restart between
the ack (the form closed) and the page lost it. Now the ack stores the submission (kind
``home-page``, under the page's request id) and a sender pages, in this process or in
another instance; a submission delivered twice is stored once and pages once, one
that cannot be stored keeps the form open saying nothing was sent, and a run again
after its sender died texts once.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from bot.errors import AuditStoreError
from bot.slack import ids
from tests.conftest import SlackHarness
from tests.slack.listeners.stored_actions import (
    MakeHarness,
    run_and_die,
    run_elsewhere,
    stored,
)
from tests.slack.test_home import DIRECTORY, on_call_now

SEND_PATH = "/v1/public/sms-campaign/send"
PHONES = {"UALICE": "+33612345678", "UBOB": "+33698765432"}


@pytest.fixture
def directory(tmp_path: Path) -> Path:
    path = tmp_path / "directory.yml"
    path.write_text(DIRECTORY)
    return path


def page_form(view_id: str = "VPAGE1") -> dict[str, Any]:
    return {
        "type": "view_submission",
        "token": "legacy",
        "team": {"id": "T1"},
        "user": {"id": "U1"},
        "api_app_id": "A1",
        "view": {
            "id": view_id,
            "callback_id": ids.HOME_PAGE_MODAL,
            "type": "modal",
            "state": {
                "values": {
                    ids.HOME_PAGE_ROTATION_BLOCK: {
                        ids.HOME_PAGE_ROTATION_SELECT: {
                            "type": "static_select",
                            "selected_option": {"value": "db-oncall"},
                        }
                    },
                    ids.HOME_PAGE_TEXT_BLOCK: {
                        ids.HOME_PAGE_TEXT_INPUT: {
                            "type": "plain_text_input",
                            "value": "db-1 is down",
                        }
                    },
                    ids.HOME_PAGE_CHANNEL_BLOCK: {
                        ids.HOME_PAGE_CHANNEL_SELECT: {
                            "type": "conversations_select",
                            "selected_conversation": "COPS",
                        }
                    },
                }
            },
        },
    }


def submit(harness: SlackHarness, form: dict[str, Any]) -> Any:
    response = harness.interact(form)
    assert response.status_code == 200
    return response.json() if response.content else None


def paged(httpserver: HTTPServer) -> list[list[str]]:
    bodies = [json.loads(request.get_data()) for request, _ in httpserver.log]
    return [[r["phone_number"] for r in body["recipients"]] for body in bodies]


def test_a_page_is_stored_by_its_ack_and_sent_by_a_sender_of_another_instance(
    make_harness: MakeHarness, database_url: str, directory: Path, sent: HTTPServer
) -> None:
    web = make_harness(
        database_url=database_url, directory=str(directory), sender="external"
    )
    submit(web, page_form())
    web.settle()
    assert sent.log == [], "the web process only stores"
    (row,) = stored(web, "home-page")
    assert row["payload"]["view"]["id"] == "VPAGE1"
    assert row["payload"]["user"] == {"id": "U1"}
    assert "token" not in row["payload"]

    run_elsewhere(make_harness, database_url, directory=str(directory))
    web.settle()
    on_call, _ = on_call_now(directory)
    assert paged(sent) == [[PHONES[on_call]]]
    (post,) = web.slack.wait_for("chat.postMessage")
    assert post.args["channel"] == "COPS"
    (row,) = stored(web, "home-page")
    assert row["outcome"] == "run"


def test_a_page_submitted_twice_is_stored_once_and_pages_once(
    make_harness: MakeHarness, database_url: str, directory: Path, sent: HTTPServer
) -> None:
    harness = make_harness(database_url=database_url, directory=str(directory))
    submit(harness, page_form())
    harness.slack.wait_for("chat.postMessage")
    submit(harness, page_form())
    harness.settle()
    assert len(stored(harness, "home-page")) == 1
    assert len(sent.log) == 1
    assert len(harness.slack.calls("chat.postMessage")) == 1


def test_a_page_that_cannot_be_stored_keeps_the_form_open_and_pages_nobody(
    make_harness: MakeHarness,
    directory: Path,
    sent: HTTPServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    harness = make_harness(directory=str(directory))
    sender = harness.stack.sender
    assert sender is not None

    def down(*args: object) -> int:
        raise AuditStoreError("database is locked")

    monkeypatch.setattr(sender.queue, "put_command", down)
    answer = submit(harness, page_form())
    harness.settle()
    assert answer["response_action"] == "errors"
    assert answer["errors"][ids.HOME_PAGE_TEXT_BLOCK].startswith("Nothing was sent")
    assert sent.log == []
    assert harness.store.recent(limit=5) == []
    assert harness.slack.calls("chat.postMessage") == []


def test_a_page_run_again_after_its_sender_died_does_not_text_twice(
    make_harness: MakeHarness, database_url: str, directory: Path, sent: HTTPServer
) -> None:
    web = make_harness(
        database_url=database_url, directory=str(directory), sender="external"
    )
    submit(web, page_form())
    web.settle()
    (row,) = stored(web, "home-page")
    run_and_die(web, row)
    assert len(sent.log) == 1

    run_elsewhere(make_harness, database_url, directory=str(directory))
    web.settle()
    assert len(sent.log) == 1
    assert len(web.slack.calls("chat.postMessage")) == 1
    (row,) = stored(web, "home-page")
    assert row["attempts"] == 2 and row["outcome"] == "run"
