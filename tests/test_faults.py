"""The Octopush fault matrix, through ``SmsService.send`` (SQLite), and the faults after it.

For each Octopush fault: the outcome says clearly what happened, the audit record tells
the truth (``failed``, saying Octopush may have received it when it may have; ``sent``
when a retry succeeded), and the next send, answered normally, is ``sent``. For each
fault after the send (Slack timing out or dropping the connection, the audit store
failing), the person is still told that the SMS went out, and nobody is invited to
send it twice.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from bot.audit import AuditRecord, AuditStore
from bot.domain import Actor, AuditStatus, SendDraft, SendOutcome, Source
from bot.errors import AuditStoreError
from bot.octopush import OctopushClient, codes
from bot.sending.recovery import recover_pending
from bot.sending.rules import SendDefaults
from bot.sending.service import SmsService
from bot.slack.views.messages import build_result_message
from tests.conftest import OCTOPUSH_KEY, SENT, SlackHarness
from tests.fakes.raw_http import (
    Answer,
    RawHttpServer,
    RecordingOctopush,
    http_answer,
    ticket_for,
)
from tests.slack.listeners.test_commands import all_text, wait_until

SEND_PATH = "/v1/public/sms-campaign/send"
CLI = Actor(source=Source.CLI)
NUMBER = "+33612345678"
MAYBE_SENT = "Octopush may have received it"
SENT_ANSWER = http_answer("201 Created", json.dumps(SENT).encode())


def send(service: SmsService, text: str = "db-1 down") -> SendOutcome:
    return service.send(SendDraft(recipients=(NUMBER,), text=text), CLI)


def assert_recorded(store: AuditStore, outcome: SendOutcome) -> None:
    """The audit record says what the outcome says."""
    record = store.get(outcome.audit_id)
    assert record.status is outcome.status
    assert record.error_code == outcome.error_code
    assert record.error_message == outcome.error_message
    assert record.sms_ticket == outcome.sms_ticket
    assert record.request_id == outcome.request_id
    assert record.completed_at is not None


def assert_next_send_works(service: SmsService, store: AuditStore) -> None:
    outcome = send(service, "next one")
    assert outcome.status is AuditStatus.SENT
    assert outcome.sms_ticket == SENT["sms_ticket"]
    assert store.get(outcome.audit_id).status is AuditStatus.SENT


@contextmanager
def service_at(store: AuditStore, base_url: str) -> Iterator[SmsService]:
    client = OctopushClient(
        api_login="ops@example.com",
        api_key=OCTOPUSH_KEY,
        base_url=base_url,
        timeout=(0.5, 0.5),
        backoff=0,
    )
    try:
        yield SmsService(octopush=client, store=store, defaults=SendDefaults())
    finally:
        client.close()


def request_ids(httpserver: HTTPServer) -> list[str]:
    return [
        json.loads(request.get_data())["request_id"] for request, _ in httpserver.log
    ]


# -- faults answered over HTTP (pytest-httpserver) ------------------------------------


@dataclass(frozen=True)
class Reply:
    status: int
    body: str
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)

    def response(self) -> Response:
        return Response(
            self.body,
            status=self.status,
            content_type=self.content_type,
            headers=self.headers,
        )


OK = Reply(201, json.dumps(SENT))
BAD_GATEWAY = Reply(
    502,
    "<html><head><title>502 Bad Gateway</title></head>"
    "<body><center><h1>502 Bad Gateway</h1></center></body></html>",
    "text/html",
)


@dataclass(frozen=True)
class Fault:
    replies: tuple[Reply, ...]
    status: AuditStatus
    #: Words the outcome's message must hold (nothing when it was sent).
    words: tuple[str, ...] = ()
    maybe_sent: bool = False
    code: str | None = None
    hint: str | None = None


FAULTS = {
    "502 then 201: retried, sent": Fault((BAD_GATEWAY, OK), AuditStatus.SENT),
    "502 twice: failed, maybe sent": Fault(
        (BAD_GATEWAY, BAD_GATEWAY),
        AuditStatus.FAILED,
        words=("HTTP 502", "not JSON", "502 Bad Gateway", MAYBE_SENT),
        maybe_sent=True,
        hint=codes.BAD_ANSWER_MAYBE_SENT_HINT,
    ),
    "429 Retry-After 0 then 201: retried, sent": Fault(
        (
            Reply(
                429,
                json.dumps({"message": "Too many requests"}),
                headers={"Retry-After": "0"},
            ),
            OK,
        ),
        AuditStatus.SENT,
    ),
    "200 not JSON: failed, maybe sent": Fault(
        (Reply(200, "<html>Service maintenance</html>", "text/html"),),
        AuditStatus.FAILED,
        words=("HTTP 200", "not a JSON object", "Service maintenance", MAYBE_SENT),
        maybe_sent=True,
        hint=codes.BAD_ANSWER_MAYBE_SENT_HINT,
    ),
    "400 code 121: failed, not retried": Fault(
        (Reply(400, json.dumps({"code": 121, "message": "Missing STOP mention"})),),
        AuditStatus.FAILED,
        words=("Missing STOP mention",),
        code="121",
        hint=codes.CODES["121"].hint,
    ),
}


@pytest.mark.parametrize("fault", FAULTS.values(), ids=FAULTS.keys())
def test_an_octopush_answer_fault_is_reported_recorded_and_the_next_send_works(
    httpserver: HTTPServer, service: SmsService, store: AuditStore, fault: Fault
) -> None:
    replies = iter(fault.replies)

    def octopush(request: Request) -> Response:
        return next(replies, OK).response()

    httpserver.expect_request(SEND_PATH, method="POST").respond_with_handler(octopush)

    outcome = send(service)

    assert outcome.status is fault.status
    assert outcome.maybe_sent is fault.maybe_sent
    assert outcome.error_code == fault.code
    assert outcome.error_hint == fault.hint
    if fault.status is AuditStatus.SENT:
        assert outcome.sms_ticket == SENT["sms_ticket"]
        assert outcome.error_message is None
    else:
        assert outcome.error_message is not None
        for words in fault.words:
            assert words in outcome.error_message
        if not fault.maybe_sent:
            assert MAYBE_SENT not in outcome.error_message
    assert OCTOPUSH_KEY not in (outcome.error_message or "")
    assert_recorded(store, outcome)
    # One request per reply: a retry only after a 429 or 5xx, never after a 4xx or
    # an unreadable 2xx, and always with the same request_id.
    assert request_ids(httpserver) == [outcome.request_id] * len(fault.replies)

    assert_next_send_works(service, store)
    assert len(httpserver.log) == len(fault.replies) + 1


def test_a_read_timeout_twice_fails_saying_octopush_may_have_received_it(
    httpserver: HTTPServer, service: SmsService, store: AuditStore
) -> None:
    finished = threading.Semaphore(0)
    slow_ones = 2
    arrived: list[Request] = []

    def octopush(request: Request) -> Response:
        arrived.append(request)
        if len(arrived) <= slow_ones:
            time.sleep(0.6)  # past the 0.5 s read timeout
            finished.release()
        return OK.response()

    httpserver.expect_request(SEND_PATH, method="POST").respond_with_handler(octopush)

    outcome = send(service)
    # The test server answers one request at a time: let it finish the abandoned ones.
    for _ in range(slow_ones):
        assert finished.acquire(timeout=5)

    assert outcome.status is AuditStatus.FAILED
    assert outcome.maybe_sent is True
    assert outcome.error_code is None
    assert outcome.error_message is not None
    assert "did not answer within 0.5 s" in outcome.error_message
    assert MAYBE_SENT in outcome.error_message
    assert outcome.error_hint == codes.NO_ANSWER_MAYBE_SENT_HINT
    assert_recorded(store, outcome)
    assert request_ids(httpserver) == [outcome.request_id] * 2

    assert_next_send_works(service, store)
    assert len(httpserver.log) == 3


# -- faults below HTTP (raw sockets) ----------------------------------------------------


def base_url(sock: socket.socket) -> str:
    return f"http://127.0.0.1:{sock.getsockname()[1]}/v1/public"


def fill_backlog(server: socket.socket) -> list[socket.socket]:
    """Connect to ``server`` (``listen(0)``, never accepting) until a connect times out.

    Linux then drops every new SYN, so the next client's connect times out too.
    """
    fillers = []
    for _ in range(8):
        filler = socket.socket()
        filler.settimeout(0.2)
        fillers.append(filler)
        try:
            filler.connect(server.getsockname())
        except TimeoutError:
            return fillers
    for filler in fillers:
        filler.close()
    pytest.fail("the listen(0) backlog never filled: connects do not time out here")


def test_a_connect_timeout_fails_saying_nothing_was_sent(
    store: AuditStore,
) -> None:
    # A real connect timeout: a socket listening with backlog 0 whose queue is full of
    # connections nobody accepts, so the kernel drops the client's SYN. (The fallback,
    # a socket bound but not listening, would refuse instead; it is not needed on
    # Linux, where a full accept queue reliably drops SYNs.)
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    fillers = fill_backlog(server)
    with service_at(store, base_url(server)) as service:
        try:
            outcome = send(service)
        finally:
            for filler in fillers:
                filler.close()

        assert outcome.status is AuditStatus.FAILED
        assert outcome.maybe_sent is False
        assert outcome.error_message is not None
        assert "timed out connecting to Octopush (after 0.5 s)" in outcome.error_message
        assert MAYBE_SENT not in outcome.error_message
        assert outcome.error_hint == codes.NOT_REACHED_HINT
        assert "nothing was sent" in outcome.error_hint
        assert_recorded(store, outcome)

        # Start accepting on the same socket: the same client's next send goes through.
        with RawHttpServer(server, [SENT_ANSWER]) as octopush:
            assert_next_send_works(service, store)
        # The timed-out attempts never reached the server; only the next send did.
        assert [body["text"] for body in octopush.bodies] == ["next one"]


def test_a_refused_connection_fails_saying_nothing_was_sent(
    store: AuditStore,
) -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))  # bound, so no one else takes the port; not listening
    with service_at(store, base_url(server)) as service:
        outcome = send(service)

        assert outcome.status is AuditStatus.FAILED
        assert outcome.maybe_sent is False
        assert outcome.error_message is not None
        assert "could not connect to Octopush" in outcome.error_message
        assert "refused" in outcome.error_message.lower()
        assert MAYBE_SENT not in outcome.error_message
        assert outcome.error_hint == codes.NOT_REACHED_HINT
        assert_recorded(store, outcome)

        server.listen(8)
        with RawHttpServer(server, [SENT_ANSWER]) as octopush:
            assert_next_send_works(service, store)
        assert [body["text"] for body in octopush.bodies] == ["next one"]


def test_a_connection_cut_mid_answer_fails_saying_octopush_may_have_received_it(
    store: AuditStore,
) -> None:
    cut = (
        b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
        b'Content-Length: 200\r\n\r\n{"sms_ti'
    )
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    with (
        RawHttpServer(server, [cut, cut, SENT_ANSWER]) as octopush,
        service_at(store, base_url(server)) as service,
    ):
        outcome = send(service)

        assert outcome.status is AuditStatus.FAILED
        assert outcome.maybe_sent is True
        assert outcome.error_message is not None
        assert "the connection to Octopush broke" in outcome.error_message
        assert MAYBE_SENT in outcome.error_message
        assert outcome.error_hint == codes.NO_ANSWER_MAYBE_SENT_HINT
        assert_recorded(store, outcome)
        # Retried once, as the request carried a request_id: the same one both times.
        assert [body["request_id"] for body in octopush.bodies] == [
            outcome.request_id
        ] * 2

        assert_next_send_works(service, store)
        assert len(octopush.bodies) == 3


def test_a_resubmit_after_a_maybe_sent_failure_still_says_it_may_have_been_sent(
    httpserver: HTTPServer, service: SmsService
) -> None:
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_handler(
        lambda request: BAD_GATEWAY.response()
    )
    draft = SendDraft(recipients=(NUMBER,), text="db-1 down", request_id="modal-9")
    first = service.send(draft, CLI)
    again = service.send(draft, CLI)

    assert first.maybe_sent is True
    assert again.duplicate is True
    assert len(httpserver.log) == 2  # the first send and its retry; nothing more
    assert again.error_message == first.error_message
    assert again.maybe_sent is True
    assert again.error_hint is not None and "dashboard" in again.error_hint


# -- failures after the send: the person is always told it went out (issue 10.4) -----

NOTHING_DONE = "nothing more was done"
DUPLICATE = {"code": 120, "message": "request_id already used"}


def sent_then_duplicate(httpserver: HTTPServer) -> None:
    """Like Octopush: the first request with a request_id sends, a repeat gets 120."""
    seen: list[str] = []

    def octopush(request: Request) -> Response:
        request_id = json.loads(request.get_data())["request_id"]
        if request_id in seen:
            return Response(json.dumps(DUPLICATE), status=400)
        seen.append(request_id)
        return OK.response()

    httpserver.expect_request(SEND_PATH, method="POST").respond_with_handler(octopush)


def said_to_the_person(harness: SlackHarness) -> str:
    """Everything the bot said through Slack, as one JSON text."""
    return json.dumps(
        [call.args for call in harness.slack.state.calls], ensure_ascii=False
    )


def finished_record(harness: SlackHarness) -> AuditRecord:
    (record,) = wait_until(
        lambda: [
            r
            for r in harness.store.recent(limit=1)
            if r.status is not AuditStatus.PENDING
        ]
    )
    return record


@pytest.mark.parametrize("fault", ["timeout", "dropped connection"])
def test_a_channel_post_that_fails_below_slack_falls_back_to_the_response_url(
    harness: SlackHarness, httpserver: HTTPServer, fault: str
) -> None:
    sent_then_duplicate(httpserver)
    harness.stack.app.client.timeout = 0.3
    if fault == "timeout":
        harness.slack.state.stalls["chat.postMessage"] = 1.0
    else:
        harness.slack.state.drops.add("chat.postMessage")

    harness.command("+33612345678 db-1 down")

    (reply,) = harness.webhooks()
    record = finished_record(harness)
    assert reply["response_type"] == "in_channel"
    assert SENT["sms_ticket"] in all_text(reply)
    assert f"audit #{record.id}" in all_text(reply)
    assert NOTHING_DONE not in said_to_the_person(harness)
    assert record.status is AuditStatus.SENT
    assert len(httpserver.log) == 1


def test_when_channel_and_response_url_fail_the_sender_is_told_privately(
    harness: SlackHarness, httpserver: HTTPServer
) -> None:
    sent_then_duplicate(httpserver)
    harness.stack.app.client.timeout = 0.3
    harness.slack.state.drops.add("chat.postMessage")
    harness.slack.state.webhook_status = 500

    harness.command("+33612345678 db-1 down", user="U7", channel="C4")

    (note,) = harness.slack.wait_for("chat.postEphemeral")
    record = finished_record(harness)
    assert note.args["user"] == "U7"
    assert note.args["channel"] == "C4"
    assert "could not post this in the channel" in all_text(note.args)
    assert SENT["sms_ticket"] in all_text(note.args)
    assert f"audit #{record.id}" in all_text(note.args)
    assert NOTHING_DONE not in said_to_the_person(harness)
    assert len(httpserver.log) == 1


def test_an_audit_store_failure_after_the_send_is_said_with_the_result_and_swept(
    harness: SlackHarness, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent_then_duplicate(httpserver)

    def database_down(record_id: int, result: object) -> None:
        raise AuditStoreError("audit store could not complete an attempt")

    monkeypatch.setattr(harness.store, "complete", database_down)

    harness.command("+33612345678 db-1 down")

    (post,) = harness.slack.wait_for("chat.postMessage")
    text = all_text(post.args)
    assert "SMS sent" in text
    assert SENT["sms_ticket"] in text
    assert "could not be completed" in text
    assert NOTHING_DONE not in said_to_the_person(harness)
    (record,) = harness.store.recent(limit=1)
    assert record.status is AuditStatus.PENDING

    # The database is back. The sweep leaves the record alone (this process holds
    # its answer); the process's own retry writes it, ticket and cost included.
    monkeypatch.undo()
    assert recover_pending(harness.service, min_age=timedelta(0)) == []
    harness.service.retry_completions()

    record = harness.store.get(record.id)
    assert record.status is AuditStatus.SENT
    assert record.sms_ticket == SENT["sms_ticket"]
    assert request_ids(httpserver) == [record.request_id]


def test_a_page_whose_post_cannot_be_remembered_still_says_the_sms_went_out(
    make_harness: Callable[..., SlackHarness],
    httpserver: HTTPServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sent_then_duplicate(httpserver)
    directory = tmp_path / "directory.yml"
    directory.write_text('people:\n  alice: {phone: "+33612345678"}\n')
    harness = make_harness(directory=str(directory))

    def database_down(*args: object, **kwargs: object) -> None:
        raise AuditStoreError("audit store could not remember the page post")

    monkeypatch.setattr(harness.stack.paging.pager.pages, "set_message", database_down)

    harness.command("page alice DB is down")

    record = finished_record(harness)
    harness.settle()
    posts = harness.slack.calls("chat.postMessage")
    (page_post,) = [c.args for c in posts if not c.args.get("thread_ts")]
    (note,) = [c.args for c in posts if c.args.get("thread_ts")]
    # The page is posted as usual, and its thread says what failed after the SMS.
    assert "Page for" in all_text(page_post)
    assert "The page was sent, but afterwards" in all_text(note)
    assert "remembering the page" in all_text(note)
    assert record.status is AuditStatus.SENT
    assert NOTHING_DONE not in said_to_the_person(harness)
    assert len(httpserver.log) == 1


def test_a_batch_failing_after_the_first_keeps_what_went_out_and_says_which_part(
    store: AuditStore,
) -> None:
    def second_batch_refused(body: dict[str, object], number: int) -> Answer:
        if number == 1:
            return 201, ticket_for(1)
        return 400, {"code": 153, "message": "Route congested"}

    numbers = tuple(f"+33612{n:06d}" for n in range(1001))  # 3 batches: 500, 500, 1
    with (
        RecordingOctopush(second_batch_refused) as octopush,
        service_at(store, octopush.url) as service,
    ):
        outcome = service.send(SendDraft(recipients=numbers, text="db-1 down"), CLI)

    assert len(octopush.bodies) == 2
    assert outcome.status is AuditStatus.FAILED
    assert outcome.maybe_sent is True
    record = store.get(outcome.audit_id)
    assert record.sms_ticket == "sms_rec0001"
    assert record.total_cost == pytest.approx(0.0333)
    assert record.error_code == "153"
    assert record.error_message is not None
    assert "Recipients 1 to 500 of 1001 were sent" in record.error_message
    assert "recipients 501 to 1001 were not" in record.error_message
    post = all_text(build_result_message(outcome, user_id="U1"))
    assert "Recipients 1 to 500 of 1001 were sent" in post
    assert "sms_rec0001" in post
