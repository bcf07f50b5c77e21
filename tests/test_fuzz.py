"""Fuzzing the three doors of the server: never a 500, never a traceback to a user.

Random ``/sms`` texts, random form submissions and random Octopush callback bodies go
through the real HTTP endpoint; every answer must be a clean one, and nothing may be
logged as an unhandled error while the lazy listeners and callback workers run.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pytest_httpserver import HTTPServer

from bot.audit.inbox import digest
from bot.audit.tables import callback_inbox
from bot.domain import AuditStatus
from bot.octopush import CallbackParseError, parse_callback
from bot.slack import ids
from tests.conftest import SENT, SlackHarness
from tests.slack.listeners.test_forms import submission

SEND_PATH = "/v1/public/sms-campaign/send"
JSON = "application/json"
FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


class Errors(logging.Handler):
    """Collects every ERROR record (unhandled exceptions are logged at ERROR)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def errors() -> Iterator[Errors]:
    handler = Errors()
    root = logging.getLogger()
    root.addHandler(handler)
    yield handler
    root.removeHandler(handler)


@pytest.fixture
def server(harness: SlackHarness, httpserver: HTTPServer) -> SlackHarness:
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_json(
        SENT, status=201
    )
    httpserver.expect_request("/v1/public/wallet/check-balance").respond_with_json(
        {"amount": 1, "unit": "euros"}
    )
    return harness


def settle(server: SlackHarness, errors: Errors) -> None:
    server.settle()  # lazy listeners, callback workers and post updates finished
    problems = [f"{r.name}: {r.getMessage()}" for r in errors.records]
    assert problems == []


_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=120)
_commands = st.one_of(
    _text,
    st.builds(lambda n, t: f"+336{n:08d} {t}", st.integers(0, 99_999_999), _text),
    st.builds(
        lambda w, t: f"{w} {t}",
        st.sampled_from(
            ["help", "history", "page", "oncall", "balance", "<@U1>", "06"]
        ),
        _text,
    ),
)


#: What the bot says to Slack: replies through the response URL, posts, opened views.
ANSWERS = ("webhook/command", "chat.postMessage", "chat.postEphemeral", "views.open")
WENT_WRONG = "something went wrong"


def slack_answers(server: SlackHarness) -> list[Any]:
    return [call.args for call in server.slack.state.calls if call.method in ANSWERS]


def quiet(server: SlackHarness, httpserver: HTTPServer) -> None:
    """Wait until neither Slack nor Octopush has been called for 150 ms."""

    def activity() -> int:
        return len(server.slack.state.calls) + len(httpserver.log)

    seen, still_since = activity(), time.monotonic()
    deadline = still_since + 10
    while time.monotonic() < deadline:
        time.sleep(0.03)
        now = activity()
        if now != seen:
            seen, still_since = now, time.monotonic()
        elif time.monotonic() - still_since >= 0.15:
            return
    raise AssertionError("the bot kept calling Slack or Octopush for 10 s")


def sends_to_octopush(httpserver: HTTPServer) -> int:
    return sum(1 for request, _ in httpserver.log if request.path == SEND_PATH)


def assert_every_send_is_audited(server: SlackHarness, httpserver: HTTPServer) -> None:
    """Each SMS Octopush received has its audit record, and nothing is left pending."""
    records = server.store.recent(limit=10_000)
    assert {record.status for record in records} <= {
        AuditStatus.SENT,
        AuditStatus.FAILED,
        AuditStatus.REJECTED,
    }
    sent = [record for record in records if record.status is AuditStatus.SENT]
    assert len(sent) == sends_to_octopush(httpserver)


@FUZZ
@given(text=_commands)
def test_any_command_text_gets_a_clean_answer(
    server: SlackHarness, httpserver: HTTPServer, errors: Errors, text: str
) -> None:
    before = len(slack_answers(server))
    response = server.command(text, trigger=f"t-{hash(text)}")
    assert response.status_code == 200
    assert "Traceback" not in response.text
    if not response.text:  # acked empty: the answer comes from the lazy listener
        deadline = time.monotonic() + 10
        while len(slack_answers(server)) == before:
            assert time.monotonic() < deadline, f"no answer to /sms {text!r}"
            time.sleep(0.02)
    quiet(server, httpserver)
    said = [response.text] + [
        json.dumps(args) for args in slack_answers(server)[before:]
    ]
    assert any(part.strip() for part in said), f"nothing said to /sms {text!r}"
    assert all(WENT_WRONG not in part.lower() for part in said)
    assert [f"{r.name}: {r.getMessage()}" for r in errors.records] == []
    assert_every_send_is_audited(server, httpserver)


def test_fuzzed_commands_left_no_unhandled_error(
    server: SlackHarness, errors: Errors
) -> None:
    for text in [
        "+33612345678 \x00",
        "history 0",
        "page",
        "page x",
        "<@U1|x> hi",
        "&lt;&gt; &amp;",
        "1" * 300,
    ]:
        assert server.command(text, trigger=f"t-{text}").status_code == 200
    settle(server, errors)


_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=30)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.text(max_size=10), inner, max_size=3),
    ),
    max_leaves=10,
)
_block_ids = st.sampled_from(
    list(ids.FIELD_BLOCKS.values()) + [ids.CHANNEL_BLOCK, ids.PEOPLE_BLOCK, "other"]
)


@FUZZ
@given(
    values=st.dictionaries(
        _block_ids,
        st.dictionaries(st.text(max_size=20), _values, max_size=2),
        max_size=6,
    )
)
def test_any_form_submission_gets_a_clean_answer(
    server: SlackHarness,
    httpserver: HTTPServer,
    errors: Errors,
    values: dict[str, Any],
) -> None:
    before = len(slack_answers(server))
    response = server.interact(
        submission(
            {"values": values}, view_id=f"V-{hash(json.dumps(values, default=str))}"
        )
    )
    assert response.status_code == 200
    if response.text:
        answer = response.json()
        assert answer["response_action"] in {"errors", "push"}
        if answer["response_action"] == "errors":
            assert answer["errors"] and all(answer["errors"].values())
    quiet(server, httpserver)
    said = [json.dumps(args) for args in slack_answers(server)[before:]]
    assert all(WENT_WRONG not in part.lower() for part in said)
    if not response.text:  # the form closed: the person is told how the send went
        assert said, "a closed form must be followed by a message"
    assert [f"{r.name}: {r.getMessage()}" for r in errors.records] == []
    assert_every_send_is_audited(server, httpserver)


_fields = st.dictionaries(
    st.sampled_from(
        [
            "message_id",
            "number",
            "status",
            "text",
            "delivery_date",
            "reception_date",
            "stop_date",
            "x",
        ]
    ),
    st.one_of(st.text(max_size=30), st.integers(), st.none()),
    max_size=6,
)


def handled_as(server: SlackHarness, body: bytes, content_type: str) -> str:
    """Wait for the inbox worker to handle the stored ``body``; return its outcome."""
    key = digest(body, content_type)
    query = sa.select(callback_inbox.c.outcome).where(
        callback_inbox.c.digest == key, callback_inbox.c.processed_at.is_not(None)
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with server.store.engine.connect() as conn:
            outcome = conn.execute(query).scalar()
        if outcome is not None:
            return str(outcome)
        time.sleep(0.02)
    raise AssertionError("the callback was not stored and handled within 10 s")


def expected_outcome(body: bytes, content_type: str) -> str:
    try:
        parse_callback(body, content_type)
    except CallbackParseError:
        return "unparseable"
    return "handled"


@FUZZ
@given(
    body=st.one_of(
        st.binary(max_size=200), _fields.map(lambda d: json.dumps(d).encode())
    )
)
def test_any_callback_body_is_stored_answered_200_empty_then_handled(
    server: SlackHarness, errors: Errors, body: bytes
) -> None:
    response = server.callback(body)
    assert response.status_code == 200
    assert response.content == b""
    # Stored before the answer, then handled by the worker: parsed or set aside.
    assert handled_as(server, body, JSON) == expected_outcome(body, JSON)
    problems = [f"{r.name}: {r.getMessage()}" for r in errors.records]
    assert problems == []


def test_fuzzed_callbacks_left_no_unhandled_error(
    server: SlackHarness, errors: Errors
) -> None:
    for body in [
        b"{}",
        b"[1,2]",
        b'{"number": "+33612345678", "text": null}',
        b"\xff\xfe",
        b"a=b&c",
        b'{"message_id": "sms_x", "number": "+33612345678", "status": "DELIVERED"}',
    ]:
        assert server.callback(body).status_code == 200
        assert handled_as(server, body, JSON) == expected_outcome(body, JSON)
    settle(server, errors)
