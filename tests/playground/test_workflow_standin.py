"""The playground's Workflow Builder stand-in: a signed ``function_executed`` event out,
and only the step's own token may end its run, once."""

from __future__ import annotations

import json

from pytest_httpserver import HTTPServer
from slack_sdk.signature import SignatureVerifier

from bot.playground.changes import Changes
from bot.playground.workflow import WorkflowRuns
from bot.slack import ids

SECRET = "playground-secret"


def test_a_run_sends_a_signed_event_and_only_its_token_ends_it_once(
    httpserver: HTTPServer,
) -> None:
    httpserver.expect_request("/slack/events", method="POST").respond_with_data("")
    runs = WorkflowRuns(
        events_url=httpserver.url_for("/slack/events"),
        signing_secret=SECRET,
        changes=Changes(),
    )
    try:
        run = runs.run("U0ALICE", ids.STEP_SEND_SMS, {"to": "dave", "text": "hi"})
    finally:
        runs.close()

    [(request, _)] = httpserver.log
    body = request.get_data(as_text=True)
    assert SignatureVerifier(SECRET).is_valid(
        body,
        request.headers["X-Slack-Request-Timestamp"],
        request.headers["X-Slack-Signature"],
    )
    event = json.loads(body)["event"]
    assert event["type"] == "function_executed"
    assert event["function"]["callback_id"] == ids.STEP_SEND_SMS
    assert event["inputs"] == {"to": "dave", "text": "hi"}
    assert event["function_execution_id"] == run.execution_id
    token = event["bot_access_token"]

    success = "functions.completeSuccess"
    done = {"function_execution_id": run.execution_id, "outputs": '{"status": "sent"}'}
    assert runs.handle(success, done, "xoxb-bot-token")["error"] == "invalid_auth"
    assert runs.snapshot("U0ALICE")[0]["state"] == "running"
    assert runs.handle(success, done, token) == {"ok": True}
    assert runs.snapshot("U0ALICE")[0]["outputs"] == {"status": "sent"}
    again = runs.handle("functions.completeError", {**done, "error": "x"}, token)
    assert again["error"] == "function_execution_already_completed"
    assert runs.snapshot("U0ALICE")[0]["state"] == "completed"
    assert runs.snapshot("U0BOB") == []
