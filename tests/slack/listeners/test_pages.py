"""On-call paging end to end: directory, /sms page, receipts, replies, acks, escalation."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from pytest_httpserver import HTTPServer

from bot.audit import AuditRecord, OptOutList
from bot.audit.deliveries import DeliveryLog
from bot.audit.pages import PageState
from bot.audit.tables import deliveries
from bot.directory.files import load_directory
from bot.domain import AuditStatus
from bot.slack import ids
from tests.conftest import SENT, FakeClock, SlackHarness
from tests.slack.listeners.test_commands import (
    all_text,
    assert_no_full_number,
    finished,
    wait_until,
)

SEND_PATH = "/v1/public/sms-campaign/send"
MakeHarness = Callable[..., SlackHarness]
NUMBERS = {"alice": "+33612345678", "bob": "+33698765432"}

DIRECTORY = """\
people:
  alice: {phone: "+33612345678", slack: UALICE}
  bob:   {phone: "06 98 76 54 32"}
groups:
  dba: {members: [alice, bob]}
  db-oncall:
    members: [alice, bob]
    rotation: weekly
    start: 2026-11-02T09:00:00+01:00
    escalate_after: 1s
"""


@pytest.fixture
def make_harness(
    make_harness: MakeHarness, database_url: str, clock: FakeClock
) -> MakeHarness:
    """Paging and its timers run on SQLite, and on PostgreSQL when TEST_DATABASE_URL
    answers; every instance reads the time from ``clock``."""

    def make(**sms: Any) -> SlackHarness:
        harness = make_harness(database_url=database_url, **sms)
        harness.stack.escalations.pager.clock = clock
        return harness

    return make


@pytest.fixture
def directory_file(tmp_path: Path) -> Path:
    path = tmp_path / "directory.yml"
    path.write_text(DIRECTORY)
    return path


@pytest.fixture
def paging(
    make_harness: MakeHarness, directory_file: Path, httpserver: HTTPServer
) -> SlackHarness:
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_json(
        SENT, status=201
    )
    return make_harness(directory=str(directory_file))


def on_call_order(directory_file: Path) -> list[str]:
    rotation = load_directory(directory_file, region="FR").rotations["db-oncall"]
    return rotation.escalation_order(datetime.now(UTC))


def sent_numbers(httpserver: HTTPServer) -> list[list[str]]:
    return [
        [r["phone_number"] for r in json.loads(req.get_data())["recipients"]]
        for req, _ in httpserver.log
    ]


def page_post(harness: SlackHarness) -> dict[str, Any]:
    (post,) = harness.slack.wait_for("chat.postMessage")
    return post.args


def button_value(post: dict[str, Any]) -> str:
    blocks = (
        post["blocks"]
        if isinstance(post["blocks"], list)
        else json.loads(post["blocks"])
    )
    for block in blocks:
        for element in block.get("elements", []):
            if element.get("action_id") == ids.ACK_PAGE:
                return str(element["value"])
    raise AssertionError("no Acknowledge button")


def posted(harness: SlackHarness) -> AuditRecord:
    """The newest attempt once its channel post (and its page's) is remembered.

    Callbacks find the post through these; in the app they arrive seconds later.
    """
    (record,) = finished(harness)
    wait_until(lambda: harness.store.get(record.id).slack_message_ts)
    page = harness.stack.escalations.pager.pages.for_audit(record.id)
    if page is not None:
        wait_until(
            lambda: harness.stack.escalations.pager.pages.get(page.id).slack_message_ts
        )
    return record


def receipt(ticket: str, number: str, status: str) -> str:
    return json.dumps(
        {
            "message_id": ticket,
            "number": number,
            "status": status,
            "delivery_date": "2026-11-24 10:00:00",
        }
    )


def test_page_a_rotation_texts_the_member_on_call_and_posts_an_acknowledge_button(
    paging: SlackHarness, httpserver: HTTPServer, directory_file: Path
) -> None:
    first = on_call_order(directory_file)[0]
    paging.command("page db-oncall Primary DB down")
    post = page_post(paging)
    assert sent_numbers(httpserver) == [[NUMBERS[first]]]
    body = json.loads(httpserver.log[0][0].get_data())
    assert body["purpose"] == "alert" and body["type"] == "sms_premium"
    assert body["with_replies"] is True
    text = all_text(post)
    assert "Page for db-oncall" in text and first in text
    assert_no_full_number(text)
    assert button_value(post)
    (record,) = finished(paging)
    assert record.source.value == "page"


def test_a_delivery_receipt_updates_the_post_in_place(paging: SlackHarness) -> None:
    paging.command("+33612345678 disk full")
    paging.slack.wait_for("chat.postMessage")
    posted(paging)
    response = paging.callback(
        receipt("sms_5fec89fe97109", "+33612345678", "DELIVERED")
    )
    assert response.status_code == 200 and response.content == b""
    (update,) = paging.slack.wait_for("chat.update")
    (post,) = paging.slack.calls("chat.postMessage")
    assert post.answer is not None
    assert (update.args["channel"], update.args["ts"]) == (
        post.args["channel"],
        post.answer["ts"],
    )
    text = all_text(update.args)
    assert "delivered" in text
    assert "+33 6 •• •• •• 78" in text
    assert_no_full_number(text)
    paging.callback(
        receipt("sms_5fec89fe97109", "+33612345678", "DELIVERED")
    )  # a duplicate
    paging.settle()
    assert len(paging.slack.calls("chat.update")) == 1


def test_a_reply_lands_in_the_thread_with_the_directory_name(
    paging: SlackHarness,
) -> None:
    paging.command("alice are you around?")
    paging.slack.wait_for("chat.postMessage")
    posted(paging)
    reply = {
        "message_id": "sms_5fec89fe97109",
        "number": "+33612345678",
        "text": "On my way",
        "reception_date": "2026-11-24 10:01:00",
    }
    paging.callback(json.dumps(reply))
    posts = paging.slack.wait_for("chat.postMessage", 2)
    thread = posts[1].args
    assert thread["thread_ts"]
    assert "alice" in all_text(thread) and "On my way" in all_text(thread)


def test_a_reply_of_ok_acknowledges_the_page(
    paging: SlackHarness, clock: FakeClock
) -> None:
    paging.command("page db-oncall DB down")
    page_post(paging)
    posted(paging)
    form = (
        "message_id=sms_5fec89fe97109&number=%2B33612345678&text=ok+thanks"
        "&reception_date=2026-11-24+10%3A02%3A00"
    )
    paging.callback(form, content_type="application/x-www-form-urlencoded")
    update = paging.slack.wait_for("chat.update")[-1]
    assert "Acknowledged by alice" in all_text(update.args)
    (page,) = [paging.stack.escalations.pager.pages.get(1)]
    assert page.state is PageState.ACKNOWLEDGED
    clock.advance(2)
    assert paging.stack.escalations.run_escalations() == []


def test_a_receipt_after_the_acknowledgement_keeps_the_page_post(
    paging: SlackHarness,
) -> None:
    paging.command("page db-oncall DB down")
    page_post(paging)
    posted(paging)
    ack = (
        "message_id=sms_5fec89fe97109&number=%2B33612345678&text=ACK"
        "&reception_date=2026-11-24+10%3A02%3A00"
    )
    paging.callback(ack, content_type="application/x-www-form-urlencoded")
    acknowledged = paging.slack.wait_for("chat.update")[-1]
    assert "Acknowledged by alice" in all_text(acknowledged.args)
    updates = len(paging.slack.calls("chat.update"))

    paging.callback(receipt("sms_5fec89fe97109", "+33612345678", "DELIVERED"))
    latest = paging.slack.wait_for("chat.update", updates + 1)[-1]
    assert latest.args["ts"] == acknowledged.args["ts"]
    text = all_text(latest.args)
    assert "Acknowledged by alice" in text  # still the page, not a plain result
    assert "delivered" in text.lower()


def test_the_acknowledge_button_stops_the_escalation(
    paging: SlackHarness, httpserver: HTTPServer, clock: FakeClock
) -> None:
    paging.command("page db-oncall DB down")
    value = button_value(page_post(paging))
    posted(paging)
    paging.interact(
        {
            "type": "block_actions",
            "team": {"id": "T1"},
            "user": {"id": "U5"},
            "channel": {"id": "C1"},
            "trigger_id": "t",
            "response_url": paging.slack.webhook_url("ack"),
            "actions": [
                {
                    "action_id": ids.ACK_PAGE,
                    "block_id": "page_actions",
                    "type": "button",
                    "value": value,
                    "action_ts": "1",
                }
            ],
        }
    )
    update = paging.slack.wait_for("chat.update")[-1]
    assert "Acknowledged by <@U5>" in all_text(update.args)
    assert ids.ACK_PAGE not in all_text(update.args)
    clock.advance(2)
    assert paging.stack.escalations.run_escalations() == []
    assert len(httpserver.log) == 1


def test_nobody_acknowledging_escalates_to_the_next_member_then_says_so(
    paging: SlackHarness, httpserver: HTTPServer, directory_file: Path, clock: FakeClock
) -> None:
    order = on_call_order(directory_file)
    paging.command("page db-oncall DB down")
    page_post(paging)
    posted(paging)
    assert paging.stack.escalations.run_escalations() == []  # not due yet
    clock.advance(2)
    (escalation,) = paging.stack.escalations.run_escalations()
    assert escalation.page.current_member == order[1]
    assert sent_numbers(httpserver) == [[NUMBERS[order[0]]], [NUMBERS[order[1]]]]
    body = json.loads(httpserver.log[1][0].get_data())
    assert "escalated" in body["text"]
    thread = paging.slack.wait_for("chat.postMessage", 2)[1].args
    assert f"paging *{order[1]}*" in all_text(thread)
    clock.advance(2)
    (last,) = paging.stack.escalations.run_escalations()
    assert last.attempts == () and last.page.state is PageState.EXHAUSTED
    texts = [all_text(call.args) for call in paging.slack.calls("chat.postMessage")]
    assert any(
        "Nobody acknowledged" in text and "thread_ts" not in text for text in texts
    )
    assert len(httpserver.log) == 2


def test_an_escalation_timer_survives_a_restart_and_fires_once(
    make_harness: MakeHarness,
    httpserver: HTTPServer,
    directory_file: Path,
    clock: FakeClock,
) -> None:
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_json(
        SENT, status=201
    )
    first = make_harness(directory=str(directory_file))
    first.command("page db-oncall DB down")
    page_post(first)
    posted(first)
    first.stack.escalations.stop()
    clock.advance(2)
    second = make_harness(directory=str(directory_file))  # a restarted process
    third = make_harness(directory=str(directory_file))  # and another instance
    fired = (
        second.stack.escalations.run_escalations()
        + third.stack.escalations.run_escalations()
    )
    assert len(fired) == 1
    assert len(httpserver.log) == 2


def test_a_stop_opt_out_blocks_the_next_send(
    paging: SlackHarness, httpserver: HTTPServer
) -> None:
    stop = {
        "message_id": "sms_1",
        "number": "+33698765432",
        "text": "STOP",
        "stop_date": "2026-11-24 10:05:00",
    }
    assert paging.callback(json.dumps(stop)).status_code == 200
    paging.settle()  # the inbox worker handled the STOP
    assert OptOutList(paging.store).among(["+33698765432"])
    paging.command("bob hello")
    (reply,) = paging.webhooks()
    assert "replied STOP" in all_text(reply)
    paging.settle()  # the command's work is over: nothing was sent after the reply
    assert httpserver.log == []


def test_a_wrong_callback_token_is_404_and_changes_nothing(
    paging: SlackHarness, caplog: pytest.LogCaptureFixture
) -> None:
    stop = {
        "number": "+33612345678",
        "text": "STOP",
        "stop_date": "2026-11-24 10:05:00",
    }
    response = paging.callback(json.dumps(stop), token="wrong-token")
    assert response.status_code == 404
    paging.settle()
    assert OptOutList(paging.store).among(["+33612345678"]) == []
    assert "wrong-token" not in caplog.text


def test_a_group_page_texts_every_member(
    paging: SlackHarness, httpserver: HTTPServer
) -> None:
    paging.command("page dba Backups failed")
    page_post(paging)
    assert sorted(sent_numbers(httpserver)[0]) == sorted(NUMBERS.values())


def test_directory_names_and_user_groups_are_recipients(
    paging: SlackHarness, httpserver: HTTPServer
) -> None:
    paging.slack.state.usergroups = {"S1": ["UALICE"]}
    paging.command("<!subteam^S1|@dba>, bob Disk full")
    paging.slack.wait_for("chat.postMessage")
    assert sent_numbers(httpserver) == [["+33612345678", "+33698765432"]]
    assert json.loads(httpserver.log[0][0].get_data())["text"] == "Disk full"


def test_oncall_shows_who_is_on_call_now_and_next(
    paging: SlackHarness, directory_file: Path
) -> None:
    order = on_call_order(directory_file)
    paging.command("oncall")
    (reply,) = paging.webhooks()
    text = all_text(reply)
    assert f"*{order[0]}* now" in text and f"next *{order[1]}*" in text
    paging.command("oncall nope")
    assert "No rotation called 'nope'" in all_text(paging.webhooks(2)[1])


def test_a_bad_directory_at_start_names_each_problem(
    make_harness: MakeHarness, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "people:\n  alice: {phone: 'not a number'}\ngroups:\n  dba: {members: [alice, zed]}\n"
    )
    from bot.errors import SettingsError

    with pytest.raises(SettingsError) as exc_info:
        make_harness(directory=str(bad))
    text = "\n".join(exc_info.value.problems)
    assert "line 2" in text and "not a number" in text
    assert "line 4" in text and "zed" in text


def test_a_bad_edit_while_running_keeps_the_previous_directory(
    paging: SlackHarness, directory_file: Path
) -> None:
    source = paging.stack.paging.deps.directory
    directory_file.write_text("people: [this is not a mapping\n")
    source._checked_at = float("-inf")  # do not wait for the periodic check
    assert source.current().is_name("alice")
    admin = [call for call in paging.slack.calls("chat.postMessage")]
    assert admin == []  # no SMS_ADMIN_CHANNEL: logged only


def test_receipts_and_replies_for_unknown_tickets_are_accepted_quietly(
    paging: SlackHarness,
) -> None:
    assert (
        paging.callback(receipt("sms_unknown", "+33600000000", "DELIVERED")).status_code
        == 200
    )
    assert (
        paging.callback(
            b"\x00garbage", content_type="application/octet-stream"
        ).status_code
        == 200
    )
    assert (
        paging.callback(receipt("sms_unknown", "+33600000000", "ACK")).status_code
        == 200
    )
    paging.settle()
    assert paging.slack.calls("chat.update") == []
    with paging.store.transaction("count receipts") as conn:
        rows = conn.execute(sa.select(deliveries.c.status, deliveries.c.audit_id)).all()
    assert [tuple(row) for row in rows] == [
        ("DELIVERED", None)
    ]  # the late ACK does not undo it


def test_the_page_record_is_audited_with_its_status(paging: SlackHarness) -> None:
    paging.command("page alice Call me")
    page_post(paging)
    (record,) = finished(paging)
    assert record.status is AuditStatus.SENT
    assert record.recipients == ["+33612345678"]


def test_a_page_to_an_unknown_name_is_refused_and_audited(
    paging: SlackHarness, httpserver: HTTPServer
) -> None:
    paging.command("page nobody-here DB down")
    (reply,) = paging.webhooks()
    assert "nobody-here" in all_text(reply)
    (record,) = finished(paging)
    assert record.status is AuditStatus.REJECTED
    assert httpserver.log == []


def test_a_refused_escalation_moves_on_at_once_and_says_why(
    paging: SlackHarness, httpserver: HTTPServer, directory_file: Path, clock: FakeClock
) -> None:
    order = on_call_order(directory_file)
    OptOutList(paging.store).add(NUMBERS[order[1]], source="admin")
    paging.command("page db-oncall DB down")
    page_post(paging)
    posted(paging)
    clock.advance(2)
    (escalation,) = paging.stack.escalations.run_escalations()
    (refused,) = escalation.attempts
    assert refused.member == order[1] and not refused.reached
    assert "STOP" in refused.why
    # Nobody is left: the page ends now, not one more escalate_after later.
    assert escalation.page.state is PageState.EXHAUSTED
    notes = [all_text(call.args) for call in paging.slack.calls("chat.postMessage")]
    assert any(f"*{order[1]}* could not be reached" in note for note in notes)
    assert any("Nobody acknowledged" in note for note in notes)
    assert len(httpserver.log) == 1


def test_a_post_remembered_while_its_receipt_is_stored_is_updated(
    paging: SlackHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The receipt's handler found the record without its post; the post is then
    # remembered (reading no receipt yet) just before the receipt is stored: the
    # handler must look for the post again once its receipt is stored.
    store = paging.service.store
    paging.slack.state.failures["chat.postMessage"] = "ratelimited"
    paging.slack.state.webhook_status = 500
    paging.command("+33612345678 disk full", channel="C1")
    (sent,) = finished(paging)
    assert store.get(sent.id).slack_message_ts is None
    log = paging.stack.inbound._deliveries  # noqa: SLF001
    real = log.record

    def post_lands_first(**kw: Any) -> bool:
        paging.service.remember_post(sent.id, channel="C1", ts="1700000000.888888")
        return real(**kw)

    monkeypatch.setattr(log, "record", post_lands_first)
    paging.callback(receipt("sms_5fec89fe97109", "+33612345678", "DELIVERED"))
    (update,) = paging.slack.wait_for("chat.update", timeout=3)
    assert update.args["ts"] == "1700000000.888888"
    assert "delivered" in all_text(update.args)


@pytest.mark.parametrize("restarted", [False, True])
def test_a_receipt_that_beats_the_post_updates_it_once_the_post_is_remembered(
    paging: SlackHarness, make_harness: MakeHarness, restarted: bool
) -> None:
    store = paging.service.store  # a send whose post is not remembered yet:
    paging.slack.state.failures["chat.postMessage"] = "ratelimited"
    paging.slack.state.webhook_status = 500
    paging.command("+33612345678 disk full", channel="C1")
    (sent,) = finished(paging)
    assert store.get(sent.id).slack_message_ts is None
    paging.callback(receipt("sms_5fec89fe97109", "+33612345678", "DELIVERED"))
    wait_until(lambda: DeliveryLog(store).for_audit(sent.id))
    assert paging.slack.calls("chat.update") == []  # no post to update yet
    # The post lands (in a process started since, when restarted): nothing of the
    # receipt was kept in memory, yet the post shows it at once.
    poster = make_harness() if restarted else paging
    poster.service.remember_post(sent.id, channel="C1", ts="1700000000.999999")
    (update,) = paging.slack.wait_for("chat.update", timeout=1.5)
    assert update.args["ts"] == "1700000000.999999"
    assert "delivered" in all_text(update.args)
