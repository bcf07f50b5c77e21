"""The admin's settings, end to end through Slack: who, where, how much, how often."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from bot.audit import OptOutList
from bot.domain import AuditStatus
from bot.slack import ids
from tests.conftest import SENT, SlackHarness
from tests.slack.listeners.test_commands import all_text, finished
from tests.slack.listeners.test_forms import state, submission
from tests.test_concurrency import slow_counts

SEND_PATH = "/v1/public/sms-campaign/send"
MakeHarness = Callable[..., SlackHarness]


@pytest.fixture
def make_harness(make_harness: MakeHarness, database_url: str) -> MakeHarness:
    """Every guard rail runs on SQLite, and on PostgreSQL when TEST_DATABASE_URL answers."""

    def make(**sms: Any) -> SlackHarness:
        return make_harness(database_url=database_url, **sms)

    return make


def refused_privately(
    harness: SlackHarness, rule: str, words: str, ack: dict[str, Any] | None = None
) -> None:
    """Refused to the sender only (in the ``ack`` when it needs no lookup), and audited."""
    reply = ack if ack is not None else harness.webhooks()[0]
    assert reply["response_type"] == "ephemeral"
    assert words in all_text(reply)
    (record,) = finished(harness)
    assert record.status is AuditStatus.REJECTED
    assert record.error_code == f"policy:{rule}"


def test_a_user_not_allowed_is_refused_and_audited(
    make_harness: MakeHarness, httpserver: HTTPServer
) -> None:
    harness = make_harness(allowed_users="U2")
    ack = harness.command("+33612345678 hello", user="U1").json()
    refused_privately(harness, "SMS_ALLOWED_USERS", "not allowed to send SMS", ack)
    assert httpserver.log == []


def test_a_member_of_an_allowed_user_group_may_send(
    make_harness: MakeHarness, httpserver: HTTPServer
) -> None:
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_json(
        SENT, status=201
    )
    harness = make_harness(allowed_users="U2", allowed_usergroups="S1")
    harness.slack.state.usergroups = {"S1": ["U7", "U1"]}
    harness.command("+33612345678 hello", user="U1")
    harness.slack.wait_for("chat.postMessage")
    assert finished(harness)[0].status is AuditStatus.SENT
    assert harness.slack.calls("usergroups.users.list")[0].args["usergroup"] == "S1"


def test_sending_from_a_channel_not_allowed_is_refused(
    make_harness: MakeHarness, httpserver: HTTPServer
) -> None:
    harness = make_harness(allowed_channels="C9")
    ack = harness.command("+33612345678 hello", channel="C1").json()
    refused_privately(
        harness, "SMS_ALLOWED_CHANNELS", "not allowed from this conversation", ack
    )
    assert httpserver.log == []


def test_the_rate_limit_holds_across_two_instances_sending_at_once(
    make_harness: MakeHarness,
    httpserver: HTTPServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    slow_counts(monkeypatch)

    def octopush(request: Request) -> Response:
        time.sleep(0.2)  # the first send is still pending when the other one counts
        return Response(json.dumps(SENT), status=201, content_type="application/json")

    httpserver.expect_request(SEND_PATH, method="POST").respond_with_handler(octopush)
    first = make_harness(rate_limit="1/hour")
    second = make_harness(rate_limit="1/hour")  # another instance, same audit database
    start = threading.Barrier(2)

    def command(harness: SlackHarness, text: str, trigger: str) -> None:
        start.wait(timeout=10)
        harness.command(text, trigger=trigger)

    threads = [
        threading.Thread(target=command, args=(first, "+33612345678 one", "a")),
        threading.Thread(target=command, args=(second, "+33612345678 two", "b")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)

    (post,) = first.slack.wait_for("chat.postMessage")
    records = finished(first, 2)
    assert sorted(r.status.value for r in records) == ["rejected", "sent"]
    (refused,) = [r for r in records if r.status is AuditStatus.REJECTED]
    assert refused.error_code == "policy:SMS_RATE_LIMIT"
    assert [reply for reply in first.webhooks(1) if "limit of 1/" in all_text(reply)]
    for harness in (first, second):  # both instances' work is over: nothing more comes
        harness.settle()
    assert len(httpserver.log) == 1
    assert len(first.slack.calls("chat.postMessage")) == 1


def test_the_daily_budget_refuses_a_send_that_would_exceed_it(
    make_harness: MakeHarness, httpserver: HTTPServer
) -> None:
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_json(
        SENT, status=201
    )
    harness = make_harness(daily_budget="0.05")
    harness.command("+33612345678 one", trigger="a")
    harness.slack.wait_for("chat.postMessage")
    harness.command("+33612345678 two", trigger="b")
    (reply,) = harness.webhooks()
    assert "daily SMS budget" in all_text(reply)
    assert len(httpserver.log) == 1


def test_blocked_and_opted_out_numbers_are_refused(
    make_harness: MakeHarness, httpserver: HTTPServer
) -> None:
    harness = make_harness(blocked_numbers="+3389")
    ack = harness.command("+33899123456 hello", trigger="a").json()
    assert "an admin blocked" in all_text(ack)  # pure: answered in the ack
    OptOutList(harness.store).add("+33612345678", source="callback")
    harness.command("+33612345678 hello", trigger="b")
    (reply,) = harness.webhooks()  # opt-outs are in the store: after the ack
    assert "replied STOP" in all_text(reply)
    assert httpserver.log == []


def test_a_policy_refusal_shows_on_the_form(make_harness: MakeHarness) -> None:
    harness = make_harness(max_recipients="1")
    body = harness.interact(
        submission(state(recipients="+33612345678, +33698765432"))
    ).json()
    assert body["response_action"] == "errors"
    assert "limit is 1" in body["errors"][ids.RECIPIENTS_BLOCK]


def test_a_large_send_asks_for_confirmation_with_the_estimate_then_sends(
    make_harness: MakeHarness, httpserver: HTTPServer
) -> None:
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_json(
        SENT, status=201
    )
    harness = make_harness(confirm_above="1")
    response = harness.interact(
        submission(state(recipients="+33612345678, +33698765432"))
    )
    assert response.json()["response_action"] == "update"  # "checking…"
    (update,) = harness.slack.wait_for("views.update")  # after the lookups and guard
    confirm = update.args["view"]
    confirm = json.loads(confirm) if isinstance(confirm, str) else confirm
    assert confirm["callback_id"] == ids.CONFIRM_MODAL
    assert "2 recipients × 1 SMS = 2 SMS" in all_text(confirm)
    assert httpserver.log == []

    confirmed = harness.interact(
        {
            "type": "view_submission",
            "team": {"id": "T1"},
            "user": {"id": "U1"},
            "view": {
                "id": "V2",
                "type": "modal",
                "root_view_id": "V1",
                "callback_id": ids.CONFIRM_MODAL,
                "private_metadata": confirm["private_metadata"],
                "state": {"values": {}},
            },
        }
    )
    assert confirmed.json() == {"response_action": "clear"}
    (post,) = harness.slack.wait_for("chat.postMessage")
    assert post.args["channel"] == "C9"
    body_sent = json.loads(httpserver.log[0][0].get_data())
    assert [r["phone_number"] for r in body_sent["recipients"]] == [
        "+33612345678",
        "+33698765432",
    ]


def test_low_credit_is_announced_once_in_the_admin_channel(
    make_harness: MakeHarness, httpserver: HTTPServer
) -> None:
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_json(
        SENT, status=201
    )
    harness = make_harness(low_credit="100", admin_channel="CADMIN")
    for trigger in ("a", "b"):
        harness.command("+33612345678 hello", trigger=trigger)
    posts = harness.slack.wait_for("chat.postMessage", 3)
    finished(harness, 2)
    admin = [
        p
        for p in harness.slack.calls("chat.postMessage")
        if p.args["channel"] == "CADMIN"
    ]
    assert len(admin) == 1
    assert "credit is low" in all_text(admin[0].args)
    assert "99.5" in all_text(admin[0].args)
    assert len(posts) >= 3


def test_a_large_slash_command_asks_first_and_sends_on_confirm(
    make_harness: MakeHarness, httpserver: HTTPServer
) -> None:
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_json(
        SENT, status=201
    )
    harness = make_harness(confirm_above="1")
    harness.command("+33612345678, +33698765432 hello")
    (prompt,) = harness.webhooks()
    assert "2 recipients × 1 SMS = 2 SMS" in all_text(prompt)
    button = next(
        element
        for block in prompt["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
        if element["action_id"] == ids.CONFIRM_SEND
    )
    assert httpserver.log == []
    assert harness.store.recent(limit=5) == []
    harness.interact(
        {
            "type": "block_actions",
            "team": {"id": "T1"},
            "user": {"id": "U1"},
            "channel": {"id": "C1"},
            "response_url": harness.slack.webhook_url("command"),
            "trigger_id": "t-confirm",
            "actions": [
                {
                    "action_id": ids.CONFIRM_SEND,
                    "block_id": "b",
                    "type": "button",
                    "value": button["value"],
                    "action_ts": "1",
                }
            ],
        }
    )
    harness.slack.wait_for("chat.postMessage")
    (record,) = finished(harness)
    assert record.status is AuditStatus.SENT
    assert record.recipients == ["+33612345678", "+33698765432"]
