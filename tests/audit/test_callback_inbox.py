"""Octopush callbacks are stored before they are answered, then handled from the inbox.

HTTP-level: the real WSGI app on 127.0.0.1 (the ``harness`` of tests/conftest.py),
with the real inbox worker, store and fake Slack.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import requests
import sqlalchemy as sa
from pytest_httpserver import HTTPServer

from bot.audit import AuditStore, OptOutList
from bot.audit.deliveries import DeliveryLog
from bot.audit.engine import create_engine
from bot.audit.inbox import CallbackInbox
from bot.octopush import CallbackEvent
from bot.paging.inbound import InboundOutcome, InboundProcessor
from bot.paging.inbox import InboxWorker
from bot.runtime.web import create_wsgi_app
from tests.conftest import CALLBACK_TOKEN, SENT, SlackHarness
from tests.fakes.wsgi import serve_wsgi

SEND_PATH = "/v1/public/sms-campaign/send"
TICKET = SENT["sms_ticket"]
NUMBER = "+33612345678"


def receipt(status: str, number: str = NUMBER) -> str:
    return json.dumps(
        {
            "message_id": TICKET,
            "number": number,
            "status": status,
            "delivery_date": "2026-12-01 10:00:00",
        }
    )


def stop(number: str = NUMBER) -> str:
    return json.dumps(
        {"message_id": TICKET, "number": number, "text": "STOP", "stop_date": "x"}
    )


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def test_a_callback_is_stored_before_the_200_and_then_handled(
    harness: SlackHarness,
) -> None:
    response = harness.callback(stop())
    assert response.status_code == 200
    assert response.content == b""
    wait_until(lambda: OptOutList(harness.store).among([NUMBER]) == [NUMBER])
    inbox = CallbackInbox(harness.store)
    wait_until(lambda: inbox.unprocessed() == 0)
    assert inbox.outcome_of(1) == "handled"


def test_a_callback_during_a_database_outage_gets_503_then_its_retry_is_kept(
    harness: SlackHarness,
) -> None:
    # The same app, but its database server is down (nothing listens on port 9).
    down = AuditStore(
        create_engine("postgresql+psycopg://u:p@127.0.0.1:9/none?connect_timeout=2")
    )
    wsgi = create_wsgi_app(
        harness.stack.app,
        store=down,
        inbound=harness.stack.inbound,
        callback_token=CALLBACK_TOKEN,
    )
    try:
        with serve_wsgi(wsgi) as url:
            response = requests.post(
                f"{url}/octopush/callback/{CALLBACK_TOKEN}",
                data=stop().encode(),
                headers={"Content-Type": "application/json"},
                timeout=10,
            )
    finally:
        wsgi.close()
        down.close()
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert OptOutList(harness.store).among([NUMBER]) == []
    # Octopush sends it again once the database is back: stored and handled.
    assert harness.callback(stop()).status_code == 200
    wait_until(lambda: OptOutList(harness.store).among([NUMBER]) == [NUMBER])


class Recorder:
    """An inbound listener that remembers what it was told (the Slack side's seam)."""

    def __init__(self) -> None:
        self.opted_out_calls: list[str] = []
        self.lock = threading.Lock()

    def receipt(self, record: object) -> None:
        return None

    def reply(
        self, record: object, who: str, text: str, *, not_paged: bool = False
    ) -> None:
        return None

    def opted_out(
        self, record: object, who: str, rotations: Sequence[str] = ()
    ) -> None:
        with self.lock:
            self.opted_out_calls.append(who)

    def acknowledged(self, page: object) -> None:
        return None

    def failed_over(self, run: object) -> None:
        return None


class NoDirectory:
    def current(self) -> NoDirectory:
        return self

    def name_for_number(self, number: str) -> None:
        return None


class CountingProcessor(InboundProcessor):
    def __init__(self, store: AuditStore, listener: Recorder) -> None:
        super().__init__(store=store, directory=NoDirectory(), listener=listener)  # type: ignore[arg-type]
        self.handled: list[str] = []
        self._lock = threading.Lock()

    def handle(self, event: CallbackEvent) -> InboundOutcome:
        with self._lock:
            self.handled.append(event.number)
        return super().handle(event)


def post_callback(url: str, body: str) -> requests.Response:
    return requests.post(
        f"{url}/octopush/callback/{CALLBACK_TOKEN}",
        data=body.encode(),
        headers={"Content-Type": "application/json"},
        timeout=10,
    )


def test_a_stored_callback_is_handled_after_a_restart(
    harness: SlackHarness, database_url: str
) -> None:
    # Not the harness's own SQLite file: its running inbox worker would handle the rows.
    database_url = database_url.replace("/audit.db", "/restarted.db")
    store = AuditStore.from_url(database_url)
    listener = Recorder()
    processor = CountingProcessor(store, listener)
    try:
        # An instance that stores and answers, then stops before handling (shutdown).
        first = create_wsgi_app(
            harness.stack.app,
            store=store,
            inbound=processor,
            callback_token=CALLBACK_TOKEN,
            start_worker=False,
        )
        with serve_wsgi(first) as url:
            assert post_callback(url, stop()).status_code == 200
            assert post_callback(url, receipt("DELIVERED")).status_code == 200
        first.close()
        inbox = CallbackInbox(store)
        assert inbox.unprocessed() == 2
        assert OptOutList(store).among([NUMBER]) == []
        # The next start handles what the last one stored, once.
        second = create_wsgi_app(
            harness.stack.app,
            store=store,
            inbound=processor,
            callback_token=CALLBACK_TOKEN,
        )
        try:
            wait_until(lambda: inbox.unprocessed() == 0)
        finally:
            second.close()
        assert OptOutList(store).among([NUMBER]) == [NUMBER]
        assert DeliveryLog(store).status_of(message_id=TICKET, number=NUMBER) == (
            "DELIVERED"
        )
        assert sorted(processor.handled) == [NUMBER, NUMBER]
        assert len(listener.opted_out_calls) == 1
    finally:
        store.close()


def test_two_instances_handle_each_stored_callback_once(database_url: str) -> None:
    store = AuditStore.from_url(database_url)
    listener = Recorder()
    processor = CountingProcessor(store, listener)
    inbox = CallbackInbox(store)
    numbers = [f"+336100000{n:02d}" for n in range(40)]
    try:
        for number in numbers:
            assert inbox.put(stop(number).encode(), "application/json") is True
        assert inbox.put(stop(numbers[0]).encode(), "application/json") is False
        workers = [
            InboxWorker(CallbackInbox(store), processor, poll_seconds=0.05, threads=3)
            for _ in range(2)
        ]
        for worker in workers:
            worker.start()
        try:
            wait_until(lambda: inbox.unprocessed() == 0, timeout=30)
        finally:
            for worker in workers:
                worker.stop()
        assert sorted(processor.handled) == sorted(numbers)
        assert sorted(OptOutList(store).among(numbers)) == sorted(numbers)
    finally:
        store.close()


def test_concurrent_copies_of_a_receipt_update_the_post_once(
    harness: SlackHarness, httpserver: HTTPServer
) -> None:
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_json(
        SENT, status=201
    )
    harness.command(f"{NUMBER} hello")
    harness.slack.wait_for("chat.postMessage", 1)
    record = harness.store.recent(limit=1)[0]
    wait_until(lambda: harness.store.get(record.id).slack_message_ts is not None)
    before = len(harness.slack.calls("chat.update"))
    barrier = threading.Barrier(8)
    codes: list[int] = []

    def post() -> None:
        barrier.wait()
        codes.append(harness.callback(receipt("DELIVERED")).status_code)

    threads = [threading.Thread(target=post) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert codes == [200] * 8
    inbox = CallbackInbox(harness.store)
    wait_until(lambda: inbox.unprocessed() == 0)
    log = DeliveryLog(harness.store)
    assert [d.status for d in log.for_audit(record.id)] == ["DELIVERED"]
    harness.slack.wait_for("chat.update", before + 1)
    harness.settle()
    assert len(harness.slack.calls("chat.update")) == before + 1


def test_a_late_ack_never_overwrites_delivered_over_http(
    harness: SlackHarness,
) -> None:
    numbers = [f"+3361234560{n}" for n in range(6)]
    barrier = threading.Barrier(len(numbers) * 2)

    def post(body: str) -> None:
        barrier.wait()
        assert harness.callback(body).status_code == 200

    threads = [
        threading.Thread(target=post, args=(receipt(status, number),))
        for number in numbers
        for status in ("DELIVERED", "ACK")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    inbox = CallbackInbox(harness.store)
    wait_until(lambda: inbox.unprocessed() == 0)
    log = DeliveryLog(harness.store)
    assert [log.status_of(message_id=TICKET, number=n) for n in numbers] == [
        "DELIVERED"
    ] * len(numbers)


class SlowProcessor(CountingProcessor):
    """Each callback takes longer than the lease: a Slack call that hangs."""

    def handle(self, event: CallbackEvent) -> InboundOutcome:
        time.sleep(0.4)
        return super().handle(event)


def test_a_slow_handler_keeps_its_claims_so_no_callback_is_handled_twice(
    database_url: str,
) -> None:
    store = AuditStore.from_url(database_url)
    processor = SlowProcessor(store, Recorder())
    lease = timedelta(seconds=0.3)  # shorter than one callback's handling
    numbers = [f"+3361000010{n}" for n in range(3)]
    try:
        inbox = CallbackInbox(store, lease=lease)
        for number in numbers:
            assert inbox.put(stop(number).encode(), "application/json") is True
        workers = [
            InboxWorker(CallbackInbox(store, lease=lease), processor, poll_seconds=0.05)
            for _ in range(2)
        ]
        for worker in workers:
            worker.start()
        try:
            wait_until(lambda: inbox.unprocessed() == 0, timeout=30)
        finally:
            for worker in workers:
                worker.stop()
        assert sorted(processor.handled) == sorted(numbers)
    finally:
        store.close()


def test_a_claim_taken_by_another_worker_is_not_renewed(database_url: str) -> None:
    store = AuditStore.from_url(database_url)
    try:
        inbox = CallbackInbox(store, lease=timedelta(0))
        assert inbox.put(stop("+33610000200").encode(), "application/json") is True
        (item,) = inbox.claim("first")
        assert inbox.renew([item.id], "first") == {item.id}
        (again,) = inbox.claim("second")  # the lease (0 s) ran out: another takes it
        assert inbox.renew([item.id], "first") == set()
        assert inbox.finish(again.id, "second", "handled") is True
        assert inbox.renew([item.id], "second") == set()  # handled: nothing to hold
    finally:
        store.close()


def test_an_idle_poll_on_sqlite_only_reads(tmp_path: Path) -> None:
    """Every worker polls its inboxes each second: on SQLite, a claim with nothing to
    take must not take the file's one writer slot, which the sends wait for."""
    store = AuditStore.from_url(f"sqlite:///{tmp_path}/audit.db")
    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement.lstrip().split(None, 1)[0].upper())

    sa.event.listen(store.engine, "before_cursor_execute", seen)
    try:
        inbox = CallbackInbox(store, lease=timedelta(0))
        assert inbox.claim("idle") == []
        assert statements == ["SELECT"]

        assert inbox.put(stop("+33610000300").encode(), "application/json") is True
        statements.clear()
        (item,) = inbox.claim("busy")
        assert statements == ["SELECT", "UPDATE"]
        # A lease that ran out (0 s) leaves the row free to take again.
        statements.clear()
        (again,) = inbox.claim("other")
        assert again.id == item.id and statements == ["SELECT", "UPDATE"]
        assert inbox.finish(again.id, "other", "handled") is True
        assert inbox.claim("idle") == []
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", seen)
        store.close()
