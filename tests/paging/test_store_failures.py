"""Issue 18, items 4 and 5: a page that went out is never hidden by a store failure,
and a receipt's failover is re-driven after a retry (HTTP level, local fakes)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from bot.audit.inbox import CallbackInbox
from bot.audit.pages import PageState
from bot.audit.tables import callback_inbox
from bot.errors import AuditStoreError
from tests.conftest import FakeClock, SlackHarness
from tests.paging.conftest import NUMBERS, FakeOctopush, inject_store_faults
from tests.paging.test_failover import order, thread_texts
from tests.slack.listeners.test_commands import all_text, wait_until
from tests.slack.listeners.test_pages import button_value, posted, receipt

#: Every write and read of the page after its SMS (not the audit record's own).
PAGE_OPERATIONS = (
    "index a page attempt",
    "update a page",
    "read a page",
    "remember the page post",
    "list a page's SMS",
    "numbers of a page",
)


def page_posts(harness: SlackHarness) -> list[dict[str, Any]]:
    return [
        call.args
        for call in harness.slack.calls("chat.postMessage")
        if not call.args.get("thread_ts") and "Page for" in all_text(call.args)
    ]


def ack_by_sms(harness: SlackHarness, number: str, ticket: str = "sms_t1") -> None:
    reply = {
        "message_id": ticket,
        "number": number,
        "text": "ACK",
        "reception_date": "2026-11-24 10:01:00",
    }
    assert harness.callback(json.dumps(reply)).status_code == 200


def handled(harness: SlackHarness) -> bool:
    """Every stored callback was handled (or set aside): the worker is done."""
    return CallbackInbox(harness.store).unprocessed() == 0


@pytest.mark.parametrize(
    "failing",
    [("index a page attempt",), PAGE_OPERATIONS],
    ids=["audit-id", "every-page-operation"],
)
def test_a_page_whose_record_fails_after_the_sms_is_posted_and_acknowledged_by_sms(
    start: Callable[..., SlackHarness],
    octopush: FakeOctopush,
    monkeypatch: pytest.MonkeyPatch,
    failing: tuple[str, ...],
) -> None:
    harness = start()
    first = order(harness)[0]
    faults = inject_store_faults(harness, monkeypatch)
    octopush.on_send = lambda body: faults.fail(*failing)  # once Octopush has it
    harness.command("page db-oncall DB down")

    (post,) = wait_until(lambda: page_posts(harness))
    assert button_value(post) == "1"
    assert f"*{first}*" in all_text(post)
    note = wait_until(
        lambda: [t for t in thread_texts(harness) if "The page was sent" in t]
    )
    assert "recording the page in the audit database failed" in note[0]
    assert "the escalation still work" in note[0]  # its timer predates the SMS
    assert "index a page attempt" in faults.failed
    assert octopush.numbers() == [NUMBERS[first]]
    # Never the catch-all: the person is not told that nothing was done.
    said = [all_text(call.args) for call in harness.slack.calls("webhook/command")]
    assert not any("nothing more was done" in text for text in said)

    faults.heal()
    ack_by_sms(harness, NUMBERS[first])
    pager = harness.stack.escalations.pager
    wait_until(lambda: pager.pages.get(1).state is PageState.ACKNOWLEDGED)
    by = pager.pages.get(1).acknowledged_by or ""
    assert by.startswith(f"{first} (") and by.endswith(" by SMS")
    assert octopush.numbers() == [NUMBERS[first]]


def test_a_page_whose_audit_id_is_lost_updates_its_post_on_an_sms_ack(
    start: Callable[..., SlackHarness],
    octopush: FakeOctopush,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    harness = start()
    first = order(harness)[0]
    faults = inject_store_faults(harness, monkeypatch)
    octopush.on_send = lambda body: faults.fail("index a page attempt")
    harness.command("page db-oncall DB down")
    (post,) = wait_until(lambda: page_posts(harness))
    pager = harness.stack.escalations.pager
    wait_until(lambda: pager.pages.get(1).slack_message_ts)
    faults.heal()
    assert pager.pages.get(1).audit_ids == ()  # the write after the SMS never landed

    ack_by_sms(harness, NUMBERS[first])
    update = wait_until(
        lambda: [
            call.args
            for call in harness.slack.calls("chat.update")
            if "Acknowledged by" in all_text(call.args)
        ]
    )
    assert f"Acknowledged by {first}" in all_text(update[-1])
    assert update[-1]["ts"] == pager.pages.get(1).slack_message_ts


def test_a_page_whose_audit_id_is_lost_still_escalates_and_fails_over(
    start: Callable[..., SlackHarness],
    octopush: FakeOctopush,
    monkeypatch: pytest.MonkeyPatch,
    clock: FakeClock,
) -> None:
    harness = start()
    first, second, third = order(harness)
    faults = inject_store_faults(harness, monkeypatch)
    octopush.on_send = lambda body: faults.fail("index a page attempt")
    harness.command("page db-oncall DB down")
    wait_until(lambda: page_posts(harness))
    pager = harness.stack.escalations.pager
    wait_until(lambda: pager.pages.get(1).slack_message_ts)
    faults.heal()
    octopush.on_send = None
    clock.advance(2)  # the timer was written with the page, before the SMS
    (run,) = harness.stack.escalations.run_escalations()
    assert run.page.current_member == second
    assert octopush.numbers() == [NUMBERS[first], NUMBERS[second]]
    # A failed receipt for the second member's SMS fails over to the third.
    harness.callback(receipt("sms_t2", NUMBERS[second], "NOT_DELIVERED"))
    wait_until(lambda: len(octopush.bodies) == 3)
    assert octopush.numbers() == [NUMBERS[first], NUMBERS[second], NUMBERS[third]]


def test_a_failed_receipt_fails_over_after_its_listener_raised_once(
    start: Callable[..., SlackHarness],
    octopush: FakeOctopush,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    harness = start()
    first, second, _ = order(harness)
    harness.command("page db-oncall DB down")
    posted(harness)
    listener = harness.stack.receipts
    raised: list[int] = []
    original = listener.receipt

    def receipt_once(record: Any) -> None:
        if not raised:
            raised.append(record.id)
            raise RuntimeError("Slack fell over")
        original(record)

    monkeypatch.setattr(listener, "receipt", receipt_once)
    harness.callback(receipt("sms_t1", NUMBERS[first], "NOT_DELIVERED"))
    # The inbox retries the stored callback (after its back-off) and fails over.
    wait_until(lambda: len(octopush.bodies) == 2, timeout=15)
    wait_until(lambda: handled(harness), timeout=15)
    assert raised
    assert octopush.numbers() == [NUMBERS[first], NUMBERS[second]]
    pager = harness.stack.escalations.pager
    assert pager.pages.get(1).current_member == second

    # Octopush sends the receipt again later: the failover is done, nobody more.
    again = json.loads(receipt("sms_t1", NUMBERS[first], "NOT_DELIVERED"))
    harness.callback(json.dumps({**again, "delivery_date": "2026-11-24 10:09:00"}))
    wait_until(lambda: handled(harness), timeout=15)
    assert octopush.numbers() == [NUMBERS[first], NUMBERS[second]]


def test_a_failover_cut_short_after_its_claim_is_resumed_once_on_retry(
    start: Callable[..., SlackHarness],
    octopush: FakeOctopush,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The move to the next member is claimed, then the database fails before the
    SMS is even recorded: the retried receipt texts that member, once."""
    harness = start()
    first, second, _ = order(harness)
    harness.command("page db-oncall DB down")
    posted(harness)
    faults = inject_store_faults(harness, monkeypatch)
    faults.fail("take the send lock", times=1)
    harness.callback(receipt("sms_t1", NUMBERS[first], "BAD_DESTINATION"))
    wait_until(lambda: len(octopush.bodies) == 2, timeout=15)
    wait_until(lambda: handled(harness), timeout=15)
    assert faults.failed == ["take the send lock"]
    assert octopush.numbers() == [NUMBERS[first], NUMBERS[second]]
    assert f"{first} could not be reached" in octopush.bodies[1]["text"]
    page = harness.stack.escalations.pager.pages.get(1)
    assert page.current_member == second and len(page.audit_ids) == 2
    note = wait_until(
        lambda: [t for t in thread_texts(harness) if "cannot be reached" in t]
    )
    assert f"paging *{second}*" in note[0]

    again = json.loads(receipt("sms_t1", NUMBERS[first], "BAD_DESTINATION"))
    harness.callback(json.dumps({**again, "delivery_date": "2026-11-24 10:09:00"}))
    wait_until(lambda: handled(harness), timeout=15)
    assert octopush.numbers() == [NUMBERS[first], NUMBERS[second]]


def test_a_timer_move_cut_short_is_resumed_by_the_next_timer_not_skipped(
    start: Callable[..., SlackHarness],
    octopush: FakeOctopush,
    monkeypatch: pytest.MonkeyPatch,
    clock: FakeClock,
) -> None:
    harness = start()
    first, second, third = order(harness)
    harness.command("page db-oncall DB down")
    posted(harness)
    faults = inject_store_faults(harness, monkeypatch)
    faults.fail("take the send lock", times=1)
    clock.advance(2)
    escalations = harness.stack.escalations
    with pytest.raises(AuditStoreError):  # the loop logs it and tries next time
        escalations.run_escalations()
    assert octopush.numbers() == [NUMBERS[first]]
    clock.advance(2)
    (run,) = escalations.run_escalations()
    assert run.reached is not None and run.reached.member == second
    assert octopush.numbers() == [NUMBERS[first], NUMBERS[second]]
    assert escalations.run_escalations() == []  # the resume restarted the timer
    clock.advance(2)
    (last,) = escalations.run_escalations()
    assert last.page.current_member == third
    assert octopush.numbers() == [NUMBERS[first], NUMBERS[second], NUMBERS[third]]


def test_a_page_whose_first_send_failed_before_octopush_never_escalates(
    start: Callable[..., SlackHarness],
    octopush: FakeOctopush,
    monkeypatch: pytest.MonkeyPatch,
    clock: FakeClock,
) -> None:
    """The person is told nothing more was done: true, so no later escalation."""
    harness = start()
    faults = inject_store_faults(harness, monkeypatch)
    faults.fail("take the send lock", times=1)
    harness.command("page db-oncall DB down")
    (reply,) = harness.webhooks()
    assert "nothing more was done" in all_text(reply)
    clock.advance(2)
    assert harness.stack.escalations.run_escalations() == []
    assert octopush.bodies == []


def test_a_page_whose_first_send_and_discard_failed_is_never_escalated(
    start: Callable[..., SlackHarness],
    octopush: FakeOctopush,
    monkeypatch: pytest.MonkeyPatch,
    clock: FakeClock,
) -> None:
    """The same outage also breaks the discard: the page row and its timer remain.
    The person was told nothing more was done, so the timer drops the page instead
    of paging the next member ("alice did not acknowledge" would be a lie)."""
    harness = start()
    faults = inject_store_faults(harness, monkeypatch)
    faults.fail("take the send lock", "discard a page", times=1)
    harness.command("page db-oncall DB down")
    (reply,) = harness.webhooks()
    assert "nothing more was done" in all_text(reply)
    assert "discard a page" in faults.failed
    with harness.store.transaction("count pages") as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM pages")).scalar() == 1
    clock.advance(2)  # escalate_after ran out, but not the grace of a first send
    assert harness.stack.escalations.run_escalations() == []
    clock.advance(120)
    assert harness.stack.escalations.run_escalations() == []
    assert octopush.bodies == []
    with harness.store.transaction("count pages") as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM pages")).scalar() == 0


def test_a_failover_whose_slack_report_fails_is_logged_not_retried(
    start: Callable[..., SlackHarness],
    octopush: FakeOctopush,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    harness = start()
    first, second, _ = order(harness)
    harness.command("page db-oncall DB down")
    posted(harness)

    def report_fails(run: Any) -> None:
        raise RuntimeError("Slack fell over")

    monkeypatch.setattr(harness.stack.receipts, "failed_over", report_fails)
    harness.callback(receipt("sms_t1", NUMBERS[first], "NOT_DELIVERED"))
    wait_until(lambda: handled(harness))
    with harness.store.transaction("read the inbox") as conn:
        (row,) = conn.execute(
            sa.select(callback_inbox.c.outcome, callback_inbox.c.attempts)
        ).all()
    assert tuple(row) == ("handled", 1)  # the SMS is out: handled, not retried
    assert octopush.numbers() == [NUMBERS[first], NUMBERS[second]]
