"""Cancelling a scheduled send from Slack, end to end against a local Octopush.

A scheduled send is made with the real form; its post carries *Cancel* only where
Octopush's rules allow it; the button and ``/sms cancel TICKET`` call
``DELETE /sms-campaign/cancel``, only for the sender or an admin, once; the record
becomes ``cancelled``, the post says who cancelled it and when, and the day's budget
gets the refunded cost back.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from pytest_httpserver import HTTPServer

from bot.audit.records import AuditRecord
from bot.audit.tables import audit_records
from bot.domain import AuditStatus
from bot.slack import ids
from tests.conftest import SENT, SlackHarness
from tests.slack.listeners.test_commands import all_text, finished, wait_until
from tests.slack.listeners.test_forms import state, submission

SEND_PATH = "/v1/public/sms-campaign/send"
CANCEL_PATH = "/v1/public/sms-campaign/cancel"
TICKET = str(SENT["sms_ticket"])
MakeHarness = Callable[..., SlackHarness]


def in_minutes(minutes: float) -> int:
    return int(time.time() + minutes * 60)


def schedule(
    harness: SlackHarness,
    *,
    minutes: float = 60,
    recipients: str = "+33612345678",
    user: str = "U1",
    view_id: str = "V1",
) -> tuple[AuditRecord, dict[str, Any]]:
    """Schedule a send with the form; its record and its channel post."""
    before = len(harness.slack.calls("chat.postMessage"))
    payload = submission(
        state(recipients=recipients, send_at=in_minutes(minutes), channel="C9"),
        view_id=view_id,
    )
    payload["user"]["id"] = user
    assert harness.interact(payload).status_code == 200
    post = harness.slack.wait_for("chat.postMessage", before + 1)[before]
    harness.settle()
    record = wait_until(lambda: harness.store.recent(limit=1)[0].slack_message_ts)
    assert record
    (record,) = finished(harness)
    return record, post.args


def cancel_button(post: dict[str, Any]) -> dict[str, Any] | None:
    blocks = post["blocks"]
    blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
    for block in blocks:
        for element in block.get("elements", []):
            if element.get("action_id") == ids.CANCEL_SCHEDULED:
                found: dict[str, Any] = element
                return found
    return None


def press_cancel(harness: SlackHarness, value: str, *, user: str) -> None:
    response = harness.interact(
        {
            "type": "block_actions",
            "team": {"id": "T1", "domain": "test"},
            "user": {"id": user, "username": user.lower(), "team_id": "T1"},
            "api_app_id": "A1",
            "channel": {"id": "C9", "name": "ops"},
            "container": {"type": "message", "channel_id": "C9"},
            "trigger_id": f"trigger-{user}",
            "response_url": harness.slack.webhook_url("command"),
            "actions": [
                {
                    "type": "button",
                    "action_id": ids.CANCEL_SCHEDULED,
                    "block_id": ids.CANCEL_SCHEDULED_BLOCK,
                    "value": value,
                    "action_ts": "1700000000.1",
                }
            ],
        }
    )
    assert response.status_code == 200


def answers(harness: SlackHarness) -> str:
    harness.settle()
    return all_text([call.args for call in harness.slack.calls("webhook/command")])


def cancels(httpserver: HTTPServer) -> list[dict[str, Any]]:
    return [
        json.loads(request.get_data())
        for request, _ in httpserver.log
        if request.path == CANCEL_PATH
    ]


def octopush_accepts(httpserver: HTTPServer) -> None:
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_json(
        SENT, status=201
    )
    httpserver.expect_request(CANCEL_PATH, method="DELETE").respond_with_data(
        "", status=204
    )


def test_the_button_cancels_at_octopush_records_it_and_edits_the_post(
    make_harness: MakeHarness, httpserver: HTTPServer, database_url: str
) -> None:
    octopush_accepts(httpserver)
    harness = make_harness(database_url=database_url)
    record, post = schedule(harness)
    button = cancel_button(post)
    assert button is not None and button["value"] == str(record.id)

    press_cancel(harness, button["value"], user="U1")
    harness.settle()

    assert cancels(httpserver) == [{"ticket_number": TICKET}]
    stored = harness.store.get(record.id)
    assert stored.status is AuditStatus.CANCELLED
    assert stored.cancelled_by == "U1" and stored.cancelled_at is not None
    (update,) = harness.slack.wait_for("chat.update")
    assert update.args["ts"] == record.slack_message_ts
    edited = all_text(update.args)
    assert "Scheduled SMS cancelled" in edited and "<@U1>" in edited
    assert cancel_button(update.args) is None
    assert "will not go out" in answers(harness)


def test_the_button_is_offered_only_where_octopush_would_cancel(
    make_harness: MakeHarness, httpserver: HTTPServer
) -> None:
    octopush_accepts(httpserver)
    harness = make_harness()
    _, three = schedule(
        harness, recipients="+33612345678, +33612345679, +33612345670", view_id="V1"
    )
    _, soon = schedule(harness, minutes=5, view_id="V2")
    _, later = schedule(harness, minutes=30, view_id="V3")
    assert cancel_button(three) is None
    assert cancel_button(soon) is None
    assert cancel_button(later) is not None


def test_slash_cancel_is_for_the_sender_and_admins_only(
    make_harness: MakeHarness, httpserver: HTTPServer, database_url: str
) -> None:
    octopush_accepts(httpserver)
    harness = make_harness(database_url=database_url, admins="UADMIN")
    record, _ = schedule(harness)

    harness.command(f"cancel {TICKET}", user="U2", channel="C9", trigger="t-1")
    said = answers(harness)
    assert "Only the person who scheduled this send, or an admin" in said
    assert cancels(httpserver) == []
    assert harness.store.get(record.id).status is AuditStatus.SENT

    harness.command(f"cancel {TICKET}", user="UADMIN", channel="C9", trigger="t-2")
    harness.settle()
    assert cancels(httpserver) == [{"ticket_number": TICKET}]
    stored = harness.store.get(record.id)
    assert stored.status is AuditStatus.CANCELLED
    assert stored.cancelled_by == "UADMIN"
    (update,) = harness.slack.wait_for("chat.update")
    assert "<@UADMIN>" in all_text(update.args)


def test_a_refusal_from_octopush_is_told_and_the_send_stays_scheduled(
    make_harness: MakeHarness, httpserver: HTTPServer
) -> None:
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_json(
        SENT, status=201
    )
    httpserver.expect_request(CANCEL_PATH, method="DELETE").respond_with_json(
        {"code": 100, "message": "This campaign cannot be cancelled."}, status=400
    )
    harness = make_harness()
    record, _ = schedule(harness)
    harness.command(f"cancel {TICKET}", user="U1", channel="C9", trigger="t-1")
    said = answers(harness)
    assert "Octopush refused" in said and "still scheduled" in said
    assert len(cancels(httpserver)) == 1
    stored = harness.store.get(record.id)
    assert stored.status is AuditStatus.SENT and stored.claimed_by is None
    assert harness.slack.calls("chat.update") == []


def test_a_double_press_cancels_once(
    make_harness: MakeHarness, httpserver: HTTPServer, database_url: str
) -> None:
    octopush_accepts(httpserver)
    harness = make_harness(database_url=database_url)
    record, post = schedule(harness)
    button = cancel_button(post)
    assert button is not None
    press_cancel(harness, button["value"], user="U1")
    press_cancel(harness, button["value"], user="U1")
    said = answers(harness)
    assert len(cancels(httpserver)) == 1
    assert harness.store.get(record.id).status is AuditStatus.CANCELLED
    assert "will not go out" in said
    assert "already cancelled" in said or "Someone is cancelling" in said


def test_unknown_tickets_and_a_missing_ticket_are_answered_in_plain_words(
    harness: SlackHarness, httpserver: HTTPServer
) -> None:
    response = harness.command("cancel", trigger="t-0")
    assert "Usage: `/sms cancel TICKET`" in all_text(response.json())
    harness.command("cancel sms_nope", trigger="t-1")
    assert "No send with the ticket sms_nope is on record" in answers(harness)
    assert cancels(httpserver) == []


def test_a_cancelled_send_gives_its_cost_back_to_the_daily_budget(
    make_harness: MakeHarness, httpserver: HTTPServer, database_url: str
) -> None:
    octopush_accepts(httpserver)
    # SENT costs 0.0333: one fits in the budget, two do not.
    harness = make_harness(database_url=database_url, daily_budget=0.05)
    record, _ = schedule(harness)
    assert harness.store.spent_since(record.created_at) == SENT["total_cost"]

    harness.command("+33612345679 second", channel="C9", trigger="t-over")
    refused = wait_until(lambda: harness.store.recent(limit=1)[0].id != record.id)
    assert refused
    harness.settle()
    assert harness.store.recent(limit=1)[0].status is AuditStatus.REJECTED

    harness.command(f"cancel {TICKET}", user="U1", channel="C9", trigger="t-c")
    harness.settle()
    assert harness.store.get(record.id).status is AuditStatus.CANCELLED
    assert harness.store.get(record.id).cancel_refunded is True
    assert harness.store.spent_since(record.created_at) == 0.0

    harness.command("+33612345679 second", channel="C9", trigger="t-again")
    harness.settle()
    assert harness.store.recent(limit=1)[0].status is AuditStatus.SENT


def test_history_shows_a_cancelled_send(
    make_harness: MakeHarness, httpserver: HTTPServer
) -> None:
    octopush_accepts(httpserver)
    harness = make_harness()
    schedule(harness)
    harness.command(f"cancel {TICKET}", user="U1", channel="C9", trigger="t-c")
    harness.settle()
    harness.command("history", channel="C9", trigger="t-h")
    assert "↩️ cancelled" in answers(harness)


def test_a_press_too_late_answers_why_and_takes_the_button_away(
    make_harness: MakeHarness, httpserver: HTTPServer
) -> None:
    octopush_accepts(httpserver)
    harness = make_harness()
    record, post = schedule(harness, minutes=60)
    button = cancel_button(post)
    assert button is not None
    # Time passes: the send now goes out in 5 minutes.
    soon = datetime.now(UTC) + timedelta(minutes=5)
    with harness.store.transaction("move the send", write=True) as conn:
        conn.execute(
            sa.update(audit_records)
            .where(audit_records.c.id == record.id)
            .values(send_at=soon)
        )
    press_cancel(harness, button["value"], user="U1")
    said = answers(harness)
    assert "too late" in said and "more than 10 minutes before" in said
    assert cancels(httpserver) == []
    assert harness.store.get(record.id).status is AuditStatus.SENT
    (update,) = harness.slack.wait_for("chat.update")
    assert cancel_button(update.args) is None
    assert "SMS scheduled for" in all_text(update.args)
