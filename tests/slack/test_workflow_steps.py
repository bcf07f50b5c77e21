"""The Workflow Builder steps end to end: a signed ``function_executed`` event in, the
fake Octopush, the audit trail, the result post and ``functions.complete*`` out."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from bot.audit import AuditRecord
from bot.domain import AuditStatus, Source
from bot.slack import ids
from tests.conftest import SENT, SlackHarness
from tests.slack.listeners.test_commands import (
    assert_no_full_number,
    finished,
    wait_until,
)

SEND_PATH = "/v1/public/sms-campaign/send"
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
    escalate_after: 10m
  web-oncall:
    members: [bob, alice]
    rotation: weekly
    start: 2026-11-02T09:00:00+01:00
"""


def run_step(
    harness: SlackHarness,
    callback_id: str,
    inputs: dict[str, Any],
    *,
    execution: str = "Fx0001",
) -> int:
    """POST the event Slack sends when a workflow runs one of the app's steps."""
    body = {
        "token": "legacy",
        "team_id": "T1",
        "api_app_id": "A1",
        "type": "event_callback",
        "event_id": f"Ev{execution}",
        "event_time": int(time.time()),
        "event": {
            "type": "function_executed",
            "function": {
                "id": f"Fn{callback_id}",
                "callback_id": callback_id,
                "title": callback_id,
                "type": "app",
                "app_id": "A1",
            },
            "inputs": inputs,
            "function_execution_id": execution,
            "workflow_execution_id": "Wx0001",
            "event_ts": str(time.time()),
            "bot_access_token": "xwfp-step-token",
        },
    }
    response = harness.post(json.dumps(body), content_type="application/json")
    return response.status_code


def sms_bodies(httpserver: HTTPServer) -> list[dict[str, Any]]:
    return [json.loads(request.get_data()) for request, _ in httpserver.log]


def completions(harness: SlackHarness) -> list[dict[str, Any]]:
    """The ``functions.completeSuccess`` calls, outputs decoded (the SDK sends JSON)."""
    found = []
    for call in harness.slack.calls("functions.completeSuccess"):
        outputs = call.args.get("outputs")
        found.append({**call.args, "outputs": json.loads(outputs)})
    return found


def completed(harness: SlackHarness) -> list[dict[str, Any]]:
    harness.settle()
    return completions(harness)


def failed(harness: SlackHarness) -> list[dict[str, Any]]:
    harness.settle()
    return [call.args for call in harness.slack.calls("functions.completeError")]


@pytest.fixture
def make_harness(make_harness: MakeHarness, database_url: str) -> MakeHarness:
    """Each step writes the audit trail: on SQLite, and on PostgreSQL too."""

    def make(**sms: Any) -> SlackHarness:
        return make_harness(database_url=database_url, **sms)

    return make


@pytest.fixture
def sends(httpserver: HTTPServer) -> HTTPServer:
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_json(
        SENT, status=201
    )
    return httpserver


@pytest.fixture
def directory_file(tmp_path: Path) -> Path:
    path = tmp_path / "directory.yml"
    path.write_text(DIRECTORY)
    return path


SEND_INPUTS = {
    "requested_by": "U1",
    "to": "+33 6 12 34 56 78",
    "text": "Disk full on db-1",
    "channel": "C1",
}


def test_send_sms_sends_records_posts_and_completes_with_the_outputs(
    make_harness: MakeHarness, sends: HTTPServer
) -> None:
    harness = make_harness()
    assert run_step(harness, ids.STEP_SEND_SMS, SEND_INPUTS) == 200

    [done] = completed(harness)
    assert done["function_execution_id"] == "Fx0001"
    assert done["outputs"] == {
        "ticket": SENT["sms_ticket"],
        "sms_count": 1,
        "cost": SENT["total_cost"],
        "status": "sent",
    }
    [sms] = sms_bodies(sends)
    assert [r["phone_number"] for r in sms["recipients"]] == ["+33612345678"]
    assert sms["text"].startswith("Disk full on db-1")
    [record] = finished(harness)
    assert record.status is AuditStatus.SENT
    assert record.source is Source.WORKFLOW
    assert (record.slack_user_id, record.slack_channel_id) == ("U1", "C1")
    [post] = harness.slack.calls("chat.postMessage")
    assert post.args["channel"] == "C1"
    assert SENT["sms_ticket"] in json.dumps(post.args)
    assert "<@U1>" in json.dumps(post.args)
    assert_no_full_number(json.dumps(post.args))
    assert failed(harness) == []


def test_a_retried_event_never_texts_twice(
    make_harness: MakeHarness, sends: HTTPServer
) -> None:
    harness = make_harness()
    run_step(harness, ids.STEP_SEND_SMS, SEND_INPUTS)
    harness.settle()
    run_step(harness, ids.STEP_SEND_SMS, SEND_INPUTS)
    harness.settle()

    assert len(sends.log) == 1
    assert len(harness.store.recent(limit=5)) == 1
    assert len(harness.slack.calls("chat.postMessage")) == 1


def _refused(harness: SlackHarness, httpserver: HTTPServer) -> tuple[str, AuditRecord]:
    """The one completeError's text and the one (rejected) audit record; no SMS."""
    [error] = failed(harness)
    assert error["function_execution_id"] == "Fx0001"
    assert completed(harness) == []
    assert httpserver.log == []
    [record] = harness.store.recent(limit=5)
    assert record.status is AuditStatus.REJECTED
    assert record.source is Source.WORKFLOW
    assert record.slack_user_id == "U1"
    return str(error["error"]), record


def test_a_requester_who_may_not_send_gets_a_refusal_in_plain_words(
    make_harness: MakeHarness, sends: HTTPServer
) -> None:
    harness = make_harness(allowed_users="UADMIN")
    run_step(harness, ids.STEP_SEND_SMS, SEND_INPUTS)

    error, _record = _refused(harness, sends)
    assert error.startswith("Nothing was sent:")
    assert "SMS_" not in error  # no setting names for end users
    assert harness.slack.calls("chat.postMessage") == []


def test_a_bad_number_is_refused_naming_it(
    make_harness: MakeHarness, sends: HTTPServer
) -> None:
    harness = make_harness()
    run_step(harness, ids.STEP_SEND_SMS, {**SEND_INPUTS, "to": "+33 6 12"})

    error, _record = _refused(harness, sends)
    assert error.startswith("Nothing was sent:")
    assert "+33 6 12" in error or "+33612" in error


def test_the_rate_limit_applies_to_the_requester(
    make_harness: MakeHarness, sends: HTTPServer
) -> None:
    harness = make_harness(rate_limit="1/hour")
    run_step(harness, ids.STEP_SEND_SMS, SEND_INPUTS, execution="Fx0001")
    harness.settle()
    run_step(harness, ids.STEP_SEND_SMS, SEND_INPUTS, execution="Fx0002")

    assert len(sends.log) == 1
    [error] = failed(harness)
    assert error["function_execution_id"] == "Fx0002"
    assert str(error["error"]).startswith("Nothing was sent:")
    statuses = sorted(r.status.value for r in harness.store.recent(limit=5))
    assert statuses == ["rejected", "sent"]


def test_words_that_are_not_recipients_are_refused_never_sent(
    make_harness: MakeHarness, sends: HTTPServer
) -> None:
    """``to`` holds recipients only: a word the grammar would take for the start of a
    message is not quietly dropped or texted."""
    harness = make_harness()
    run_step(harness, ids.STEP_SEND_SMS, {**SEND_INPUTS, "to": "+33612345678 urgent"})

    error, record = _refused(harness, sends)
    assert "'urgent'" in error
    assert record.error_code == "input"


def test_a_send_that_slash_sms_would_ask_about_is_refused(
    make_harness: MakeHarness, sends: HTTPServer
) -> None:
    harness = make_harness(confirm_above=1)
    run_step(
        harness,
        ids.STEP_SEND_SMS,
        {**SEND_INPUTS, "to": "+33612345678, +33698765432"},
    )

    error, _record = _refused(harness, sends)
    assert "workflow cannot confirm" in error


def test_the_requester_reads_the_refusal_in_their_language(
    make_harness: MakeHarness, sends: HTTPServer
) -> None:
    harness = make_harness(allowed_users="UADMIN")
    harness.slack.state.locales["U1"] = "fr-FR"
    run_step(harness, ids.STEP_SEND_SMS, SEND_INPUTS)

    error, _record = _refused(harness, sends)
    assert error.startswith("Rien n'a été envoyé"), error


def test_page_oncall_pages_the_rotation_and_completes_with_the_page(
    make_harness: MakeHarness, sends: HTTPServer, directory_file: Path
) -> None:
    harness = make_harness(directory=str(directory_file))
    run_step(
        harness,
        ids.STEP_PAGE_ONCALL,
        {
            "requested_by": "U1",
            "rotation": "db-oncall",
            "text": "db-1 is down",
            "channel": "C9",
        },
    )

    [done] = completed(harness)
    page = done["outputs"]["page"]
    assert isinstance(page, int)
    assert done["outputs"]["paged"] in ("alice", "bob")
    number = {"alice": "+33612345678", "bob": "+33698765432"}[done["outputs"]["paged"]]
    [sms] = sms_bodies(sends)
    assert [r["phone_number"] for r in sms["recipients"]] == [number]
    [record] = finished(harness)
    assert record.source is Source.WORKFLOW
    assert record.slack_user_id == "U1"
    posts = harness.slack.calls("chat.postMessage")
    assert posts[0].args["channel"] == "C9"
    assert f"#{page}" in json.dumps(posts[0].args)
    assert ids.ACK_PAGE in json.dumps(posts[0].args)


def test_page_oncall_with_an_unknown_rotation_fails_naming_those_there_are(
    make_harness: MakeHarness, sends: HTTPServer, directory_file: Path
) -> None:
    harness = make_harness(directory=str(directory_file))
    run_step(
        harness,
        ids.STEP_PAGE_ONCALL,
        {"requested_by": "U1", "rotation": "nope", "text": "db-1 is down"},
    )

    [error] = failed(harness)
    assert "'nope'" in error["error"]
    assert "db-oncall" in error["error"] and "web-oncall" in error["error"]
    assert sends.log == []
    assert harness.slack.calls("chat.postMessage") == []


def test_the_rotation_menu_lists_the_directorys_rotations_before_the_ack(
    make_harness: MakeHarness, directory_file: Path
) -> None:
    harness = make_harness(directory=str(directory_file))
    assert run_step(harness, ids.STEP_LIST_ROTATIONS, {}) == 200

    # Synchronous: the options are given before Slack gets its answer.
    [done] = completions(harness)
    assert done["outputs"] == {
        "options": [
            {"text": {"type": "plain_text", "text": "db-oncall"}, "value": "db-oncall"},
            {
                "text": {"type": "plain_text", "text": "web-oncall"},
                "value": "web-oncall",
            },
        ]
    }


def test_an_octopush_refusal_fails_the_step_with_its_words_and_audit_number(
    make_harness: MakeHarness, httpserver: HTTPServer
) -> None:
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_json(
        {"code": 106, "message": "Invalid sender"}, status=400
    )
    harness = make_harness()
    run_step(harness, ids.STEP_SEND_SMS, SEND_INPUTS)

    [error] = failed(harness)
    [record] = finished(harness)
    assert record.status is AuditStatus.FAILED
    assert error["error"].startswith("The SMS was not sent:")
    assert "Invalid sender" in error["error"]
    assert f"#{record.id}" in error["error"]
    assert completed(harness) == []


def test_the_event_is_acked_at_once_and_a_send_that_may_have_gone_out_says_so(
    make_harness: MakeHarness, httpserver: HTTPServer
) -> None:
    """Octopush answers after the client gave up: the SMS may be out, so the step never
    says nothing was sent; and Slack had its answer long before."""

    release = threading.Event()
    asked: list[Request] = []

    def too_slow(request: Request) -> Response:
        asked.append(request)
        release.wait(10)  # past the client's read timeout (3 s)
        return Response(json.dumps(SENT), status=201, content_type="application/json")

    httpserver.expect_request(SEND_PATH, method="POST").respond_with_handler(too_slow)
    harness = make_harness()
    started = time.monotonic()
    assert run_step(harness, ids.STEP_SEND_SMS, SEND_INPUTS) == 200
    assert time.monotonic() - started < 1.0

    [error] = failed(harness)
    [record] = finished(harness)
    assert "may have gone out" in error["error"]
    assert f"#{record.id}" in error["error"]
    assert "Nothing was sent" not in error["error"]
    # Octopush's late answers (the client's retry too) are in before the next test.
    release.set()
    wait_until(lambda: len(httpserver.log) == len(asked))


@pytest.mark.parametrize("requester", ["", "not-a-user"])
def test_a_step_that_names_no_requester_sends_nothing(
    make_harness: MakeHarness, sends: HTTPServer, requester: str
) -> None:
    """A step runs as a person: with nobody (or no user id) in Requested by, the
    allow-lists could not apply, so nothing is sent; the refusal is recorded."""
    harness = make_harness()
    run_step(harness, ids.STEP_SEND_SMS, {**SEND_INPUTS, "requested_by": requester})

    [error] = failed(harness)
    assert "Requested by" in error["error"]
    assert sends.log == []
    [record] = harness.store.recent(limit=5)
    assert record.status is AuditStatus.REJECTED
    assert record.slack_user_id is None


def test_the_steps_token_reaches_no_log_post_or_audit_record(
    make_harness: MakeHarness, sends: HTTPServer, caplog: pytest.LogCaptureFixture
) -> None:
    """The event's ``bot_access_token`` is a credential: Bolt uses it for the
    ``functions.*`` calls, and it goes nowhere else."""
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.INFO, logger="urllib3")  # the test's own client
    harness = make_harness(allowed_users="U1")
    run_step(harness, ids.STEP_SEND_SMS, SEND_INPUTS)
    run_step(
        harness,
        ids.STEP_SEND_SMS,
        {**SEND_INPUTS, "requested_by": "U2"},
        execution="Fx0002",
    )
    harness.settle()

    assert len(completions(harness)) == 1 and len(failed(harness)) == 1
    steps = [c for c in harness.slack.state.calls if c.method.startswith("functions.")]
    assert all(c.headers["authorization"] == "Bearer xwfp-step-token" for c in steps)
    others = [c for c in harness.slack.state.calls if c not in steps]
    assert "xwfp-step-token" not in json.dumps([c.args for c in others])
    assert all("xwfp-step-token" not in json.dumps(c.headers) for c in others)
    assert "xwfp-step-token" not in caplog.text
    records = harness.store.recent(limit=5)
    assert len(records) == 2
    assert "xwfp-step-token" not in repr(records)
