"""The error tree, its text, the code table, and how transport failures are read."""

from __future__ import annotations

from typing import Any

import pytest
from urllib3.exceptions import (
    ConnectTimeoutError,
    LocationParseError,
    MaxRetryError,
    NameResolutionError,
    NewConnectionError,
    ProtocolError,
    ProxyError,
    ProxySchemeUnknown,
    ReadTimeoutError,
    SSLError,
)

from bot.octopush import (
    CODES,
    OctopushAPIError,
    OctopushAuthenticationError,
    OctopushBatchError,
    OctopushConnectionError,
    OctopushDuplicateRequestError,
    OctopushError,
    OctopushRateLimitError,
    OctopushResponseError,
    OctopushValidationError,
    SmsCampaignResult,
    hint_for,
)
from bot.octopush.codes import lookup, normalize_code

#: Every code in the table of octopush-api.md section 3.2.
DOCUMENTED_CODES = (
    "000 100 101 102 103 104 105 106 107 108 109 110 111 112 113 114 115 116 117 "
    "118 119 120 121 122 123 124 125 126 127 128 129 130 131 132 133 150 151 152 "
    "153 201 202 203 204 205 206 207 208 209 210 300 301 302 303 304 305 306 308 "
    "500 501"
).split()


def test_str_is_code_in_brackets_then_message() -> None:
    error = OctopushValidationError("Bad sender", code="106", http_status=400)
    assert str(error) == "[106] Bad sender"


def test_str_is_the_message_alone_without_code() -> None:
    assert str(OctopushConnectionError("could not connect")) == "could not connect"


def test_repr_adds_http_status_and_request_id() -> None:
    error = OctopushAPIError("x", code="125", http_status=502, request_id="r-1")
    assert "http_status=502" in repr(error) and "request_id='r-1'" in repr(error)


def test_defaults_are_not_sent_and_no_hint() -> None:
    error = OctopushError("x")
    assert (error.code, error.http_status, error.request_id) == (None, None, None)
    assert error.maybe_sent is False and error.hint is None


@pytest.mark.parametrize(
    ("cls", "parents"),
    [
        (OctopushAuthenticationError, (OctopushAPIError, OctopushError)),
        (OctopushRateLimitError, (OctopushAPIError, OctopushError)),
        (OctopushDuplicateRequestError, (OctopushValidationError, OctopushAPIError)),
        (OctopushConnectionError, (OctopushError,)),
        (OctopushResponseError, (OctopushError,)),
        (OctopushBatchError, (OctopushError,)),
    ],
)
def test_error_tree(cls: type[OctopushError], parents: tuple[type, ...]) -> None:
    assert issubclass(cls, parents)
    if cls in (OctopushConnectionError, OctopushResponseError, OctopushBatchError):
        assert not issubclass(cls, OctopushAPIError)


def test_rate_limit_error_keeps_retry_after() -> None:
    error = OctopushRateLimitError("slow down", retry_after=2.5, http_status=429)
    assert error.retry_after == 2.5 and error.http_status == 429


def test_batch_error_takes_code_hint_and_request_id_from_its_cause() -> None:
    cause = OctopushValidationError(
        "Out of credit", code="104", http_status=400, request_id="r-3", hint="Buy"
    )
    done = [SmsCampaignResult(sms_ticket="sms_1"), SmsCampaignResult(sms_ticket="2")]

    error = OctopushBatchError(cause, completed=done, total_batches=3)

    assert (error.code, error.hint, error.request_id) == ("104", "Buy", "r-3")
    assert error.http_status == 400
    assert error.completed == done and error.cause is cause
    assert error.__cause__ is cause
    assert error.maybe_sent is True
    assert str(error) == (
        "[104] batch 3 of 3 failed after 2 batches had been sent: Out of credit"
    )


def test_code_table_covers_every_documented_code() -> None:
    assert sorted(CODES) == sorted(DOCUMENTED_CODES)
    for info in CODES.values():
        assert info.hint.endswith(".") and len(info.hint) > 20


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("101", ["OCTOPUSH_API_LOGIN", "OCTOPUSH_API_KEY", "v1"]),
        ("108", ["OCTOPUSH_API_KEY"]),
        ("104", ["credit"]),
        ("105", ["credit"]),
        ("106", ["3 to 11"]),
        ("117", ["international format"]),
        ("150", ["country code"]),
        ("151", ["country"]),
        ("152", ["sms_premium"]),
        ("153", ["later", "sms_premium"]),
        ("120", ["probably sent", "dashboard"]),
        ("121", ["STOP au 30101", "purpose alert"]),
        ("113", ["account"]),
        ("114", ["account", "support"]),
    ],
)
def test_hint_says_what_to_do(code: str, words: list[str]) -> None:
    hint = hint_for(code)
    assert hint is not None
    for word in words:
        assert word in hint


@pytest.mark.parametrize(
    ("raw", "code"),
    [(121, "121"), ("121", "121"), (" 104 ", "104"), (0, "0"), (None, None)],
)
def test_normalize_code_keeps_the_code_as_a_string(raw: Any, code: str | None) -> None:
    assert normalize_code(raw) == code


def test_short_codes_are_looked_up_zero_padded() -> None:
    assert lookup("0") is CODES["000"]


@pytest.mark.parametrize("code", ["999", "abc", None])
def test_unknown_code_has_no_hint(code: str | None) -> None:
    assert hint_for(code) is None


def connection_error(exc: Exception, sends: bool = True) -> Any:
    return OctopushConnectionError.from_urllib3(
        exc, request_id="r-1", sends=sends, timeout=(3.05, 10.0)
    )


def refused() -> NewConnectionError:
    return NewConnectionError(None, "Connection refused")  # type: ignore[arg-type]


def reset() -> ProtocolError:
    return ProtocolError("Connection aborted.", ConnectionResetError(104, "reset"))


def read_retries_spent() -> MaxRetryError:
    """What urllib3 raises when a read's own retries (the balance) ran out."""
    slow = ReadTimeoutError(None, "/x", "Read timed out.")  # type: ignore[arg-type]
    return MaxRetryError(None, "/x", slow)  # type: ignore[arg-type]


def proxy_down() -> ProxyError:
    return ProxyError("Unable to connect to proxy", refused())


@pytest.mark.parametrize(
    ("make", "maybe_sent", "retryable"),
    [
        (lambda: ConnectTimeoutError(None, "slow connect"), False, True),
        (refused, False, True),
        (
            lambda: NameResolutionError("octopush.invalid", None, OSError("DNS")),
            False,
            True,
        ),  # type: ignore[arg-type]
        (proxy_down, False, True),
        (lambda: SSLError("bad certificate"), False, False),
        (lambda: LocationParseError("no host"), False, False),
        (lambda: ProxySchemeUnknown("socks5"), False, False),
        (lambda: ReadTimeoutError(None, "/x", "slow answer"), True, True),  # type: ignore[arg-type]
        (read_retries_spent, True, True),
        (reset, True, True),
        (lambda: ConnectionResetError(104, "reset"), True, True),
        (lambda: ProtocolError("Response ended prematurely"), True, True),
    ],
)
def test_transport_failure_says_whether_the_sms_may_have_gone(
    make: Any, maybe_sent: bool, retryable: bool
) -> None:
    exc = make()
    error = connection_error(exc)

    assert error.maybe_sent is maybe_sent
    assert error.reached is maybe_sent
    assert error.retryable is retryable
    assert error.request_id == "r-1"
    assert error.__cause__ is exc
    assert error.hint is not None
    assert ("may have been sent" in error.hint) is maybe_sent


def test_transport_failure_names_the_innermost_reason() -> None:
    assert connection_error(reset()).message.endswith("reset")
    assert "Connection refused" in connection_error(refused()).message


def test_read_timeout_without_sms_is_never_maybe_sent() -> None:
    slow = ReadTimeoutError(None, "/x", "slow")  # type: ignore[arg-type]
    error = connection_error(slow, sends=False)
    assert error.maybe_sent is False and error.reached is True
    assert error.hint is not None and "Try again" in error.hint
