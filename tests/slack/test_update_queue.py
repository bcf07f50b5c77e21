"""Coalesced chat.update: a burst of receipts gives few updates, the last shows them all,
and a 429 is retried after its Retry-After on the worker."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from slack_sdk import WebClient

from bot.slack.update_queue import RateLimited, UpdateQueue, slack_sender
from tests.conftest import SENT, SLACK_BOT_TOKEN, SlackHarness
from tests.fakes.slack import FakeSlack
from tests.slack.listeners.test_commands import finished, wait_until

SEND_PATH = "/v1/public/sms-campaign/send"
TICKET = str(SENT["sms_ticket"])


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def recorder() -> tuple[list[tuple[str, str, dict[str, Any]]], Callable[..., None]]:
    sent: list[tuple[str, str, dict[str, Any]]] = []

    def send(channel: str, ts: str, message: dict[str, Any]) -> None:
        sent.append((channel, ts, message))

    return sent, send


def test_a_burst_for_one_post_gives_one_update_now_and_one_with_the_latest_state() -> (
    None
):
    clock = FakeClock()
    sent, send = recorder()
    queue = UpdateQueue(send, interval=3.0, clock=clock)
    for count in range(1, 201):
        queue.submit("C1", "1.1", lambda count=count: {"text": f"{count} delivered"})
        queue.run_due()
        clock.now += 0.01
    assert [m["text"] for _, _, m in sent] == ["1 delivered"]
    clock.now += 1.1  # over 3 s after the first update
    assert queue.run_due() is None
    assert [m["text"] for _, _, m in sent] == ["1 delivered", "200 delivered"]


def test_posts_are_coalesced_separately() -> None:
    clock = FakeClock()
    sent, send = recorder()
    queue = UpdateQueue(send, interval=3.0, clock=clock)
    queue.submit("C1", "1.1", lambda: {"text": "a"})
    queue.submit("C1", "2.2", lambda: {"text": "b"})
    queue.run_due()
    assert sorted((ts, m["text"]) for _, ts, m in sent) == [("1.1", "a"), ("2.2", "b")]


def test_the_render_runs_when_the_update_is_sent_not_when_it_is_submitted() -> None:
    clock = FakeClock()
    sent, send = recorder()
    queue = UpdateQueue(send, interval=3.0, clock=clock)
    state = {"delivered": 0}
    queue.submit("C1", "1.1", lambda: {"text": str(state["delivered"])})
    queue.run_due()
    queue.submit("C1", "1.1", lambda: {"text": str(state["delivered"])})
    state["delivered"] = 7  # stored after the submit, before the update is due
    clock.now += 3.0
    queue.run_due()
    assert [m["text"] for _, _, m in sent] == ["0", "7"]


def test_a_429_is_retried_after_retry_after_and_the_update_is_not_lost(
    fake_slack: FakeSlack,
) -> None:
    clock = FakeClock()
    client = WebClient(token=SLACK_BOT_TOKEN, base_url=fake_slack.api_url)
    queue = UpdateQueue(slack_sender(client), interval=3.0, clock=clock)
    fake_slack.state.rate_limits["chat.update"] = [30]
    queue.submit("C1", "1.1", lambda: {"text": "1 delivered"})
    assert queue.run_due() is not None  # refused, kept for later
    assert len(fake_slack.calls("chat.update")) == 1
    queue.submit("C1", "1.1", lambda: {"text": "2 delivered"})
    queue.submit(
        "C1", "9.9", lambda: {"text": "another post"}
    )  # same method: waits too
    clock.now += 29.0
    queue.run_due()
    assert len(fake_slack.calls("chat.update")) == 1
    clock.now += 1.0
    assert queue.run_due() is None
    calls = fake_slack.calls("chat.update")
    assert sorted((c.args["ts"], c.args["text"]) for c in calls[1:]) == [
        ("1.1", "2 delivered"),
        ("9.9", "another post"),
    ]


def test_a_failed_update_is_retried_then_given_up() -> None:
    clock = FakeClock()
    calls: list[str] = []

    def send(channel: str, ts: str, message: dict[str, Any]) -> None:
        calls.append(message["text"])
        raise ConnectionError("slack unreachable")

    queue = UpdateQueue(send, interval=3.0, clock=clock)
    queue.submit("C1", "1.1", lambda: {"text": "x"})
    for _ in range(5):
        queue.run_due()
        clock.now += 3.0
    assert calls == ["x", "x", "x"]
    assert queue.pending() == 0


def test_the_worker_sends_on_its_own_thread_and_honours_retry_after() -> None:
    threads: list[str] = []
    sent = threading.Event()
    limited = [True]

    def send(channel: str, ts: str, message: dict[str, Any]) -> None:
        threads.append(threading.current_thread().name)
        if limited[0]:
            limited[0] = False
            raise RateLimited(0.3)
        sent.set()

    queue = UpdateQueue(send, interval=0.1)
    queue.start()
    try:
        started = time.monotonic()
        queue.submit("C1", "1.1", lambda: {"text": "x"})
        assert sent.wait(3)
        assert time.monotonic() - started >= 0.3
    finally:
        queue.stop()
    assert threads == ["sms-bot-slack-updates"] * 2


def test_stop_flushes_what_is_still_waiting() -> None:
    clock = FakeClock()
    sent, send = recorder()
    queue = UpdateQueue(send, interval=3.0, clock=clock)
    queue.submit("C1", "1.1", lambda: {"text": "first"})
    queue.run_due()
    queue.submit("C1", "1.1", lambda: {"text": "final"})
    queue.stop()
    assert [m["text"] for _, _, m in sent] == ["first", "final"]


# --- through the real callback route ---------------------------------------------------

NUMBERS = [f"+336100{i:05d}" for i in range(200)]


def receipt(number: str, status: str) -> str:
    return json.dumps(
        {
            "message_id": TICKET,
            "number": number,
            "status": status,
            "delivery_date": "2026-12-01 10:00:00",
        }
    )


def all_text(args: dict[str, Any]) -> str:
    blocks = args.get("blocks") or []
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    return json.dumps(blocks, ensure_ascii=False) + str(args.get("text"))


@pytest.fixture
def big_send(
    make_harness: Callable[..., SlackHarness], httpserver: HTTPServer
) -> SlackHarness:
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_json(
        {**SENT, "number_of_contacts": 200}, status=201
    )
    harness = make_harness(max_recipients=250, confirm_above=1000)
    harness.command(",".join(NUMBERS) + " datacenter on fire")
    (record,) = finished(harness)
    wait_until(lambda: harness.store.get(record.id).slack_message_ts)
    return harness


def test_200_receipts_in_2_seconds_give_a_handful_of_updates_the_last_showing_all(
    big_send: SlackHarness, tmp_path: Path
) -> None:
    statuses = ["DELIVERED"] * 198 + ["NOT_DELIVERED"] * 2

    def post(batch: list[int]) -> None:
        for i in batch:
            assert (
                big_send.callback(receipt(NUMBERS[i], statuses[i])).status_code == 200
            )
            time.sleep(0.04)  # 4 clients x 50 receipts x 40 ms: about 2 s

    clients = [
        threading.Thread(target=post, args=(list(range(k, 200, 4)),)) for k in range(4)
    ]
    started = time.monotonic()
    for client in clients:
        client.start()
    for client in clients:
        client.join()
    # About 2 s; a loaded machine may take longer, which allows one more update.
    assert time.monotonic() - started < 8

    def last_shows_all() -> bool:
        calls = big_send.slack.calls("chat.update")
        if not calls:
            return False
        return "198 delivered, 2 failed" in all_text(calls[-1].args)

    wait_until(last_shows_all, timeout=10)
    big_send.settle()
    updates = big_send.slack.calls("chat.update")
    assert len(updates) <= 5
    assert all_text(updates[-1].args).count("❌") == 2  # the two failures, listed


def test_a_429_from_slack_delays_the_receipt_update_but_does_not_lose_it(
    big_send: SlackHarness,
) -> None:
    big_send.slack.state.rate_limits["chat.update"] = [1]
    started = time.monotonic()
    big_send.callback(receipt(NUMBERS[0], "DELIVERED"))
    updates = big_send.slack.wait_for("chat.update", 2, timeout=5)
    assert time.monotonic() - started >= 1.0
    assert "✅" in all_text(updates[1].args)
