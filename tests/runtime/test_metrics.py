"""``GET /metrics``: guarded by a bearer token, scraped after real sends, callbacks and
pages through the HTTP surface."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families
from pytest_httpserver import HTTPServer

from bot.audit.pages import PageState
from bot.slack import ids
from tests.conftest import SENT, SlackHarness
from tests.runtime.test_sender import age_stored_commands
from tests.slack.listeners.test_commands import finished, wait_until

SEND_PATH = "/v1/public/sms-campaign/send"
TOKEN = "metrics-SECRET-token-1234"
MakeHarness = Callable[..., SlackHarness]

DIRECTORY = """\
people:
  alice: {phone: "+33612345678", slack: UALICE}
groups:
  db-oncall:
    members: [alice]
    rotation: weekly
    start: 2026-11-02T09:00:00+01:00
    escalate_after: 1h
"""

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(harness: SlackHarness, token: str | None = TOKEN) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.get(f"{harness.url}/metrics", headers=headers, timeout=10)


def samples(harness: SlackHarness) -> Samples:
    response = scrape(harness)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/plain")
    found: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(found: Samples, name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


def grew(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


@pytest.fixture
def metered(make_harness: MakeHarness, tmp_path: Path) -> SlackHarness:
    directory = tmp_path / "directory.yml"
    directory.write_text(DIRECTORY)
    return make_harness(metrics_token=TOKEN, directory=str(directory))


def test_metrics_are_not_public_without_a_token(harness: SlackHarness) -> None:
    assert scrape(harness).status_code == 404
    assert scrape(harness, token=None).status_code == 404


def test_a_wrong_or_missing_token_is_401_and_shows_nothing(
    metered: SlackHarness,
) -> None:
    for token in (None, "wrong", TOKEN + "x"):
        response = scrape(metered, token=token)
        assert response.status_code == 401
        assert b"smsbot" not in response.content
    assert scrape(metered).status_code == 200


def test_sends_errors_credit_and_latencies_after_real_sends(
    metered: SlackHarness, httpserver: HTTPServer
) -> None:
    httpserver.expect_oneshot_request(SEND_PATH, method="POST").respond_with_json(
        {**SENT, "number_of_sms_needed": 2, "residual_credit": 42.5}, status=201
    )
    httpserver.expect_oneshot_request(SEND_PATH, method="POST").respond_with_json(
        {"code": 101, "message": "Invalid api-login or api-key"}, status=401
    )
    before = samples(metered)
    metered.command("+33612345678 disk full")
    finished(metered)
    metered.command("+33612345678 disk still full", trigger="trigger-2")
    finished(metered, 2)
    metered.command("+3361 not a number", trigger="trigger-3")  # refused, audited
    wait_until(lambda: len(metered.store.recent(limit=3)) == 3)
    after = samples(metered)
    assert grew(before, after, "smsbot_sends_total", status="sent", source="slash") == 1
    assert (
        grew(before, after, "smsbot_sends_total", status="failed", source="slash") == 1
    )
    assert (
        grew(before, after, "smsbot_sends_total", status="rejected", source="slash")
        == 1
    )
    assert grew(before, after, "smsbot_sms_parts_total") == 2
    assert grew(before, after, "smsbot_cost_total") == pytest.approx(0.0333)
    assert grew(before, after, "smsbot_octopush_errors_total", code="101") == 1
    assert value(after, "smsbot_octopush_credit") == 42.5
    assert grew(before, after, "smsbot_octopush_request_seconds_count") == 2
    assert grew(before, after, "smsbot_slack_ack_seconds_count") >= 3
    assert value(after, "smsbot_pending_attempts") == 0


def test_callbacks_by_kind(metered: SlackHarness, httpserver: HTTPServer) -> None:
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_json(
        SENT, status=201
    )
    metered.command("+33612345678 disk full")
    (record,) = finished(metered)
    wait_until(lambda: metered.store.get(record.id).slack_message_ts)
    before = samples(metered)
    receipt = {
        "message_id": SENT["sms_ticket"],
        "number": "+33612345678",
        "status": "DELIVERED",
        "delivery_date": "2026-12-01 10:00:00",
    }
    metered.callback(json.dumps(receipt))
    metered.callback("not json at all")
    metered.callback(json.dumps(receipt), token="wrong-token")

    def counted() -> Samples | None:
        found = samples(metered)
        done = grew(before, found, "smsbot_callbacks_total", kind="invalid") == 1
        return (
            found
            if done
            and grew(before, found, "smsbot_callbacks_total", kind="receipt") == 1
            else None
        )

    after = wait_until(counted)
    assert grew(before, after, "smsbot_callbacks_total", kind="refused") == 1


def test_pages_and_the_time_to_acknowledge(
    metered: SlackHarness, httpserver: HTTPServer
) -> None:
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_json(
        SENT, status=201
    )
    before = samples(metered)
    metered.command("page db-oncall DB down")
    (post,) = metered.slack.wait_for("chat.postMessage")
    (record,) = finished(metered)
    pager = metered.stack.paging.pager
    page = wait_until(lambda: pager.pages.for_audit(record.id))
    metered.settle()  # the page's work is over before the press
    # A time to acknowledge of 0.2 s at least, on the pager's own clock.
    wait_until(lambda: pager.now() - page.created_at >= timedelta(seconds=0.2))
    metered.interact(
        {
            "type": "block_actions",
            "team": {"id": "T1"},
            "user": {"id": "U5"},
            "channel": {"id": "C1"},
            "trigger_id": "t",
            "response_url": metered.slack.webhook_url("ack"),
            "actions": [
                {
                    "action_id": ids.ACK_PAGE,
                    "block_id": "page_actions",
                    "type": "button",
                    "value": str(page.id),
                    "action_ts": "1",
                }
            ],
        }
    )
    wait_until(
        lambda: (
            metered.stack.paging.pager.pages.get(page.id).state
            is PageState.ACKNOWLEDGED
        )
    )
    metered.command("page nobody-here DB down", trigger="trigger-2")  # refused
    after = wait_until(
        lambda: (
            found
            if grew(
                before,
                (found := samples(metered)),
                "smsbot_pages_total",
                outcome="refused",
            )
            == 1
            else None
        )
    )
    assert grew(before, after, "smsbot_pages_total", outcome="paged") == 1
    assert grew(before, after, "smsbot_pages_total", outcome="acknowledged") == 1
    assert grew(before, after, "smsbot_page_ack_seconds_count") == 1
    assert grew(before, after, "smsbot_page_ack_seconds_sum") >= 0.2
    assert grew(before, after, "smsbot_sends_total", status="sent", source="page") == 1


def test_stored_commands_waiting_for_a_sender_are_measured(
    metered: SlackHarness,
) -> None:
    sender = metered.stack.sender
    assert sender is not None
    found = samples(metered)
    assert value(found, "smsbot_commands_waiting") == 0
    assert value(found, "smsbot_oldest_command_waiting_seconds") == 0
    # Stored by an ack whose sender never came, 90 s ago.
    sender.store("send", "req-waiting", {"text": "+33612345678 hi", "user_id": "U1"})
    age_stored_commands(sender.queue, 90)
    sender.queue.heartbeat("sender-elsewhere", started_at=sender.queue.now())
    found = samples(metered)
    assert value(found, "smsbot_commands_waiting") == 1
    assert value(found, "smsbot_oldest_command_waiting_seconds") >= 90
    assert 0 <= value(found, "smsbot_sender_heartbeat_age_seconds") < 60
