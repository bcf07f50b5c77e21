"""Stored ``/sms`` commands and the sender, in one process (the real processes, killed
at the worst moments, are in ``test_sender_processes.py``).

The ack stores a send or a page before it answers; a sender claims the row and runs it
through the one send path. These tests check the queue's claims, what the ack does when
it cannot store, that a sender in ``external`` mode is the one that sends (woken at once,
not by its poll), that ``inline`` mode picks up what a crash left, and what
``/healthz`` and ``sms-bot check`` say of the senders.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa
from pytest_httpserver import HTTPServer

from bot.audit import AuditStore
from bot.audit.commands import (
    CommandQueue,
    command_intake,
    open_command_queue,
    queue_file,
)
from bot.audit.tables import stored_commands
from bot.errors import AuditStoreError
from bot.runtime.sender import LocalWake, Sender
from tests.conftest import (
    SENT,
    SIGNING_SECRET,
    SLACK_BOT_TOKEN,
    SlackHarness,
    wait_until,
)
from tests.fakes.slack import FakeSlack

SEND_PATH = "/v1/public/sms-campaign/send"
MakeHarness = Callable[..., SlackHarness]

#: The deadline of every wait below.
WAIT = 10.0

COMMAND = {
    "team_id": "T1",
    "channel_id": "C1",
    "user_id": "U1",
    "command": "/sms",
    "text": "+33612345678 Disk full",
    "trigger_id": "trigger-orphan",
}


def rows(queue: CommandQueue) -> list[dict[str, Any]]:
    """The queue's rows, with what the acks stored in the intake (SQLite) copied in
    first by a claim of nothing."""
    assert queue.claim("nobody", limit=0) == []
    with queue.store.transaction("read") as conn:
        found = conn.execute(sa.select(stored_commands).order_by(stored_commands.c.id))
        return [dict(row) for row in found.mappings()]


@pytest.fixture
def queue(database_url: str) -> Iterator[CommandQueue]:
    store = AuditStore.from_url(database_url)
    opened = open_command_queue(store, lease=timedelta(seconds=30))
    yield opened
    opened.close()
    store.close()


@pytest.fixture
def gateway(httpserver: HTTPServer) -> HTTPServer:
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_json(
        SENT, status=201
    )
    return httpserver


# --- the queue ------------------------------------------------------------------------


def test_a_command_is_stored_once_and_claimed_by_one_sender(
    queue: CommandQueue,
) -> None:
    first = queue.put_command("send", "req-1", COMMAND)
    assert first is not None
    assert queue.put_command("send", "req-1", COMMAND) is None  # a second delivery
    assert queue.claim_one(first, "sender-a") is not None
    assert queue.claim_one(first, "sender-b") is None
    assert queue.claim("sender-b") == []
    (row,) = rows(queue)
    assert json.loads(row["body"]) == COMMAND and row["content_type"] == "send"


def test_a_finished_command_keeps_no_text_and_is_never_claimed_again(
    queue: CommandQueue,
) -> None:
    stored = queue.put_command("send", "req-2", COMMAND)
    assert stored is not None
    (item,) = queue.claim("sender-a")
    assert queue.finish(item.id, "sender-a", "run")
    (row,) = rows(queue)
    assert row["body"] == b"" and row["processed_at"] is not None
    assert queue.claim_one(stored, "sender-b") is None
    assert queue.oldest_waiting() is None


def test_a_claim_whose_lease_ran_out_is_taken_again(database_url: str) -> None:
    store = AuditStore.from_url(database_url)
    queue = open_command_queue(store, lease=timedelta(milliseconds=1))
    try:
        stored = queue.put_command("page", "req-3", COMMAND)
        assert stored is not None
        assert queue.claim_one(stored, "dead-sender") is not None
        time.sleep(0.01)  # the lease of 1 ms is what this test is about
        item = queue.claim_one(stored, "sender-b")
        assert item is not None and item.attempts == 2
    finally:
        queue.close()
        store.close()


def test_on_sqlite_the_queue_has_a_file_of_its_own(tmp_path: Path) -> None:
    store = AuditStore.from_url(f"sqlite:///{tmp_path}/audit.db")
    try:
        assert queue_file(store) == tmp_path / "audit.commands.db"
        queue = open_command_queue(store)
        queue.put_command("send", "req-4", COMMAND)
        assert (tmp_path / "audit.commands.db").is_file()
        assert queue.store is not store
        queue.close()
    finally:
        store.close()


# --- the ack ----------------------------------------------------------------------------


def test_the_ack_says_nothing_was_sent_when_it_cannot_store_the_command(
    harness: SlackHarness, gateway: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert harness.stack.sender is not None

    def down(*args: object) -> int:
        raise AuditStoreError("database is locked")

    monkeypatch.setattr(harness.stack.sender.queue, "put_command", down)
    answer = harness.command("+33612345678 Disk full").json()
    assert "Nothing was sent" in answer["text"]
    harness.settle()
    assert gateway.log == []
    assert harness.store.recent(limit=5) == []


def test_in_external_mode_the_web_process_only_stores_and_a_sender_sends(
    make_harness: MakeHarness, gateway: HTTPServer
) -> None:
    harness = make_harness(sender="external")
    sender = harness.stack.sender
    assert sender is not None
    ack = harness.command("+33612345678 Disk full").json()
    assert "Sending" in json.dumps(ack)
    harness.settle()
    assert gateway.log == []
    assert sender.queue.unprocessed() == 1

    # A sender (here in the same process) polling only every 30 s: it is woken at
    # once by the store's signal, so the send does not wait for the poll.
    worker = Sender(sender.queue, mode="external", poll_seconds=30.0)
    worker.bind(_runner(harness))
    worker.start()
    try:
        wait_until(
            lambda: sender.queue.unprocessed() == 0 and worker.idle(), timeout=WAIT
        )
        harness.command("+33612345678 Second one", trigger="trigger-2")
        started = time.monotonic()
        wait_until(lambda: len(gateway.log) == 2, timeout=WAIT)
        assert time.monotonic() - started < 10, "woken by the store, not the poll"
        wait_until(
            lambda: sender.queue.unprocessed() == 0 and worker.idle(), timeout=WAIT
        )
    finally:
        worker.stop()
    harness.settle()
    assert len(gateway.log) == 2
    posts = harness.slack.wait_for("chat.postMessage", 2)
    assert all(post.args["channel"] == "C1" for post in posts)


def test_in_inline_mode_a_command_left_by_a_crash_is_sent_by_the_next_start(
    harness: SlackHarness, gateway: HTTPServer
) -> None:
    sender = harness.stack.sender
    assert sender is not None and sender.mode == "inline"
    # Stored by an ack whose process died before its lazy thread ran it.
    response_url = harness.slack.webhook_url("command")
    stored = sender.store(
        "send", "slack-command-orphan", {**COMMAND, "response_url": response_url}
    )
    assert stored is not None
    sender.inline_grace = timedelta(0)
    sender.start()
    try:
        wait_until(
            lambda: sender.queue.unprocessed() == 0 and sender.idle(), timeout=WAIT
        )
    finally:
        sender.stop()
    harness.settle()
    assert len(gateway.log) == 1
    (post,) = harness.slack.wait_for("chat.postMessage")
    assert post.args["channel"] == "C1"


def test_a_fresh_command_is_left_to_the_process_that_stored_it_in_inline_mode(
    harness: SlackHarness, gateway: HTTPServer
) -> None:
    sender = harness.stack.sender
    assert sender is not None
    stored = sender.store("send", "slack-command-fresh", COMMAND)
    assert stored is not None
    assert (
        sender.queue.claim(
            sender.owner, stored_before=sender.queue.now() - sender.inline_grace
        )
        == []
    )


def _runner(harness: SlackHarness) -> Callable[[str, dict[str, Any]], None]:
    """What the web stack's sender runs: the stored actions' runner (by kind)."""
    sender = harness.stack.sender
    assert sender is not None and sender.runner is not None
    return sender.runner


# --- health ---------------------------------------------------------------------------


def age_stored_commands(queue: CommandQueue, seconds: float) -> None:
    """Make every stored command ``seconds`` old (in the acks' intake too)."""
    then = queue.now() - timedelta(seconds=seconds)
    with queue.store.transaction("age", write=True) as conn:
        conn.execute(sa.update(stored_commands).values(received_at=then))
    if queue.intake is not None:
        with queue.intake.transaction("age", write=True) as conn:
            conn.execute(sa.update(command_intake).values(received_at=then))


def test_healthz_says_whether_a_sender_is_alive_and_fails_on_a_stalled_command(
    make_harness: MakeHarness,
) -> None:
    harness = make_harness(sender="external")
    sender = harness.stack.sender
    assert sender is not None
    health = requests.get(f"{harness.url}/healthz", timeout=5)
    assert health.status_code == 200
    assert health.json() == {"status": "ok", "audit_store": "ok", "sender": "not seen"}

    sender.store("send", "req-stalled", COMMAND)
    age_stored_commands(sender.queue, 75)
    health = requests.get(f"{harness.url}/healthz", timeout=5)
    assert health.status_code == 503
    assert health.json()["status"] == "error"
    assert health.json()["oldest_command_waiting_s"] >= 75

    sender.queue.heartbeat("sender-elsewhere", started_at=sender.queue.now())
    health = requests.get(f"{harness.url}/healthz", timeout=5)
    assert health.status_code == 200, "a live sender will take it"
    assert health.json()["sender"] == "alive"


def test_check_fails_when_a_command_waits_with_no_sender(
    env: dict[str, str], tmp_path: Path, gateway: HTTPServer, fake_slack: FakeSlack
) -> None:
    env.update(
        SLACK_BOT_TOKEN=SLACK_BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=fake_slack.api_url,
    )
    store = AuditStore.from_url(env["DATABASE_URL"])
    queue = open_command_queue(store)
    try:
        queue.put_command("send", "req-check", COMMAND)
        age_stored_commands(queue, 120)
        stalled = _check(env, tmp_path)
        assert re.search(
            r"FAIL sender process: a stored /sms command has waited 1[23]\d seconds",
            stalled,
        )
        queue.heartbeat("sender-x", started_at=queue.now())
        alive = _check(env, tmp_path)
        assert re.search(
            r"ok   sender process alive \(last heartbeat \d+ seconds? ago\)", alive
        )
    finally:
        queue.close()
        store.close()


def _check(env: dict[str, str], cwd: Path) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "check"],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return result.stdout


# --- the sender beside gunicorn -------------------------------------------------------


def test_a_sender_that_crashed_is_started_again_and_one_stopped_cleanly_is_not(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from bot.runtime import sender_process

    monkeypatch.setattr(sender_process, "RESTART_AFTER_SECONDS", 0.05)
    runs = tmp_path / "runs"
    # Exits 3 the first time (a crash), 0 the second (a clean stop, as after SIGTERM).
    script = (
        "import pathlib, sys; p = pathlib.Path(sys.argv[1]); n = len(p.read_text()) "
        "if p.exists() else 0; p.write_text('x' * (n + 1)); sys.exit(3 if n == 0 else 0)"
    )
    child = sender_process.SenderChild([sys.executable, "-c", script, str(runs)])
    child.start()
    assert child._watch is not None
    child._watch.join(timeout=30)  # it returns once it decided not to restart
    assert not child._watch.is_alive()
    assert runs.read_text() == "xx", "started again after the crash, not after the stop"
    child.stop()


def test_a_stopping_sender_keeps_renewing_the_commands_it_still_runs(
    database_url: str,
) -> None:
    store = AuditStore.from_url(database_url)
    queue = open_command_queue(store, lease=timedelta(milliseconds=300))
    running, release = threading.Event(), threading.Event()
    taken_by_another: list[object] = []

    def slow(kind: str, command: dict[str, Any]) -> None:
        running.set()
        release.wait(10)

    sender = Sender(queue, mode="external", poll_seconds=0.05)
    sender.bind(slow)
    stored = queue.put_command("send", "req-long", COMMAND)
    assert stored is not None
    sender.start()
    try:
        assert running.wait(10)
        stopper = threading.Thread(target=sender.stop)
        stopper.start()
        # While the stop waits for the command, its lease (300 ms) is renewed: a
        # second sender keeps trying, and never gets it, until the renewals are seen
        # to carry the claim past three of its leases (no fixed wait: the window is
        # what the renewals prove, however slow the machine).
        (first,) = rows(queue)
        renewed: set[object] = set()

        def outlived_three_leases() -> bool:
            taken_by_another.append(queue.claim_one(stored, "sender-other"))
            (row,) = rows(queue)
            renewed.add(row["claimed_until"])
            return row["claimed_until"] >= first["claimed_until"] + 3 * queue.lease

        wait_until(outlived_three_leases, timeout=WAIT, what="three leases renewed")
        assert len(renewed) >= 3
        release.set()
        stopper.join(10)
        assert not stopper.is_alive()
        (row,) = rows(queue)
    finally:
        release.set()
        if queue.store is not store:
            queue.close()
        store.close()
    assert taken_by_another and all(item is None for item in taken_by_another)
    assert row["outcome"] == "run" and row["attempts"] == 1


def test_a_sender_removes_commands_run_a_week_ago(queue: CommandQueue) -> None:
    old = queue.put_command("send", "req-old", COMMAND)
    recent = queue.put_command("send", "req-recent", COMMAND)
    assert old is not None and recent is not None
    for item in queue.claim("sender-a"):
        queue.finish(item.id, "sender-a", "run")
    with queue.store.transaction("age", write=True) as conn:
        conn.execute(
            sa.update(stored_commands)
            .where(stored_commands.c.id == old)
            .values(processed_at=queue.now() - timedelta(days=8))
        )
    sender = Sender(queue, mode="external")
    sender.bind(lambda kind, command: None)
    sender.start()
    try:
        wait_until(lambda: [row["id"] for row in rows(queue)] == [recent], timeout=WAIT)
    finally:
        sender.stop()


# --- the wake-up (SQLite: a datagram on this machine) --------------------------------


def test_on_sqlite_the_dispatcher_hears_the_ack_itself_and_claims_once_per_ring(
    tmp_path: Path,
) -> None:
    """No thread between the ring and the claim, and no claim of nothing after one that
    left threads free (it held the GIL while the command it had just handed over
    waited)."""
    store = AuditStore.from_url(f"sqlite:///{tmp_path}/audit.db")
    queue = open_command_queue(store, lease=timedelta(seconds=30))
    claims: list[int] = []
    real_claim = queue.claim

    def counted(owner: str, **kw: Any) -> list[Any]:
        items = real_claim(owner, **kw)
        claims.append(len(items))
        return items

    queue.claim = counted  # type: ignore[method-assign]
    ran: list[str] = []
    sender = Sender(queue, mode="external", poll_seconds=30.0)
    sender.bind(lambda kind, command: ran.append(command["text"]))
    sender.start()
    try:
        wait_until(lambda: claims == [0], timeout=WAIT, what="the claim at start")
        names = {thread.name for thread in threading.enumerate()}
        assert "sms-sender-listen" not in names
        for n in (1, 2):
            # The ack's side: another queue object on the same files, as in the web
            # process; a poll of 30 s would not come within the wait.
            sender.store("send", f"req-ring-{n}", {**COMMAND, "text": f"ring {n}"})
            wait_until(lambda n=n: len(ran) == n and sender.idle(), timeout=WAIT)
    finally:
        sender.stop()
        queue.close()
        store.close()
    assert ran == ["ring 1", "ring 2"]
    assert claims == [0, 1, 1]


def test_a_ring_opens_no_socket_and_a_closed_bell_stays_quiet(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An ack rings on a socket kept for the purpose (opening one per ring cost 50 µs)."""
    key = f"test-bell-{time.monotonic_ns()}"
    listener, bell = LocalWake(key), LocalWake(key)
    assert listener.bind()
    opened: list[object] = []
    real_socket = socket.socket

    def counted(*args: Any, **kw: Any) -> socket.socket:
        opened.append(args)
        return real_socket(*args, **kw)

    monkeypatch.setattr(socket, "socket", counted)
    try:
        for _ in range(50):
            bell.ring()
        assert listener.wait(WAIT)
        assert not listener.wait(0.0), "every ring was consumed by the first wait"
        assert opened == []
        bell.close()
        bell.ring()  # after its close: nothing, and no error
        assert not listener.wait(0.0)
    finally:
        listener.close()
