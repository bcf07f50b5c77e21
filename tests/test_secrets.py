"""Secrets never reach Slack posts, logs or the audit trail, whatever the flow."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from bot.log import SecretRedactingFilter
from tests.conftest import (
    CALLBACK_TOKEN,
    OCTOPUSH_KEY,
    SENT,
    SIGNING_SECRET,
    SLACK_BOT_TOKEN,
    SlackHarness,
)
from tests.slack.listeners.test_forms import state, submission

SECRETS = (OCTOPUSH_KEY, SLACK_BOT_TOKEN, SIGNING_SECRET, CALLBACK_TOKEN)
SEND_PATH = "/v1/public/sms-campaign/send"


def test_no_flow_leaks_a_secret(
    harness: SlackHarness,
    httpserver: HTTPServer,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    caplog.set_level(logging.DEBUG)
    # The test's own HTTP client logs the URLs it calls, callback token included;
    # that is this test talking, not the bot, so keep its request lines out.
    caplog.set_level(logging.INFO, logger="urllib3")
    # Octopush echoing the key back in an error must not carry it anywhere either.
    httpserver.expect_ordered_request(SEND_PATH, method="POST").respond_with_json(
        SENT, status=201
    )
    httpserver.expect_ordered_request(SEND_PATH, method="POST").respond_with_json(
        {"code": 101, "message": f"Incorrect login for key {OCTOPUSH_KEY}"}, status=401
    )
    httpserver.expect_ordered_request(SEND_PATH, method="POST").respond_with_data(
        f"<html>proxy error {OCTOPUSH_KEY}</html>", status=502, content_type="text/html"
    )
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_json(
        SENT, status=201
    )
    httpserver.expect_request("/v1/public/wallet/check-balance").respond_with_json(
        {"amount": 2, "unit": "euros"}
    )

    harness.command("+33612345678 ok", trigger="a")
    harness.slack.wait_for("chat.postMessage", 1)
    harness.command("+33612345678 refused", trigger="b")
    harness.slack.wait_for("chat.postMessage", 2)
    harness.command("+33612345678 proxy", trigger="c")
    harness.slack.wait_for("chat.postMessage", 3)
    harness.interact(submission(state()))
    harness.slack.wait_for("chat.postMessage", 4)
    harness.command("balance", trigger="d")
    harness.command("history", trigger="e")
    refused_in_ack = harness.command("nonsense here", trigger="f").text
    harness.callback(
        json.dumps(
            {
                "message_id": "sms_5fec89fe97109",
                "number": "+33612345678",
                "text": "hi",
                "reception_date": "2026-11-24 10:00:00",
            }
        )
    )
    harness.callback("{}", token="wrong")
    harness.webhooks(2)  # balance and history; the refusal was the ack itself
    harness.settle()

    posted = (
        json.dumps(
            [call.args for call in harness.slack.state.calls], ensure_ascii=False
        )
        + refused_in_ack
    )
    audit = json.dumps(
        [record.contract_dict() for record in harness.store.recent(limit=100)]
    )
    assert "sms_5fec89fe97109" in posted  # the flows really ran
    assert len(harness.store.recent(limit=100)) >= 5
    for secret in SECRETS:
        assert secret not in posted, "a Slack post carries a secret"
        assert secret not in audit, "the audit trail carries a secret"
        assert secret not in caplog.text, "a log line carries a secret"


def test_the_redacting_filter_covers_a_library_that_logs_a_secret() -> None:
    record = logging.LogRecord(
        "urllib3", logging.DEBUG, __file__, 1, "GET /?token=%s", (CALLBACK_TOKEN,), None
    )
    SecretRedactingFilter(SECRETS).filter(record)
    assert record.getMessage() == "GET /?token=[redacted]"


def test_the_access_log_hides_the_callback_token() -> None:
    from bot.runtime.gunicorn_log import redact_path

    line = f"POST /octopush/callback/{CALLBACK_TOKEN} HTTP/1.1"
    assert redact_path(line) == "POST /octopush/callback/[redacted] HTTP/1.1"
