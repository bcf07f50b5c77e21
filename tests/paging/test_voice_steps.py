"""Issue 22: a voice call as an escalation step (HTTP level, against the local fakes).

The rotation calls its member on call ``call_after`` after an unacknowledged page
SMS, through ``POST /voice-campaign/send``; the call's receipt fails over at once
when it did not reach the person, and the key pressed acknowledges the page.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from bot.audit.pages import PageState
from bot.domain import AuditStatus, SmsType, Source
from tests.conftest import FakeClock, SlackHarness
from tests.paging.conftest import DIRECTORY, NUMBERS, FakeOctopush
from tests.paging.test_failover import order, thread_texts
from tests.slack.listeners.test_commands import all_text, wait_until
from tests.slack.listeners.test_pages import posted

VOICE_PATH = "/v1/public/voice-campaign/send"
#: db-oncall calls its member on call 1 s after the page SMS, escalates after 5 s.
VOICE_DIRECTORY = DIRECTORY.replace(
    "    escalate_after: 1s\n", "    escalate_after: 5s\n    call_after: 1s\n"
)


class FakeVoice:
    """Octopush's voice endpoint: a ``vocal_ticket`` per call (the documented answer)."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def __call__(self, request: Request) -> Response:
        body = json.loads(request.get_data())
        with self._lock:
            self.bodies.append(body)
            count = len(self.bodies)
        answer = {
            "vocal_ticket": f"vocal_t{count}",
            "number_of_contacts": len(body["recipients"]),
            "total_cost": 0.1,
        }
        return Response(json.dumps(answer), status=201, content_type="application/json")

    def numbers(self) -> list[str]:
        return [r["phone_number"] for b in self.bodies for r in b["recipients"]]


@pytest.fixture
def directory_file(tmp_path: Path) -> Path:
    path = tmp_path / "directory.yml"
    path.write_text(VOICE_DIRECTORY)
    return path


@pytest.fixture
def voice(httpserver: HTTPServer) -> FakeVoice:
    fake = FakeVoice()
    httpserver.expect_request(VOICE_PATH, method="POST").respond_with_handler(fake)
    return fake


def call_receipt(ticket: str, number: str, status: str, **extra: Any) -> str:
    return json.dumps(
        {
            "message_id": ticket,
            "number": number,
            "status": status,
            "channel": "voice_sms",
            "delivery_date": "2026-11-24 10:02:00",
            **extra,
        }
    )


def paged_and_called(
    start: Callable[..., SlackHarness], clock: FakeClock, **sms: Any
) -> SlackHarness:
    harness = start(**sms)
    harness.command("page db-oncall Primary DB down")
    posted(harness)
    clock.advance(2)
    harness.stack.escalations.run_escalations()
    return harness


def test_an_unacknowledged_page_calls_the_member_on_call_once(
    start: Callable[..., SlackHarness],
    octopush: FakeOctopush,
    voice: FakeVoice,
    clock: FakeClock,
) -> None:
    harness = start()
    first = order(harness)[0]
    harness.command("page db-oncall Primary DB down")
    posted(harness)
    harness.stack.escalations.run_escalations()
    assert voice.bodies == []  # not before call_after
    clock.advance(2)
    harness.stack.escalations.run_escalations()
    (body,) = voice.bodies
    assert body["recipients"] == [{"phone_number": NUMBERS[first]}]
    assert body["purpose"] == "alert" and body["voice_language"] == "en-GB"
    assert body["request_id"].startswith("smsbot-")
    text = body["text"]
    assert text.startswith(f"Hello {first}. You are paged for db-oncall.")
    assert text.count("Primary DB down") == 1
    assert "Page number one." in text
    assert text.count("reply ACK 1 by SMS, or press 1.") == 2
    # Audited as a voice attempt of the system, priced by Octopush's answer.
    call = harness.store.find_by_ticket("vocal_t1")
    assert call is not None and call.sms_type == SmsType.VOICE.value
    assert call.source is Source.ESCALATION and call.status is AuditStatus.SENT
    assert call.total_cost == pytest.approx(0.1)
    note = wait_until(lambda: [t for t in thread_texts(harness) if "calling" in t])
    assert f"calling *{first}*" in note[0]
    clock.advance(2)
    harness.stack.escalations.run_escalations()
    assert len(voice.bodies) == 1  # once per member
    assert octopush.numbers() == [NUMBERS[first]]  # no escalation before 5 s


def test_a_busy_call_fails_over_to_the_next_member_at_once(
    start: Callable[..., SlackHarness],
    octopush: FakeOctopush,
    voice: FakeVoice,
    clock: FakeClock,
) -> None:
    harness = paged_and_called(start, clock)
    first, second, _ = order(harness)
    harness.callback(call_receipt("vocal_t1", NUMBERS[first], "BUSY"))
    wait_until(lambda: len(octopush.bodies) == 2)
    assert octopush.numbers() == [NUMBERS[first], NUMBERS[second]]
    assert f"escalated: {first} could not be reached" in octopush.bodies[1]["text"]
    notes = wait_until(
        lambda: [t for t in thread_texts(harness) if "cannot be reached" in t]
    )
    assert f"{first} cannot be reached (BUSY receipt)" in notes[0]
    page = harness.stack.escalations.pager.pages.get(1)
    assert page.state is PageState.OPEN and page.current_member == second
    # The same receipt again (Octopush retries) moves nothing.
    harness.callback(call_receipt("vocal_t1", NUMBERS[first], "BUSY"))
    harness.settle()
    assert len(octopush.bodies) == 2


@pytest.mark.parametrize(
    "keys",
    [
        {"meta_data": {"pressed_keys_code": "1", "call_duration": 20}},
        {"pressed_keys_code": 1},
        {"meta_data": json.dumps({"pressed_keys_code": ["1"]})},
    ],
    ids=["in-meta_data", "top-level-number", "meta_data-as-json-text"],
)
def test_the_acknowledge_key_pressed_during_the_call_acknowledges_the_page(
    start: Callable[..., SlackHarness],
    octopush: FakeOctopush,
    voice: FakeVoice,
    clock: FakeClock,
    keys: dict[str, Any],
) -> None:
    harness = paged_and_called(start, clock)
    first = order(harness)[0]
    harness.callback(call_receipt("vocal_t1", NUMBERS[first], "DELIVERED", **keys))
    pager = harness.stack.escalations.pager
    wait_until(lambda: pager.pages.get(1).state is PageState.ACKNOWLEDGED)
    page = pager.pages.get(1)
    assert page.acknowledged_by is not None
    assert page.acknowledged_by.startswith(first)
    assert page.acknowledged_by.endswith(" by call")
    wait_until(lambda: [t for t in thread_texts(harness) if "by call" in t])
    clock.advance(10)
    harness.stack.escalations.run_escalations()
    assert octopush.numbers() == [NUMBERS[first]]  # acknowledged: no escalation


@pytest.mark.parametrize(
    "extra",
    [{}, {"meta_data": {"call_duration": 12}}, {"pressed_keys_code": "2"}],
    ids=["no-keys", "no-keys-in-meta_data", "another-key"],
)
def test_a_call_without_the_key_infers_nothing(
    start: Callable[..., SlackHarness],
    octopush: FakeOctopush,
    voice: FakeVoice,
    clock: FakeClock,
    extra: dict[str, Any],
) -> None:
    harness = paged_and_called(start, clock)
    first, second, _ = order(harness)
    harness.callback(call_receipt("vocal_t1", NUMBERS[first], "DELIVERED", **extra))
    note = wait_until(
        lambda: [t for t in thread_texts(harness) if "was not pressed" in t]
    )
    assert f"called *{first}*: answered, but 1 was not pressed" in note[0]
    harness.settle()
    pager = harness.stack.escalations.pager
    assert pager.pages.get(1).state is PageState.OPEN
    assert octopush.numbers() == [NUMBERS[first]]
    # The page's own timer still escalates.
    clock.advance(5)
    harness.stack.escalations.run_escalations()
    assert octopush.numbers() == [NUMBERS[first], NUMBERS[second]]


def test_a_voice_step_fires_once_across_two_instances(
    start: Callable[..., SlackHarness],
    octopush: FakeOctopush,
    voice: FakeVoice,
    clock: FakeClock,
) -> None:
    a = start()
    b = start()
    first = order(a)[0]
    a.command("page db-oncall DB down")
    posted(a)
    clock.advance(2)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run(harness: SlackHarness) -> None:
        try:
            barrier.wait()
            for _ in range(3):
                harness.stack.escalations.run_escalations()
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(h,)) for h in (a, b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert voice.numbers() == [NUMBERS[first]]
    calls = [r for r in a.store.recent(limit=10) if r.sms_type == "voice"]
    assert len(calls) == 1


def test_a_french_bot_calls_in_a_french_voice(
    start: Callable[..., SlackHarness],
    octopush: FakeOctopush,
    voice: FakeVoice,
    clock: FakeClock,
) -> None:
    paged_and_called(start, clock, language="fr")
    (body,) = voice.bodies
    assert body["voice_language"] == "fr-FR"


def test_balance_shows_the_voice_credit_when_a_rotation_calls(
    start: Callable[..., SlackHarness], httpserver: HTTPServer
) -> None:
    def wallet(request: Request) -> Response:
        voice = request.args.get("product_name") == "vocal_sms"
        body = (
            {"amount": 40, "unit": "vocal_sms"}
            if voice
            else {
                "amount": 12.54,
                "unit": "euros",
            }
        )
        return Response(json.dumps(body), content_type="application/json")

    httpserver.expect_request(
        "/v1/public/wallet/check-balance", method="GET"
    ).respond_with_handler(wallet)
    harness = start()
    harness.command("balance")
    (reply,) = harness.webhooks()
    text = all_text(reply)
    assert "12.54" in text and "Voice credit: *40 voice calls*" in text


def test_calls_count_in_the_escalation_cap_and_a_refused_call_is_not_retried(
    start: Callable[..., SlackHarness],
    octopush: FakeOctopush,
    voice: FakeVoice,
    clock: FakeClock,
) -> None:
    harness = start(escalation_limit="1/hour")
    first = order(harness)[0]
    harness.command("page db-oncall DB down")
    posted(harness)
    harness.command("page db-oncall Disk full", trigger="t-second")
    wait_until(lambda: len(octopush.bodies) == 2)
    harness.settle()
    clock.advance(2)
    runs = harness.stack.escalations.run_escalations()
    # One call went out and used the cap; the other page's call was refused by it.
    assert voice.numbers() == [NUMBERS[first]]
    refused = [a for run in runs for a in run.attempts if not a.reached]
    assert len(refused) == 1 and "escalation cap" in refused[0].why.lower()
    notes = wait_until(
        lambda: [t for t in thread_texts(harness) if "could not be called" in t]
    )
    assert f"*{first}* could not be called" in notes[0]
    for _ in range(3):
        clock.advance(1)
        harness.stack.escalations.run_escalations()
    voice_records = [r for r in harness.store.recent(limit=20) if r.sms_type == "voice"]
    assert sorted(r.status.value for r in voice_records) == ["rejected", "sent"]
    # The escalations after 5 s are capped too: nobody else is texted.
    clock.advance(5)
    harness.stack.escalations.run_escalations()
    assert octopush.numbers() == [NUMBERS[first], NUMBERS[first]]


def test_a_call_claimed_by_an_instance_that_stopped_is_made_once_later(
    start: Callable[..., SlackHarness],
    octopush: FakeOctopush,
    voice: FakeVoice,
    clock: FakeClock,
) -> None:
    harness = start()
    first = order(harness)[0]
    harness.command("page db-oncall DB down")
    posted(harness)
    clock.advance(2)
    calls = harness.stack.escalations.pager.calls
    (due,) = calls.due()
    # The claim is written, then the process stops before the call.
    assert calls.claim(due, request_id="smsbot-claimed-then-crashed") is not None
    assert calls.due() == []
    harness.stack.escalations.run_escalations()
    (body,) = voice.bodies
    assert body["request_id"] == "smsbot-claimed-then-crashed"
    assert voice.numbers() == [NUMBERS[first]]
    harness.stack.escalations.run_escalations()
    assert len(voice.bodies) == 1
