"""``/sms`` end to end: signed HTTP requests in, fake Slack and fake Octopush out."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from bot.audit import AuditRecord
from bot.domain import AuditStatus
from tests.conftest import SENT, SlackHarness, wait_until

SEND_PATH = "/v1/public/sms-campaign/send"
BALANCE_PATH = "/v1/public/wallet/check-balance"
KNOWN_NUMBERS = ("612345678", "698765432", "7911123456")


def assert_no_full_number(text: str) -> None:
    """No recipient number, in any writing, may appear in a channel post."""
    digits_only = re.sub(r"[\s.\-]", "", text)
    for number in KNOWN_NUMBERS:
        assert number not in digits_only


def finished(harness: SlackHarness, count: int = 1) -> list[AuditRecord]:
    """The newest records once ``count`` of them left the pending state."""

    def done() -> list[AuditRecord] | None:
        records = harness.store.recent(limit=count)
        if len(records) == count and all(
            r.status is not AuditStatus.PENDING for r in records
        ):
            return records
        return None

    records: list[AuditRecord] = wait_until(done)
    return records


def octopush_bodies(httpserver: HTTPServer) -> list[dict[str, Any]]:
    return [json.loads(request.get_data()) for request, _ in httpserver.log]


def all_text(payload: Any) -> str:
    return json.dumps(payload, ensure_ascii=False)


def test_quick_send_posts_a_masked_result_in_the_channel(
    harness: SlackHarness, httpserver: HTTPServer
) -> None:
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_json(
        SENT, status=201
    )
    response = harness.command("+33612345678 Disk full on db-1 & db-2 🔥")
    assert response.status_code == 200
    assert response.json()["response_type"] == "ephemeral"

    (post,) = harness.slack.wait_for("chat.postMessage")
    assert post.args["channel"] == "C1"
    text = all_text(post.args)
    assert "sms_5fec89fe97109" in text
    assert "+33 6 •• •• •• 78" in text
    assert "<@U1>" in text
    assert_no_full_number(text)
    (body,) = octopush_bodies(httpserver)
    assert body["text"] == "Disk full on db-1 & db-2 🔥"
    assert body["recipients"] == [{"phone_number": "+33612345678"}]
    (record,) = finished(harness)
    assert record.status is AuditStatus.SENT
    assert record.source.value == "slash"
    assert record.slack_user_id == "U1" and record.slack_channel_id == "C1"
    wait_until(lambda: harness.store.get(record.id).slack_message_ts)
    assert harness.store.get(record.id).slack_message_channel == "C1"


def test_several_recipients_national_numbers_and_a_mention(
    harness: SlackHarness, httpserver: HTTPServer
) -> None:
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_json(
        {**SENT, "number_of_contacts": 3}, status=201
    )
    harness.command(
        "06 98 76 54 32, +447911123456, <@UALICE|alice> Rack 4 on fire\nCall me"
    )
    harness.slack.wait_for("chat.postMessage")
    (body,) = octopush_bodies(httpserver)
    assert [r["phone_number"] for r in body["recipients"]] == [
        "+33698765432",
        "+447911123456",
        "+33612345678",
    ]
    assert body["text"] == "Rack 4 on fire\nCall me"
    assert harness.slack.calls("users.profile.get")[0].args["user"] == "UALICE"


def test_a_mention_without_a_phone_is_refused_privately_and_audited(
    harness: SlackHarness, httpserver: HTTPServer
) -> None:
    harness.command("<@UBOB|bob> hello")
    (reply,) = harness.webhooks()
    assert reply["response_type"] == "ephemeral"
    assert "Bob has no phone number in their Slack profile" in all_text(reply)
    (record,) = finished(harness)
    assert record.status is AuditStatus.REJECTED
    assert httpserver.log == []
    assert harness.slack.calls("chat.postMessage") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+33612345678", "empty"),
        ("hello there", "'hello'"),
        ("+3361234 hello", "'+3361234'"),
        ("+33612345678 " + "x" * 1300, "1224"),
    ],
)
def test_each_validation_error_is_answered_in_the_ack_and_audited(
    harness: SlackHarness, httpserver: HTTPServer, text: str, expected: str
) -> None:
    response = harness.command(text)
    ack = response.json()
    assert ack["response_type"] == "ephemeral"
    assert expected in all_text(ack)
    (record,) = finished(harness)
    assert record.status is AuditStatus.REJECTED
    assert httpserver.log == []
    assert harness.slack.calls("chat.postMessage") == []
    assert harness.slack.calls("webhook/command") == []  # said once, in the ack


def test_an_octopush_error_code_is_posted_with_its_hint(
    harness: SlackHarness, httpserver: HTTPServer
) -> None:
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_json(
        {"code": 106, "message": "Invalid sender"}, status=400
    )
    harness.command("+33612345678 hello")
    (post,) = harness.slack.wait_for("chat.postMessage")
    text = all_text(post.args)
    assert "106" in text and "Invalid sender" in text
    (record,) = finished(harness)
    assert record.status is AuditStatus.FAILED and record.error_code == "106"


@pytest.mark.parametrize(
    "outage",
    [
        lambda: Response(
            "<html><body>502 Bad Gateway</body></html>",
            status=502,
            content_type="text/html",
        ),
        lambda: Response(
            "<html>maintenance</html>", status=200, content_type="text/html"
        ),
        lambda: Response(
            json.dumps({"unexpected": True}),
            status=200,
            content_type="application/json",
        ),
    ],
    ids=["5xx-html", "200-not-json", "200-without-ticket"],
)
def test_an_octopush_outage_is_reported_then_the_next_send_works(
    harness: SlackHarness, httpserver: HTTPServer, outage: Callable[[], Response]
) -> None:
    httpserver.expect_ordered_request(SEND_PATH, method="POST").respond_with_handler(
        lambda _: outage()
    )
    httpserver.expect_ordered_request(SEND_PATH, method="POST").respond_with_handler(
        lambda _: outage()
    )
    harness.command("+33612345678 first", trigger="t-1")
    first = harness.slack.wait_for("chat.postMessage")[0]
    assert "not sent" in all_text(first.args).lower()
    assert finished(harness)[0].status is AuditStatus.FAILED

    httpserver.clear()
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_json(
        SENT, status=201
    )
    harness.command("+33612345678 second", trigger="t-2")
    second = harness.slack.wait_for("chat.postMessage", 2)[1]
    assert "sms_5fec89fe97109" in all_text(second.args)
    assert [r.status for r in finished(harness, 2)] == [
        AuditStatus.SENT,
        AuditStatus.FAILED,
    ]


def test_a_dropped_connection_is_reported_as_failed(
    harness: SlackHarness, httpserver: HTTPServer
) -> None:
    harness.service.octopush.base_url = "http://127.0.0.1:9/v1/public"
    harness.command("+33612345678 hello")
    (post,) = harness.slack.wait_for("chat.postMessage")
    assert "could not" in all_text(post.args).lower()
    assert finished(harness)[0].status is AuditStatus.FAILED


def test_a_slow_octopush_does_not_delay_the_ack(
    harness: SlackHarness, httpserver: HTTPServer
) -> None:
    def slow(request: Request) -> Response:
        time.sleep(2)
        return Response(json.dumps(SENT), status=201, content_type="application/json")

    httpserver.expect_request(SEND_PATH, method="POST").respond_with_handler(slow)
    started = time.monotonic()
    response = harness.command("+33612345678 hello")
    elapsed = time.monotonic() - started
    assert response.status_code == 200
    assert elapsed < 1.0
    harness.slack.wait_for("chat.postMessage", timeout=10)
    assert finished(harness)[0].status is AuditStatus.SENT


def test_a_bad_signature_or_an_old_timestamp_is_refused_and_nothing_is_sent(
    harness: SlackHarness, httpserver: HTTPServer
) -> None:
    assert (
        harness.command("+33612345678 hello", secret="wrong-secret").status_code == 401
    )
    assert (
        harness.command(
            "+33612345678 hello", timestamp=int(time.time()) - 600
        ).status_code
        == 401
    )
    harness.settle()
    assert httpserver.log == []
    assert harness.store.recent(limit=5) == []


def test_when_the_bot_cannot_post_in_the_channel_the_response_url_is_used(
    harness: SlackHarness, httpserver: HTTPServer
) -> None:
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_json(
        SENT, status=201
    )
    harness.slack.state.failures["chat.postMessage"] = "not_in_channel"
    harness.command("+33612345678 hello", channel="GPRIVATE")
    (reply,) = harness.webhooks()
    assert reply["response_type"] == "in_channel"
    assert "sms_5fec89fe97109" in all_text(reply)


def test_when_no_channel_post_works_the_sender_is_told_privately(
    harness: SlackHarness, httpserver: HTTPServer
) -> None:
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_json(
        SENT, status=201
    )
    harness.slack.state.failures["chat.postMessage"] = "channel_not_found"
    harness.slack.state.webhook_status = 404
    harness.command("+33612345678 hello", channel="GPRIVATE")
    (note,) = harness.slack.wait_for("chat.postEphemeral")
    assert note.args["user"] == "U1"
    assert "could not post this in the channel (channel_not_found)" in all_text(
        note.args
    )


def test_help_is_answered_in_the_ack(harness: SlackHarness) -> None:
    response = harness.command("help")
    body = response.json()
    assert body["response_type"] == "ephemeral"
    assert "/sms balance" in all_text(body)


def test_balance_is_answered_privately(
    harness: SlackHarness, httpserver: HTTPServer
) -> None:
    httpserver.expect_request(BALANCE_PATH, method="GET").respond_with_json(
        {"amount": 12.54, "unit": "euros"}
    )
    harness.command("balance")
    (reply,) = harness.webhooks()
    assert reply["response_type"] == "ephemeral"
    assert "12.54" in all_text(reply)


def test_history_lists_this_channels_sends_masked(
    harness: SlackHarness, httpserver: HTTPServer
) -> None:
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_json(
        SENT, status=201
    )
    harness.command("+33612345678 one", trigger="a")
    harness.slack.wait_for("chat.postMessage")
    harness.command("+33698765432 elsewhere", trigger="b", channel="C2")
    harness.slack.wait_for("chat.postMessage", 2)
    harness.command("history 5")
    (reply,) = harness.webhooks(1)
    text = all_text(reply)
    assert "sms_5fec89fe97109" in text
    assert "+33 6 •• •• •• 78" in text
    assert "+33 6 •• •• •• 32" not in text  # sent in another channel
    assert_no_full_number(text)


def test_sms_alone_opens_the_form_with_the_trigger_id(harness: SlackHarness) -> None:
    response = harness.command("", trigger="trig-42")
    assert response.status_code == 200
    (call,) = harness.slack.wait_for("views.open")
    assert call.args["trigger_id"] == "trig-42"
    view = call.args["view"]
    if isinstance(view, str):
        view = json.loads(view)
    assert view["callback_id"] == "sms_modal"
    assert json.loads(view["private_metadata"])["channel_id"] == "C1"


def test_the_same_command_delivered_twice_sends_once(
    harness: SlackHarness, httpserver: HTTPServer
) -> None:
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_json(
        SENT, status=201
    )
    harness.command("+33612345678 hello", trigger="same")
    harness.slack.wait_for("chat.postMessage")
    harness.command("+33612345678 hello", trigger="same")
    harness.webhooks()
    assert len(httpserver.log) == 1
    assert len(harness.store.recent(limit=5)) == 1
