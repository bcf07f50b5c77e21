"""A caller's request id is "safe to retry": an attempt that went nowhere is tried again.

``sms-bot send --request-id`` sends with ``retry_failed``: an attempt under the id that
definitely did not go out gives way to a new one (its own Octopush ``request_id``);
one that went out, may have, or is still running answers the retry. Slack's ids keep
the first answer whatever it was (a Slack redelivery is not the person's retry).
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest
from pytest_httpserver import HTTPServer

from bot.audit import AuditStore
from bot.domain import Actor, AuditStatus, SendDraft, SendOutcome, Source
from bot.octopush import OctopushClient
from bot.sending.attempts import retry_request_id
from bot.sending.rules import SendDefaults
from bot.sending.service import SmsService
from tests.conftest import OCTOPUSH_KEY, SENT

SEND_PATH = "/v1/public/sms-campaign/send"
DRAFT = SendDraft(recipients=("+33612345678",), text="nightly backup failed")
CLI = Actor(source=Source.CLI)


@pytest.fixture
def audit(database_url: str) -> Iterator[AuditStore]:
    store = AuditStore.from_url(database_url)
    yield store
    store.close()


def service_at(store: AuditStore, base_url: str) -> SmsService:
    client = OctopushClient(
        api_login="ops@example.com",
        api_key=OCTOPUSH_KEY,
        base_url=base_url,
        timeout=(0.5, 0.5),
        backoff=0,
        max_retries=0,
    )
    return SmsService(octopush=client, store=store, defaults=SendDefaults())


def unreachable_url() -> tuple[socket.socket, str]:
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
    return closed, f"http://127.0.0.1:{closed.getsockname()[1]}/v1/public"


def sent_ids(httpserver: HTTPServer) -> list[str]:
    return [
        json.loads(request.get_data())["request_id"] for request, _ in httpserver.log
    ]


def send(service: SmsService, key: str, *, retry_failed: bool = True) -> SendOutcome:
    draft = DRAFT.model_copy(update={"request_id": key})
    return service.send(draft, CLI, retry_failed=retry_failed)


def test_a_key_whose_attempt_never_reached_octopush_is_tried_again_under_its_own_id(
    httpserver: HTTPServer, audit: AuditStore, octopush_url: str
) -> None:
    closed, down = unreachable_url()
    outage = service_at(audit, down)
    try:
        first = send(outage, "nightly-1")
    finally:
        outage.octopush.close()
        closed.close()
    assert first.status is AuditStatus.FAILED and not first.maybe_sent

    httpserver.expect_request(SEND_PATH, method="POST").respond_with_json(
        SENT, status=201
    )
    service = service_at(audit, octopush_url)
    try:
        second = send(service, "nightly-1")
        third = send(service, "nightly-1")  # went out: answered, not sent again
    finally:
        service.octopush.close()

    assert sent_ids(httpserver) == ["nightly-1#2"]
    assert second.status is AuditStatus.SENT and not second.duplicate
    assert second.audit_id != first.audit_id
    assert second.request_id == "nightly-1#2"
    assert third.duplicate and third.audit_id == second.audit_id
    assert third.status is AuditStatus.SENT
    old, new = audit.get(first.audit_id), audit.get(second.audit_id)
    assert (old.request_id, old.status) == ("nightly-1", AuditStatus.FAILED)
    assert (new.request_id, new.request_key) == ("nightly-1#2", "nightly-1")
    assert new.status is AuditStatus.SENT and new.sms_ticket == SENT["sms_ticket"]


def test_each_retry_of_a_refused_key_is_numbered(
    httpserver: HTTPServer, audit: AuditStore, octopush_url: str
) -> None:
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_json(
        {"code": 104, "message": "Not enough credit"}, status=400
    )
    service = service_at(audit, octopush_url)
    try:
        outcomes = [send(service, "cron-7") for _ in range(3)]
    finally:
        service.octopush.close()

    assert sent_ids(httpserver) == ["cron-7", "cron-7#2", "cron-7#3"]
    assert [o.error_code for o in outcomes] == ["104"] * 3
    assert len({o.audit_id for o in outcomes}) == 3


def test_a_key_whose_attempt_may_have_gone_out_is_answered_not_resent(
    httpserver: HTTPServer, audit: AuditStore, octopush_url: str
) -> None:
    # A 503 after the request reached Octopush: it may have queued the SMS.
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_json(
        {"code": 503, "message": "busy"}, status=503
    )
    service = service_at(audit, octopush_url)
    try:
        first = send(service, "nightly-2")
        again = send(service, "nightly-2")
    finally:
        service.octopush.close()

    assert first.status is AuditStatus.FAILED and first.maybe_sent
    assert again.duplicate and again.audit_id == first.audit_id and again.maybe_sent
    assert sent_ids(httpserver) == ["nightly-2"]


def test_without_retry_failed_a_failed_key_keeps_its_first_answer(
    httpserver: HTTPServer, audit: AuditStore, octopush_url: str
) -> None:
    # Slack's request ids: a redelivered click is answered with the first result.
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_json(
        {"code": 104, "message": "Not enough credit"}, status=400
    )
    service = service_at(audit, octopush_url)
    try:
        first = send(service, "slack-command-1", retry_failed=False)
        again = send(service, "slack-command-1", retry_failed=False)
    finally:
        service.octopush.close()

    assert again.duplicate and again.audit_id == first.audit_id
    assert again.error_code == "104"
    assert sent_ids(httpserver) == ["slack-command-1"]


def test_a_derived_request_id_fits_the_column_and_stays_distinct() -> None:
    long_a, long_b = "a" * 128, "a" * 127 + "b"
    assert retry_request_id("nightly-1", 2) == "nightly-1#2"
    assert len(retry_request_id(long_a, 12)) <= 128
    assert retry_request_id(long_a, 2) != retry_request_id(long_b, 2)
    assert retry_request_id(long_a, 2).endswith("#2")
