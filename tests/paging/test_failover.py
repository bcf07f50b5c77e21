"""Issue 11: a page always reaches somebody (HTTP level, against the local fakes)."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.audit import OptOutList
from bot.audit.pages import PageState
from bot.domain import AuditStatus, Source
from tests.conftest import FakeClock, SlackHarness
from tests.paging.conftest import NUMBERS, FakeOctopush
from tests.slack.listeners.test_commands import all_text, wait_until
from tests.slack.listeners.test_pages import posted, receipt


def order(harness: SlackHarness) -> list[str]:
    return list(harness.stack.escalations.pager.plan("db-oncall").members)


def thread_texts(harness: SlackHarness) -> list[str]:
    return [
        all_text(call.args)
        for call in harness.slack.calls("chat.postMessage")
        if call.args.get("thread_ts")
    ]


def channel_posts(harness: SlackHarness, channel: str) -> list[str]:
    return [
        all_text(call.args)
        for call in harness.slack.calls("chat.postMessage")
        if call.args.get("channel") == channel and not call.args.get("thread_ts")
    ]


def page_of(harness: SlackHarness) -> Any:
    pager = harness.stack.escalations.pager
    return wait_until(
        lambda: pager.pages.get(1) if pager.pages.get(1).slack_message_ts else None
    )


def test_an_opted_out_on_call_member_hands_the_page_to_the_next_at_once(
    start: Callable[..., SlackHarness], octopush: FakeOctopush
) -> None:
    harness = start()
    first, second, _ = order(harness)
    OptOutList(harness.store).add(NUMBERS[first], source="admin")
    harness.command("page db-oncall DB down")
    wait_until(lambda: octopush.bodies)
    assert octopush.numbers() == [NUMBERS[second]]
    assert "DB down" in octopush.bodies[0]["text"]
    notes = wait_until(
        lambda: [t for t in thread_texts(harness) if "could not be reached" in t]
    )
    assert f"*{first}* could not be reached" in notes[0] and "STOP" in notes[0]
    assert f"paging *{second}*" in notes[0]
    assert page_of(harness).state is PageState.OPEN


def test_a_blocked_number_hands_the_page_on(
    start: Callable[..., SlackHarness], octopush: FakeOctopush
) -> None:
    probe = start()
    first, second, _ = order(probe)
    harness = start(blocked_numbers=NUMBERS[first])
    harness.command("page db-oncall DB down", trigger="t-blocked")
    wait_until(lambda: octopush.bodies)
    assert octopush.numbers() == [NUMBERS[second]]
    notes = wait_until(
        lambda: [t for t in thread_texts(harness) if "an admin blocked" in t]
    )
    assert f"*{first}* could not be reached" in notes[0]


def test_a_number_octopush_refuses_hands_the_page_on(
    start: Callable[..., SlackHarness], octopush: FakeOctopush
) -> None:
    harness = start()
    first, second, _ = order(harness)
    octopush.refused.add(NUMBERS[first])
    harness.command("page db-oncall DB down")
    wait_until(lambda: len(octopush.bodies) == 2)
    assert octopush.numbers() == [NUMBERS[first], NUMBERS[second]]
    notes = wait_until(lambda: [t for t in thread_texts(harness) if "117" in t])
    assert f"*{first}* could not be reached" in notes[0]


@pytest.mark.parametrize(
    "status", ["NOT_DELIVERED", "BAD_DESTINATION", "BLACKLISTED_NUMBER", "NOT_ALLOWED"]
)
def test_a_failed_receipt_pages_the_next_member_at_once(
    start: Callable[..., SlackHarness], octopush: FakeOctopush, status: str
) -> None:
    harness = start()
    first, second, _ = order(harness)
    harness.command("page db-oncall DB down")
    posted(harness)
    harness.callback(receipt("sms_t1", NUMBERS[first], status))
    wait_until(lambda: len(octopush.bodies) == 2)
    assert octopush.numbers() == [NUMBERS[first], NUMBERS[second]]
    assert f"{first} could not be reached" in octopush.bodies[1]["text"]
    assert "DB down" in octopush.bodies[1]["text"]
    notes = wait_until(
        lambda: [t for t in thread_texts(harness) if "cannot be reached" in t]
    )
    assert status in notes[0] and f"paging *{second}*" in notes[0]
    # A duplicate receipt, or one for a member already passed, moves nothing.
    harness.callback(receipt("sms_t1", NUMBERS[first], status))
    harness.callback(receipt("sms_t1", NUMBERS[first], "UNDEFINED"))
    assert len(octopush.bodies) == 2


def test_when_every_member_fails_the_channel_and_admin_channel_are_told(
    start: Callable[..., SlackHarness], octopush: FakeOctopush
) -> None:
    harness = start(admin_channel="CADMIN")
    for number in NUMBERS.values():
        OptOutList(harness.store).add(number, source="admin")
    harness.command("page db-oncall DB down")
    admin = wait_until(lambda: channel_posts(harness, "CADMIN"))
    assert "reached nobody" in admin[0] and "db-oncall" in admin[0]
    channel = wait_until(
        lambda: [t for t in channel_posts(harness, "C1") if "reached nobody" in t]
    )
    assert channel
    assert octopush.bodies == []
    assert page_of(harness).state is PageState.EXHAUSTED


def test_a_stop_from_a_rotation_member_is_announced_in_the_admin_channel(
    start: Callable[..., SlackHarness],
) -> None:
    harness = start(admin_channel="CADMIN")
    stop = {
        "number": NUMBERS["bob"],
        "text": "STOP",
        "stop_date": "2026-11-24 10:05:00",
    }
    harness.callback(json.dumps(stop))
    notice = wait_until(
        lambda: [t for t in channel_posts(harness, "CADMIN") if "opted out" in t]
    )
    assert "bob" in notice[0] and "db-oncall cannot reach" in notice[0]


def test_escalations_carry_the_page_text_with_redaction_until_the_page_closes(
    start: Callable[..., SlackHarness], octopush: FakeOctopush, clock: FakeClock
) -> None:
    harness = start(audit_redact_text=True)
    first, second, _ = order(harness)
    harness.command("page db-oncall Primary DB down")
    posted(harness)
    clock.advance(2)
    harness.stack.escalations.run_escalations()
    page_sms = (
        "[sms-bot #1] Primary DB down. Reply ACK 1, RES 1 to resolve, ESC 1 to pass "
        "it on."
    )
    assert octopush.bodies[1]["text"] == (
        f"{page_sms} (escalated: {first} did not acknowledge)"
    )
    pager = harness.stack.escalations.pager
    assert pager.pages.get(1).text == page_sms
    pager.acknowledge(1, by="bob")
    assert pager.pages.get(1).text is None
    assert all(record.text is None for record in harness.store.recent(limit=5))


def test_escalations_are_system_sends_outside_the_pagers_rate_limit(
    start: Callable[..., SlackHarness], octopush: FakeOctopush, clock: FakeClock
) -> None:
    harness = start(rate_limit="1/hour")
    harness.command("page db-oncall DB down", user="U1")
    posted(harness)
    clock.advance(2)
    (run,) = harness.stack.escalations.run_escalations()
    assert run.reached is not None and len(octopush.bodies) == 2
    escalation = harness.store.get(run.reached.audit_id or 0)
    assert escalation.source is Source.ESCALATION and escalation.slack_user_id is None
    assert escalation.status is AuditStatus.SENT
    # The person's own limit counts only their page: the next one is refused.
    harness.command("+33612345678 hello", user="U1", trigger="t2")
    (reply,) = harness.webhooks()
    assert "limit of 1/hour sends" in all_text(reply)


def test_escalations_have_their_own_cap_and_a_capped_one_moves_on(
    start: Callable[..., SlackHarness], octopush: FakeOctopush, clock: FakeClock
) -> None:
    harness = start(escalation_limit="1/hour")
    first, second, third = order(harness)
    harness.command("page db-oncall DB down")
    posted(harness)
    clock.advance(2)
    harness.stack.escalations.run_escalations()
    clock.advance(2)
    (run,) = harness.stack.escalations.run_escalations()
    (capped,) = run.attempts
    assert capped.member == third and "escalation cap" in capped.why
    assert run.page.state is PageState.EXHAUSTED
    assert octopush.numbers() == [NUMBERS[first], NUMBERS[second]]


def test_request_ids_are_globally_unique(
    start: Callable[..., SlackHarness], octopush: FakeOctopush, clock: FakeClock
) -> None:
    harness = start()
    harness.command("page db-oncall DB down")
    posted(harness)
    clock.advance(2)
    harness.stack.escalations.run_escalations()
    ids = [body["request_id"] for body in octopush.bodies]
    assert len(ids) == 2 and len(set(ids)) == 2
    assert not any(re.match(r"^page-\d+-\d+$", rid) for rid in ids)
    assert re.fullmatch(r"smsbot-[0-9a-f]{32}", ids[1])


def test_only_a_paged_number_acknowledges(
    start: Callable[..., SlackHarness], octopush: FakeOctopush
) -> None:
    harness = start()
    first = order(harness)[0]
    stranger = "+33600000001" if NUMBERS[first] != "+33600000001" else "+33600000002"
    harness.command("page db-oncall DB down")
    posted(harness)
    reply = {
        "message_id": "sms_t1",
        "number": stranger,
        "text": "ACK",
        "reception_date": "2026-11-24 10:01:00",
    }
    harness.callback(json.dumps(reply))
    note = wait_until(lambda: [t for t in thread_texts(harness) if "Not taken" in t])
    assert "ACK" in note[0]
    pager = harness.stack.escalations.pager
    assert pager.pages.get(1).state is PageState.OPEN
    harness.callback(json.dumps({**reply, "number": NUMBERS[first]}))
    wait_until(lambda: pager.pages.get(1).state is PageState.ACKNOWLEDGED)


def test_a_receipt_failover_and_the_timer_page_the_next_member_once(
    start: Callable[..., SlackHarness], octopush: FakeOctopush, clock: FakeClock
) -> None:
    """Instance B gets a failed receipt while instance A's timer fires: one next page."""
    a = start()
    b = start()
    first, second, _ = order(a)
    a.command("page db-oncall DB down")
    record = posted(a)
    clock.advance(2)
    barrier = threading.Barrier(2)

    def timer() -> None:
        barrier.wait()
        a.stack.escalations.run_escalations()

    def failover() -> None:
        barrier.wait()
        b.stack.escalations.pager.fail_over(
            record.id,
            reason="NOT_DELIVERED receipt",
            resolve=b.stack.paging.deps.resolve,
        )

    threads = [threading.Thread(target=timer), threading.Thread(target=failover)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert octopush.numbers() == [NUMBERS[first], NUMBERS[second]]
    assert a.stack.escalations.pager.pages.get(1).current_member == second


def test_oncall_shows_the_local_nine_oclock_handover_as_a_slack_date_in_summer(
    start: Callable[..., SlackHarness], clock: FakeClock
) -> None:
    harness = start()
    clock.at = datetime(2027, 7, 1, 12, tzinfo=UTC)  # a Thursday, Paris on CEST
    harness.command("oncall db-oncall")
    (reply,) = harness.webhooks()
    handover = datetime(2027, 7, 5, 7, tzinfo=UTC)  # Monday 09:00 CEST
    assert f"<!date^{int(handover.timestamp())}^" in all_text(reply)
