"""The Octopush fault matrix, through ``SmsService.send`` (SQLite).

For each fault: the outcome says clearly what happened, the audit record tells the
truth (``failed``, saying Octopush may have received it when it may have; ``sent`` when
a retry succeeded), and the next send, answered normally, is ``sent``.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from bot.audit import AuditStore
from bot.domain import Actor, AuditStatus, SendDraft, SendOutcome, Source
from bot.octopush import OctopushClient, codes
from bot.sending.rules import SendDefaults
from bot.sending.service import SmsService
from tests.conftest import OCTOPUSH_KEY, SENT
from tests.fakes.raw_http import RawHttpServer, http_answer

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
