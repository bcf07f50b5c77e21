"""The Workflow Builder steps are stored before their ack, and a sender runs them.

Before, a step sent from a lazy listener of the web process: a restart right after the
ack lost the send. Now the ack stores the step (kinds ``workflow-send`` and
``workflow-page``, under the run's request id) with its inputs, its run's id and the
run's ``bot_access_token``, which completing the step needs; a sender sends and ends
the step. The token is dropped with the row's body once run, and reaches no log line
and no audit row; a redelivered event is stored once; a step that cannot be stored
fails saying nothing was sent; a run again after its sender died texts once; a token
Slack no longer takes is logged without it and the stored step marked failed.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from pytest_httpserver import HTTPServer

from bot.audit.commands import side_metadata
from bot.audit.store import AuditStore
from bot.audit.tables import metadata
from bot.domain import AuditStatus, Source
from bot.errors import AuditStoreError
from bot.runtime.sender import Sender
from bot.slack import ids
from bot.slack.listeners.command_buttons import STORED_KIND as PRESSED
from bot.slack.listeners.commands import STORED_ACTIONS
from bot.slack.listeners.forms import CONFIRMED, SUBMITTED
from bot.slack.listeners.home import STORED_KIND as HOME_PAGE
from bot.slack.listeners.stored_runs import StoredRuns
from bot.slack.listeners.workflow_steps import PAGE_KIND, SEND_KIND, STORED_KINDS
from tests.conftest import SENT, SlackHarness
from tests.runtime.test_sender import wait_until
from tests.slack.listeners.stored_actions import (
    MakeHarness,
    run_and_die,
    run_elsewhere,
    stored,
)
from tests.slack.listeners.test_commands import finished
from tests.slack.test_workflow_steps import (
    DIRECTORY,
    SEND_INPUTS,
    completions,
    run_step,
)

SEND_PATH = "/v1/public/sms-campaign/send"
TOKEN = "xwfp-step-token"
OUTPUTS = {
    "ticket": SENT["sms_ticket"],
    "sms_count": 1,
    "cost": SENT["total_cost"],
    "status": "sent",
}


@pytest.fixture
def directory(tmp_path: Path) -> Path:
    path = tmp_path / "directory.yml"
    path.write_text(DIRECTORY)
    return path


def step_calls(harness: SlackHarness) -> list[str]:
    """The ``functions.*`` methods Slack was called with, in order."""
    return [c.method for c in harness.slack.state.calls if c.method.startswith("func")]


def errors(harness: SlackHarness) -> list[dict[str, Any]]:
    return [call.args for call in harness.slack.calls("functions.completeError")]


def database_text(store: AuditStore) -> str:
    """Every row of every table of a database, as text."""
    with store.transaction("read every table") as conn:
        present = set(sa.inspect(conn).get_table_names())
        rows = [
            repr(list(conn.execute(sa.select(table)).all()))
            for table in (*metadata.sorted_tables, *side_metadata.sorted_tables)
            if table.name in present
        ]
    return "\n".join(rows)


def everything_stored(harness: SlackHarness) -> str:
    """The audit trail and the command queue (on SQLite, files of their own: the
    queue's, and the acks' intake, whose copies a sender empties, at the latest when
    it stops)."""
    sender = harness.stack.sender
    assert sender is not None
    stores = [harness.store, sender.queue.store, sender.queue.intake]
    return "".join(database_text(store) for store in stores if store is not None)


def test_a_send_step_is_stored_by_its_ack_and_sent_by_a_sender_of_another_instance(
    make_harness: MakeHarness,
    database_url: str,
    sent: HTTPServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.INFO, logger="urllib3")  # the test's own client
    web = make_harness(database_url=database_url, sender="external")
    assert run_step(web, ids.STEP_SEND_SMS, SEND_INPUTS) == 200
    (row,) = stored(web, SEND_KIND)  # stored when Slack had its answer
    web.settle()
    assert sent.log == [], "the web process only stores"
    assert step_calls(web) == [], "the step ends when it has run"
    assert row["processed_at"] is None
    # What the run needs, and the run's token to complete it (the lead's decision).
    assert row["payload"] == {
        "team_id": "T1",
        "function_execution_id": "Fx0001",
        "inputs": SEND_INPUTS,
        "bot_access_token": TOKEN,
    }

    run_elsewhere(make_harness, database_url)
    web.settle()
    assert len(sent.log) == 1
    [done] = completions(web)
    assert done["function_execution_id"] == "Fx0001"
    assert done["outputs"] == OUTPUTS
    assert step_calls(web) == ["functions.completeSuccess"]
    (call,) = web.slack.calls("functions.completeSuccess")
    assert call.headers["authorization"] == f"Bearer {TOKEN}"
    (record,) = finished(web)
    assert record.status is AuditStatus.SENT and record.source is Source.WORKFLOW
    (post,) = web.slack.wait_for("chat.postMessage")
    assert post.args["channel"] == "C1"
    assert TOKEN not in json.dumps(post.args) + json.dumps(post.headers)
    (row,) = stored(web, SEND_KIND)
    assert row["outcome"] == "run" and row["body"] == b""
    # Run, the token is nowhere: not in the queue, the audit trail or any log line.
    assert TOKEN not in everything_stored(web)
    assert TOKEN not in caplog.text
    assert all(TOKEN not in repr(r.__dict__) for r in caplog.records)


def test_a_page_step_is_stored_and_paged_by_a_sender(
    make_harness: MakeHarness, database_url: str, sent: HTTPServer, directory: Path
) -> None:
    inputs = {"requested_by": "U1", "rotation": "db-oncall", "text": "db-1 is down"}
    web = make_harness(
        database_url=database_url, directory=str(directory), sender="external"
    )
    run_step(web, ids.STEP_PAGE_ONCALL, inputs, execution="Fx0009")
    web.settle()
    assert sent.log == []
    (row,) = stored(web, PAGE_KIND)
    assert row["payload"]["inputs"] == inputs

    run_elsewhere(make_harness, database_url, directory=str(directory))
    web.settle()
    assert len(sent.log) == 1
    [done] = completions(web)
    assert done["function_execution_id"] == "Fx0009"
    assert done["outputs"]["paged"] in ("alice", "bob")
    assert isinstance(done["outputs"]["page"], int)
    assert errors(web) == []
    assert TOKEN not in everything_stored(web)


def test_a_redelivered_event_is_stored_once_texts_once_and_ends_once(
    make_harness: MakeHarness, database_url: str, sent: HTTPServer
) -> None:
    harness = make_harness(database_url=database_url)
    run_step(harness, ids.STEP_SEND_SMS, SEND_INPUTS)
    run_step(harness, ids.STEP_SEND_SMS, SEND_INPUTS)  # Slack thought it was lost
    harness.settle()

    assert len(stored(harness, SEND_KIND)) == 1
    assert len(sent.log) == 1
    assert len(harness.slack.calls("chat.postMessage")) == 1
    assert step_calls(harness) == ["functions.completeSuccess"]
    [done] = completions(harness)
    assert done["outputs"] == OUTPUTS


@pytest.mark.parametrize(
    ("locale", "said"),
    [
        ("en-US", "Nothing was sent: the bot cannot record this send"),
        ("fr-FR", "Rien n'a été envoyé : le bot ne peut pas enregistrer cet envoi"),
    ],
)
def test_a_step_that_cannot_be_stored_fails_saying_nothing_was_sent(
    make_harness: MakeHarness,
    sent: HTTPServer,
    monkeypatch: pytest.MonkeyPatch,
    locale: str,
    said: str,
) -> None:
    harness = make_harness()
    harness.slack.state.locales["U1"] = locale
    sender = harness.stack.sender
    assert sender is not None

    def down(*args: object) -> int:
        raise AuditStoreError("database is locked")

    monkeypatch.setattr(sender.queue, "put_command", down)
    assert run_step(harness, ids.STEP_SEND_SMS, SEND_INPUTS) == 200
    harness.settle()

    (error,) = errors(harness)
    assert error["function_execution_id"] == "Fx0001"
    assert str(error["error"]).startswith(said), error
    assert step_calls(harness) == ["functions.completeError"]
    assert sent.log == []
    assert harness.store.recent(limit=5) == []
    assert harness.slack.calls("chat.postMessage") == []


def test_a_step_run_again_after_its_sender_died_does_not_text_twice(
    make_harness: MakeHarness, database_url: str, sent: HTTPServer
) -> None:
    web = make_harness(database_url=database_url, sender="external")
    run_step(web, ids.STEP_SEND_SMS, SEND_INPUTS)
    web.settle()
    (row,) = stored(web, SEND_KIND)
    run_and_die(web, row)
    assert len(sent.log) == 1

    run_elsewhere(make_harness, database_url)
    web.settle()
    assert len(sent.log) == 1
    assert len(web.slack.calls("chat.postMessage")) == 1
    assert len(web.store.recent(limit=5)) == 1
    # The second run ends the step the same way (the dead sender may not have):
    # Slack refuses an end told twice.
    assert [c["outputs"] for c in completions(web)] == [OUTPUTS, OUTPUTS]
    assert errors(web) == []
    (row,) = stored(web, SEND_KIND)
    assert row["attempts"] == 2 and row["outcome"] == "run"


def test_a_token_slack_no_longer_takes_is_logged_without_it_and_the_step_failed(
    make_harness: MakeHarness,
    database_url: str,
    sent: HTTPServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The sender ran late: the run's token expired. The SMS went out and is posted
    and recorded; the stored step is marked failed, and the log says why without
    the token."""
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.INFO, logger="urllib3")
    web = make_harness(database_url=database_url, sender="external")
    run_step(web, ids.STEP_SEND_SMS, SEND_INPUTS)
    web.settle()
    web.slack.state.failures["functions.completeSuccess"] = "token_expired"

    run_elsewhere(make_harness, database_url)
    web.settle()
    assert len(sent.log) == 1
    assert len(web.slack.calls("chat.postMessage")) == 1
    (record,) = finished(web)
    assert record.status is AuditStatus.SENT
    (row,) = stored(web, SEND_KIND)
    assert row["outcome"] == "failed" and row["body"] == b""
    (said,) = [
        r for r in caplog.records if r.name == "bot.runtime.sender" and r.exc_info
    ]
    assert said.exc_info is not None
    assert "could not be completed (Slack answered token_expired" in str(
        said.exc_info[1]
    )
    assert TOKEN not in caplog.text
    assert all(TOKEN not in repr(r.__dict__) for r in caplog.records)
    assert TOKEN not in everything_stored(web)


def test_the_steps_kinds_are_new_so_no_older_row_is_run_as_a_step(
    make_harness: MakeHarness, database_url: str, sent: HTTPServer
) -> None:
    """No release before this one stored these kinds, so no older row can be read as
    a step; and a sender of an older release, which has no runner for them, marks a
    step's row failed and texts nothing (it never completes the step)."""
    older = {*STORED_ACTIONS, PRESSED, SUBMITTED, CONFIRMED, HOME_PAGE}
    assert not older & set(STORED_KINDS)
    web = make_harness(database_url=database_url, sender="external")
    assert web.stack.sender is not None and web.stack.sender.runner is not None
    run_step(web, ids.STEP_SEND_SMS, SEND_INPUTS)
    web.settle()

    queue = web.stack.sender.queue
    runs = StoredRuns()
    runs.add(lambda kind, payload: None, *older)
    worker = Sender(queue, mode="external", poll_seconds=0.05)
    worker.bind(runs.run)
    worker.start()
    try:
        wait_until(lambda: queue.unprocessed() == 0 and worker.idle())
    finally:
        worker.stop()
    assert sent.log == []
    assert step_calls(web) == []
    (row,) = stored(web, SEND_KIND)
    assert row["outcome"] == "failed" and row["body"] == b""
