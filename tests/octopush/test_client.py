"""Contract tests for OctopushClient against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import logging
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from bot.octopush import (
    Balance,
    OctopushAPIError,
    OctopushAuthenticationError,
    OctopushBatchError,
    OctopushClient,
    OctopushConnectionError,
    OctopushDuplicateRequestError,
    OctopushError,
    OctopushRateLimitError,
    OctopushResponseError,
    OctopushValidationError,
    Recipient,
    SmsCampaign,
)

KEY = "k-secret-123"
LOGIN = "ops@example.com"
SEND = "/v1/public/sms-campaign/send"
BALANCE = "/v1/public/wallet/check-balance"
TICKET = {
    "sms_ticket": "sms_5fec89fe97109",
    "number_of_contacts": 1,
    "total_cost": 0.0333,
    "number_of_sms_needed": 1,
    "residual_credit": 99.5,
}
HTML_500 = "<html><body><h1>502 Bad Gateway</h1><p>nginx</p></body></html>"


def make_client(base_url: str, **options: Any) -> OctopushClient:
    settings: dict[str, Any] = {"timeout": (0.5, 0.5), "backoff": 0}
    settings.update(options)
    return OctopushClient(api_login=LOGIN, api_key=KEY, base_url=base_url, **settings)


@pytest.fixture
def client(httpserver: HTTPServer) -> Iterator[OctopushClient]:
    with make_client(httpserver.url_for("/v1/public")) as octopush:
        yield octopush


@pytest.fixture
def threaded_server() -> Iterator[HTTPServer]:
    """A server that answers requests in parallel, for handlers that sleep."""
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    yield server
    server.clear()
    server.stop()


def campaign(**overrides: Any) -> SmsCampaign:
    fields: dict[str, Any] = {
        "text": "Server db-1 is down",
        "recipients": [Recipient(phone_number="+33612345678")],
        "type": "sms_premium",
        "purpose": "alert",
        "request_id": "req-1",
    }
    fields.update(overrides)
    return SmsCampaign(**fields)


def sent_bodies(server: HTTPServer) -> list[dict[str, Any]]:
    return [json.loads(request.get_data()) for request, _ in server.log]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def recording_sleep(client: OctopushClient) -> list[float]:
    delays: list[float] = []
    client.transport.sleep = delays.append
    return delays


# --- success -----------------------------------------------------------------


def test_send_posts_exact_json_with_auth_headers(
    httpserver: HTTPServer, client: OctopushClient
) -> None:
    paris = timezone(timedelta(hours=2))
    expected = {
        "text": "Server db-1 is down",
        "recipients": [{"phone_number": "+33612345678", "first_name": "Ana"}],
        "type": "sms_premium",
        "purpose": "alert",
        "sender": "OpsTeam",
        "send_at": "2030-05-01T09:30:00+02:00",
        "request_id": "req-1",
    }
    httpserver.expect_request(
        SEND,
        method="POST",
        json=expected,
        headers={"api-login": LOGIN, "api-key": KEY, "cache-control": "no-cache"},
    ).respond_with_json(TICKET, status=201)

    result = client.send_sms_campaign(
        campaign(
            recipients=[Recipient(phone_number="+33612345678", first_name="Ana")],
            sender="OpsTeam",
            send_at=datetime(2030, 5, 1, 9, 30, tzinfo=paris),
        )
    )

    assert result.sms_ticket == "sms_5fec89fe97109"
    assert result.tickets == ("sms_5fec89fe97109",)
    assert result.total_cost == pytest.approx(0.0333)
    assert result.residual_credit == pytest.approx(99.5)
    request, _ = httpserver.log[0]
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["User-Agent"] == "sms-bot-octopush/0.1"


def test_send_accepts_200_as_success(
    httpserver: HTTPServer, client: OctopushClient
) -> None:
    httpserver.expect_request(SEND, method="POST").respond_with_json(TICKET)

    assert client.send_sms_campaign(campaign()).sms_ticket == "sms_5fec89fe97109"


def test_send_success_with_only_sms_ticket_leaves_other_fields_none(
    httpserver: HTTPServer, client: OctopushClient
) -> None:
    httpserver.expect_request(SEND).respond_with_json({"sms_ticket": "sms_1"}, 201)

    result = client.send_sms_campaign(campaign())

    assert result.sms_ticket == "sms_1"
    assert result.tickets == ("sms_1",)
    assert result.number_of_contacts is None
    assert result.total_cost is None


# --- Octopush error answers ----------------------------------------------------


def test_send_400_code_121_raises_validation_error_with_stop_hint(
    httpserver: HTTPServer, client: OctopushClient
) -> None:
    message = "STOP mention ([STOP au 30101]) is missing from your text."
    httpserver.expect_request(SEND).respond_with_json(
        {"code": 121, "message": message}, status=400
    )

    with pytest.raises(OctopushValidationError) as exc_info:
        client.send_sms_campaign(campaign(purpose="wholesale"))

    error = exc_info.value
    assert error.code == "121"
    assert error.http_status == 400
    assert error.request_id == "req-1"
    assert error.maybe_sent is False
    assert error.hint is not None and "STOP au 30101" in error.hint
    assert str(error) == f"[121] {message}"
    assert len(httpserver.log) == 1


def test_send_unknown_code_is_kept_without_hint(
    httpserver: HTTPServer, client: OctopushClient
) -> None:
    httpserver.expect_request(SEND).respond_with_json(
        {"code": 999, "message": "Something new"}, status=422
    )

    with pytest.raises(OctopushValidationError) as exc_info:
        client.send_sms_campaign(campaign())

    assert exc_info.value.code == "999"
    assert exc_info.value.hint is None
    assert exc_info.value.http_status == 422


def test_send_reads_code_sent_as_string_and_detail_key(
    httpserver: HTTPServer, client: OctopushClient
) -> None:
    httpserver.expect_request(SEND).respond_with_json(
        {"code": "104", "detail": "Not enough credit"}, status=400
    )

    with pytest.raises(OctopushValidationError) as exc_info:
        client.send_sms_campaign(campaign())

    assert exc_info.value.code == "104"
    assert exc_info.value.message == "Not enough credit"
    assert exc_info.value.hint is not None and "credit" in exc_info.value.hint


def test_send_401_raises_authentication_error_with_credentials_hint(
    httpserver: HTTPServer, client: OctopushClient
) -> None:
    httpserver.expect_request(SEND).respond_with_data("Unauthorized", status=401)

    with pytest.raises(OctopushAuthenticationError) as exc_info:
        client.send_sms_campaign(campaign())

    error = exc_info.value
    assert error.http_status == 401
    assert error.code is None
    assert error.maybe_sent is False
    assert error.hint is not None and "OCTOPUSH_API_KEY" in error.hint
    assert len(httpserver.log) == 1


def test_send_code_101_is_an_authentication_error(
    httpserver: HTTPServer, client: OctopushClient
) -> None:
    httpserver.expect_request(SEND).respond_with_json(
        {"code": 101, "message": "Bad login"}, status=400
    )

    with pytest.raises(OctopushAuthenticationError) as exc_info:
        client.send_sms_campaign(campaign())

    assert exc_info.value.code == "101"
    assert exc_info.value.http_status == 400


@pytest.mark.parametrize("status", [400, 403, 404, 409, 422])
def test_send_4xx_is_sent_exactly_once(
    httpserver: HTTPServer, client: OctopushClient, status: int
) -> None:
    httpserver.expect_request(SEND).respond_with_json(
        {"code": 117, "message": "No valid number"}, status=status
    )

    with pytest.raises(OctopushAPIError) as exc_info:
        client.send_sms_campaign(campaign())

    assert exc_info.value.http_status == status
    assert exc_info.value.maybe_sent is False
    assert len(httpserver.log) == 1


def test_send_retries_429_after_retry_after_with_same_request_id(
    httpserver: HTTPServer, client: OctopushClient
) -> None:
    delays = recording_sleep(client)
    httpserver.expect_ordered_request(SEND).respond_with_json(
        {"message": "Too many requests"}, status=429, headers={"Retry-After": "2"}
    )
    httpserver.expect_ordered_request(SEND).respond_with_json(TICKET, status=201)

    result = client.send_sms_campaign(campaign())

    assert result.sms_ticket == "sms_5fec89fe97109"
    assert delays == [2.0]
    assert [body["request_id"] for body in sent_bodies(httpserver)] == ["req-1"] * 2
    first, second = sent_bodies(httpserver)
    assert first == second


def test_send_caps_retry_after_and_raises_rate_limit_error(
    httpserver: HTTPServer, client: OctopushClient
) -> None:
    delays = recording_sleep(client)
    httpserver.expect_request(SEND).respond_with_data(
        "", status=429, headers={"Retry-After": "3600"}
    )

    with pytest.raises(OctopushRateLimitError) as exc_info:
        client.send_sms_campaign(campaign())

    assert exc_info.value.retry_after == 3600.0
    assert exc_info.value.http_status == 429
    assert exc_info.value.maybe_sent is False
    assert delays == [30.0]
    assert len(httpserver.log) == 2


def test_send_retries_500_html_once_then_raises_response_error(
    httpserver: HTTPServer, client: OctopushClient
) -> None:
    httpserver.expect_request(SEND).respond_with_data(
        HTML_500, status=500, content_type="text/html"
    )

    with pytest.raises(OctopushResponseError) as exc_info:
        client.send_sms_campaign(campaign())

    error = exc_info.value
    assert error.http_status == 500
    assert error.request_id == "req-1"
    assert error.maybe_sent is True
    assert "HTTP 500" in error.message and "502 Bad Gateway" in error.message
    assert error.hint is not None and "dashboard" in error.hint
    assert [body["request_id"] for body in sent_bodies(httpserver)] == ["req-1"] * 2


def test_send_500_json_without_request_id_is_not_retried(
    httpserver: HTTPServer, client: OctopushClient
) -> None:
    httpserver.expect_request(SEND).respond_with_json(
        {"code": 500, "message": "Impossible to process"}, status=500
    )

    with pytest.raises(OctopushAPIError) as exc_info:
        client.send_sms_campaign(campaign(request_id=None))

    assert type(exc_info.value) is OctopushAPIError
    assert exc_info.value.code == "500"
    assert exc_info.value.maybe_sent is True
    assert len(httpserver.log) == 1


def test_send_200_non_json_raises_response_error(
    httpserver: HTTPServer, client: OctopushClient
) -> None:
    httpserver.expect_request(SEND).respond_with_data("OK", status=200)

    with pytest.raises(OctopushResponseError) as exc_info:
        client.send_sms_campaign(campaign())

    assert exc_info.value.http_status == 200
    assert exc_info.value.maybe_sent is True
    assert "'OK'" in exc_info.value.message
    assert len(httpserver.log) == 1


def test_send_2xx_json_without_sms_ticket_raises_response_error(
    httpserver: HTTPServer, client: OctopushClient
) -> None:
    httpserver.expect_request(SEND).respond_with_json({"total_cost": 0.1}, 201)

    with pytest.raises(OctopushResponseError) as exc_info:
        client.send_sms_campaign(campaign())

    assert "sms_ticket" in exc_info.value.message
    assert exc_info.value.maybe_sent is True
    assert isinstance(exc_info.value.__cause__, ValueError)


def test_send_does_not_follow_redirects(
    httpserver: HTTPServer, client: OctopushClient
) -> None:
    httpserver.expect_request(SEND).respond_with_data(
        "", status=302, headers={"Location": "http://127.0.0.1:9/steal"}
    )

    with pytest.raises(OctopushResponseError) as exc_info:
        client.send_sms_campaign(campaign())

    assert exc_info.value.http_status == 302
    assert exc_info.value.maybe_sent is False
    assert len(httpserver.log) == 1


def test_retry_answered_with_code_120_raises_duplicate_request_error(
    httpserver: HTTPServer, client: OctopushClient
) -> None:
    httpserver.expect_ordered_request(SEND).respond_with_data("", status=503)
    httpserver.expect_ordered_request(SEND).respond_with_json(
        {"code": 120, "message": "Duplicate request_id"}, status=400
    )

    with pytest.raises(OctopushDuplicateRequestError) as exc_info:
        client.send_sms_campaign(campaign())

    error = exc_info.value
    assert isinstance(error, OctopushValidationError)
    assert error.code == "120"
    assert error.http_status == 400
    assert error.request_id == "req-1"
    assert error.maybe_sent is True
    assert "probably sent" in error.message
    assert [body["request_id"] for body in sent_bodies(httpserver)] == ["req-1"] * 2


def test_code_120_on_first_attempt_is_a_plain_validation_error(
    httpserver: HTTPServer, client: OctopushClient
) -> None:
    httpserver.expect_request(SEND).respond_with_json(
        {"code": 120, "message": "Duplicate request_id"}, status=400
    )

    with pytest.raises(OctopushValidationError) as exc_info:
        client.send_sms_campaign(campaign())

    assert type(exc_info.value) is OctopushValidationError
    assert exc_info.value.hint is not None and "already" in exc_info.value.hint


# --- transport failures ------------------------------------------------------


def slow_handler(seen: list[str], delay: float) -> Callable[[Request], Response]:
    def handle(request: Request) -> Response:
        seen.append(json.loads(request.get_data()).get("request_id", "-"))
        time.sleep(delay)
        return Response(json.dumps(TICKET), 201, content_type="application/json")

    return handle


def test_send_retries_read_timeout_with_same_request_id(
    threaded_server: HTTPServer,
) -> None:
    seen: list[str] = []
    threaded_server.expect_request(SEND).respond_with_handler(slow_handler(seen, 0.6))

    with make_client(threaded_server.url_for("/v1/public"), timeout=(0.5, 0.2)) as c:
        with pytest.raises(OctopushConnectionError) as exc_info:
            c.send_sms_campaign(campaign())

    error = exc_info.value
    assert error.maybe_sent is True
    assert error.http_status is None
    assert error.request_id == "req-1"
    assert error.hint is not None and "may have been sent" in error.hint
    assert seen == ["req-1", "req-1"]


def test_send_read_timeout_without_request_id_is_not_retried(
    threaded_server: HTTPServer,
) -> None:
    seen: list[str] = []
    threaded_server.expect_request(SEND).respond_with_handler(slow_handler(seen, 0.6))

    with make_client(threaded_server.url_for("/v1/public"), timeout=(0.5, 0.2)) as c:
        with pytest.raises(OctopushConnectionError) as exc_info:
            c.send_sms_campaign(campaign(request_id=None))

    assert exc_info.value.maybe_sent is True
    assert seen == ["-"]


def test_send_to_refused_connection_is_not_maybe_sent() -> None:
    with make_client(f"http://127.0.0.1:{closed_port()}/v1/public") as c:
        delays = recording_sleep(c)
        with pytest.raises(OctopushConnectionError) as exc_info:
            c.send_sms_campaign(campaign(request_id=None))

    error = exc_info.value
    assert error.maybe_sent is False
    assert error.http_status is None
    assert error.hint is not None and "nothing was sent" in error.hint
    assert delays == [0.0]  # a connect error is always safe to retry once
    assert error.__cause__ is not None  # the requests error, chained


@pytest.fixture
def resetting_server() -> Iterator[tuple[str, list[bytes]]]:
    """A TCP server that reads a request, then resets the connection."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.05)
    received: list[bytes] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(1)
                data = b""
                while b"}" not in data:  # the JSON body has arrived
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                received.append(data)
                linger = struct.pack("ii", 1, 0)  # close with RST
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/v1/public", received
    stop.set()
    thread.join(1)
    listener.close()


def test_send_connection_reset_after_request_is_maybe_sent(
    resetting_server: tuple[str, list[bytes]],
) -> None:
    url, received = resetting_server
    with make_client(url) as c:
        with pytest.raises(OctopushConnectionError) as exc_info:
            c.send_sms_campaign(campaign())

    assert exc_info.value.maybe_sent is True
    assert exc_info.value.request_id == "req-1"
    assert len(received) == 2  # retried once: it has a request_id
    assert all(b'"request_id": "req-1"' in data for data in received)


# --- batches -----------------------------------------------------------------


def numbers(count: int) -> list[Recipient]:
    return [Recipient(phone_number=f"+336{index:08d}") for index in range(count)]


def batch_handler(request: Request) -> Response:
    body = json.loads(request.get_data())
    batch = body["request_id"].rsplit("-", 1)[1]
    answer = {
        "sms_ticket": f"sms_{batch}",
        "number_of_contacts": len(body["recipients"]),
        "number_of_sms_needed": int(batch),
        "total_cost": 0.05 * len(body["recipients"]),
        "residual_credit": 100.0 - int(batch),
    }
    return Response(json.dumps(answer), 201, content_type="application/json")


def test_send_splits_1201_recipients_into_three_batches(
    httpserver: HTTPServer, client: OctopushClient
) -> None:
    httpserver.expect_request(SEND).respond_with_handler(batch_handler)

    result = client.send_sms_campaign(campaign(recipients=numbers(1201)))

    bodies = sent_bodies(httpserver)
    assert [len(body["recipients"]) for body in bodies] == [500, 500, 201]
    assert [body["request_id"] for body in bodies] == ["req-1-1", "req-1-2", "req-1-3"]
    assert bodies[2]["recipients"][-1] == {"phone_number": "+33600001200"}
    assert all(body["text"] == "Server db-1 is down" for body in bodies)
    assert result.sms_ticket == "sms_1"
    assert result.tickets == ("sms_1", "sms_2", "sms_3")
    assert result.number_of_contacts == 1201
    assert result.number_of_sms_needed == 3
    assert result.total_cost == pytest.approx(0.05 * 1201)
    assert result.residual_credit == 97.0


def test_second_batch_failure_raises_batch_error_with_completed_result(
    httpserver: HTTPServer, client: OctopushClient
) -> None:
    httpserver.expect_ordered_request(SEND).respond_with_json({"sms_ticket": "sms_a"})
    httpserver.expect_ordered_request(SEND).respond_with_json(
        {"code": 104, "message": "Out of credit"}, status=400
    )

    with pytest.raises(OctopushBatchError) as exc_info:
        client.send_sms_campaign(campaign(recipients=numbers(1201)))

    error = exc_info.value
    assert [result.sms_ticket for result in error.completed] == ["sms_a"]
    assert isinstance(error.cause, OctopushValidationError)
    assert error.__cause__ is error.cause
    assert error.code == "104"
    assert error.request_id == "req-1-2"
    assert error.http_status == 400
    assert error.maybe_sent is True
    assert "batch 2 of 3" in error.message and "1 batch had been sent" in error.message
    assert len(httpserver.log) == 2  # the third batch is not attempted


def test_first_batch_failure_raises_the_plain_error(
    httpserver: HTTPServer, client: OctopushClient
) -> None:
    httpserver.expect_request(SEND).respond_with_json(
        {"code": 104, "message": "Out of credit"}, status=400
    )

    with pytest.raises(OctopushValidationError) as exc_info:
        client.send_sms_campaign(campaign(recipients=numbers(501)))

    assert not isinstance(exc_info.value, OctopushBatchError)
    assert exc_info.value.request_id == "req-1-1"


# --- balance -----------------------------------------------------------------


def test_get_balance_returns_amount_and_unit(
    httpserver: HTTPServer, client: OctopushClient
) -> None:
    httpserver.expect_request(
        BALANCE, method="GET", headers={"api-login": LOGIN, "api-key": KEY}
    ).respond_with_json({"amount": 12.54, "unit": "euros", "extra": True})

    assert client.get_balance() == Balance(amount=12.54, unit="euros")


def test_get_balance_401_raises_authentication_error(
    httpserver: HTTPServer, client: OctopushClient
) -> None:
    httpserver.expect_request(BALANCE).respond_with_json(
        {"code": 101, "message": "Invalid credentials"}, status=401
    )

    with pytest.raises(OctopushAuthenticationError) as exc_info:
        client.get_balance()

    assert exc_info.value.code == "101"
    assert exc_info.value.http_status == 401
    assert len(httpserver.log) == 1


def test_get_balance_retries_server_errors_then_raises_api_error(
    httpserver: HTTPServer, client: OctopushClient
) -> None:
    httpserver.expect_request(BALANCE).respond_with_json(
        {"code": 501, "message": "Connection error"}, status=503
    )

    with pytest.raises(OctopushAPIError) as exc_info:
        client.get_balance()

    assert exc_info.value.code == "501"
    assert exc_info.value.http_status == 503
    assert exc_info.value.maybe_sent is False  # a GET sends no SMS
    assert len(httpserver.log) == 1 + OctopushClient.balance_retries


def test_get_balance_is_retried_by_urllib3_after_a_503(
    httpserver: HTTPServer, client: OctopushClient
) -> None:
    delays = recording_sleep(client)
    httpserver.expect_ordered_request(BALANCE, method="GET").respond_with_json(
        {"code": 501, "message": "Connection error"}, status=503
    )
    httpserver.expect_ordered_request(BALANCE, method="GET").respond_with_json(
        {"amount": 3.5, "unit": "euros"}
    )

    assert client.get_balance() == Balance(amount=3.5, unit="euros")

    assert len(httpserver.log) == 2
    assert delays == []  # urllib3 repeated it, not the hand-written send retry


def test_get_balance_is_retried_after_a_read_timeout(
    threaded_server: HTTPServer,
) -> None:
    answered: list[int] = []

    def slow_once(request: Request) -> Response:
        answered.append(1)
        if len(answered) == 1:
            time.sleep(0.8)  # past the 0.5 s read timeout
        return Response(
            json.dumps({"amount": 1.0, "unit": "euros"}),
            content_type="application/json",
        )

    threaded_server.expect_request(BALANCE).respond_with_handler(slow_once)
    with make_client(threaded_server.url_for("/v1/public")) as octopush:
        assert octopush.get_balance() == Balance(amount=1.0, unit="euros")
    assert len(answered) == 2


def test_a_send_answered_503_is_not_retried_by_urllib3(
    httpserver: HTTPServer,
) -> None:
    httpserver.expect_request(SEND, method="POST").respond_with_json(
        {"code": 501, "message": "Connection error"}, status=503
    )
    with make_client(httpserver.url_for("/v1/public"), max_retries=0) as octopush:
        with pytest.raises(OctopushAPIError) as exc_info:
            octopush.send_sms_campaign(campaign())

    assert len(httpserver.log) == 1  # one POST: nothing below us repeated it
    assert exc_info.value.maybe_sent is True


def test_a_send_answered_503_is_retried_once_by_hand_with_its_request_id(
    httpserver: HTTPServer, client: OctopushClient
) -> None:
    delays = recording_sleep(client)
    httpserver.expect_request(SEND, method="POST").respond_with_json(
        {"code": 501, "message": "Connection error"}, status=503
    )

    with pytest.raises(OctopushAPIError):
        client.send_sms_campaign(campaign())

    assert len(httpserver.log) == 1 + client.max_retries  # exactly ours, no more
    assert len(delays) == client.max_retries
    assert {body["request_id"] for body in sent_bodies(httpserver)} == {"req-1"}


def test_get_balance_without_amount_raises_response_error(
    httpserver: HTTPServer, client: OctopushClient
) -> None:
    httpserver.expect_request(BALANCE).respond_with_json({"unit": "euros"})

    with pytest.raises(OctopushResponseError) as exc_info:
        client.get_balance()

    assert exc_info.value.maybe_sent is False
    assert exc_info.value.http_status == 200


# --- secrets and logs ----------------------------------------------------------


def test_api_key_never_appears_in_logs_repr_or_errors(
    httpserver: HTTPServer, client: OctopushClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    httpserver.expect_ordered_request(SEND).respond_with_json(TICKET, status=201)
    httpserver.expect_ordered_request(SEND).respond_with_data(HTML_500, status=500)
    httpserver.expect_ordered_request(SEND).respond_with_json(
        {"code": 101, "message": f"key {KEY} is not valid"}, status=401
    )
    httpserver.expect_ordered_request(BALANCE).respond_with_json(
        {"code": 121, "detail": f"echo {KEY}"}, status=400
    )
    errors: list[OctopushError] = []

    client.send_sms_campaign(campaign())
    for call in (
        lambda: client.send_sms_campaign(campaign()),
        client.get_balance,
    ):
        with pytest.raises(OctopushError) as exc_info:
            call()
        errors.append(exc_info.value)
    with make_client(f"http://127.0.0.1:{closed_port()}") as unreachable:
        with pytest.raises(OctopushConnectionError) as exc_info:
            unreachable.get_balance()
        errors.append(exc_info.value)

    # Every call was made and logged (the 500 was retried, its retry refused).
    assert [request.method for request, _ in httpserver.log] == [
        "POST",
        "POST",
        "POST",
        "GET",
    ]
    assert isinstance(errors[0], OctopushAuthenticationError)
    assert caplog.records
    assert KEY not in caplog.text
    assert "+33612345678" not in caplog.text
    assert KEY not in repr(client) and LOGIN in repr(client)
    for error in errors:
        assert KEY not in str(error) and KEY not in repr(error)
        assert all(KEY not in str(arg) for arg in error.args)
    assert "***" in errors[0].message


def test_error_repr_shows_status_and_request_id(
    httpserver: HTTPServer, client: OctopushClient
) -> None:
    httpserver.expect_request(SEND).respond_with_json(
        {"code": 106, "message": "Bad sender"}, status=400
    )

    with pytest.raises(OctopushValidationError) as exc_info:
        client.send_sms_campaign(campaign())

    assert repr(exc_info.value) == (
        "OctopushValidationError(code='106', message='Bad sender', "
        "http_status=400, request_id='req-1', maybe_sent=False)"
    )


def test_a_line_break_in_a_header_value_is_refused_without_showing_it() -> None:
    with pytest.raises(ValueError) as caught:
        OctopushClient(api_login=LOGIN, api_key="k-secret\r\nX-Injected: 1")
    assert "api-key" in str(caught.value)
    assert "k-secret" not in str(caught.value)
