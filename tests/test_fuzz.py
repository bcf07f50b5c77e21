"""Fuzzing the three doors of the server: never a 500, never a traceback to a user.

Random ``/sms`` texts, random form submissions and random Octopush callback bodies go
through the real HTTP endpoint; every answer must be a clean one, and nothing may be
logged as an unhandled error while the lazy listeners and callback workers run.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
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
    server.settle()  # every listener, worker and update is over: all was said
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
    server.settle()  # every listener, worker and update is over: all was said
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


# --- the whole `/sms` grammar, word by word (issue 18 item 8) -------------------------

GRAMMAR_DIRECTORY = """\
people:
  alice: {phone: "+33612345678", slack: UALICE}
  bob:   {phone: "+33698765432"}
groups:
  dba: {members: [alice, bob]}
  db-oncall:
    members: [alice, bob]
    rotation: weekly
    start: 2026-11-02T09:00:00+01:00
"""


@pytest.fixture
def grammar_server(
    make_harness: Callable[..., SlackHarness],
    httpserver: HTTPServer,
    tmp_path: Path,
) -> SlackHarness:
    """The app with a directory (people, a group, a rotation) and a working Octopush."""
    directory = tmp_path / "directory.yml"
    directory.write_text(GRAMMAR_DIRECTORY)
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_json(
        SENT, status=201
    )
    return make_harness(directory=str(directory), rate_limit="1000/hour")


_any_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)
_word = st.one_of(
    st.sampled_from(["alice", "bob", "dba", "db-oncall", "nobody", "ALICE", "@bob"]),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz-_.@", min_size=1, max_size=12),
)
_mention = st.sampled_from(
    ["<@UALICE|alice>", "<@UALICE>", "<@U0CAROL|carol>", "<@W1>", "<!subteam^S1|@ops>"]
)
_number = st.one_of(
    st.builds(lambda n: f"+336{n:08d}", st.integers(0, 99_999_999)),
    st.builds(lambda n: f"06 {n:08d}"[:14], st.integers(0, 99_999_999)),
    st.builds(lambda n: f"tel:+336{n:08d}", st.integers(0, 99_999_999)),
    st.text(alphabet="+0123456789 ", min_size=1, max_size=25),
)
_recipient = st.one_of(_word, _mention, _number)
_recipients = st.lists(_recipient, min_size=1, max_size=4).flatmap(
    lambda tokens: st.lists(
        st.sampled_from([" ", ", ", ","]), min_size=len(tokens), max_size=len(tokens)
    ).map(lambda seps: "".join(t + s for t, s in zip(tokens, seps, strict=True)))
)
_huge = st.one_of(
    st.integers(-10, 10_000),
    st.integers(10**6, 10**40),
    st.just(99_999_999_999),
    st.just(9_999_999_999_999_999),
)
_duration = st.one_of(
    st.builds(
        lambda n, unit: f"{n}{unit}",
        _huge,
        st.sampled_from(["h", "d", "m", "days", " hours", "min", "w", ""]),
    ),
    st.builds(lambda a, b: f"{a}h{b}m", _huge, _huge),
    _any_text,
)
_until = st.one_of(
    st.builds(
        lambda y, mo, d, h, mi, off: f"{y:04d}-{mo:02d}-{d:02d} {h:02d}:{mi:02d}{off}",
        st.integers(1, 9999),
        st.integers(1, 12),
        st.integers(1, 28),
        st.integers(0, 23),
        st.integers(0, 59),
        st.sampled_from(["", "+23:59", "-23:59", "Z", "+01:00"]),
    ),
    _any_text,
)
_rotation = st.one_of(st.sampled_from(["db-oncall", "dba", "alice", "nope"]), _word)
_grammar_commands = st.one_of(
    st.builds(lambda who, text: f"{who} {text}", _recipients, _any_text),  # send
    st.builds(lambda who, text: f"page {who} {text}", _recipients, _any_text),
    st.builds(lambda rotation: f"oncall {rotation}", _rotation),
    st.builds(
        lambda rotation, person, kind, when: (
            f"oncall set {rotation} {person} {kind} {when}"
        ),
        _rotation,
        st.one_of(_mention, _word),
        st.sampled_from(["for", "until", "FOR", "during"]),
        st.one_of(_duration, _until),
    ),
    st.builds(lambda rotation: f"oncall clear {rotation}", _rotation),
    st.builds(
        lambda n: f"history {n}",
        st.one_of(
            _huge.map(str), _any_text, st.sampled_from(["²", "١٢", "0", "101", "5"])
        ),
    ),
    st.sampled_from(["", "help", "balance", "form", "cancel", "oncall set", "page"]),
)


def answered_cleanly(server: SlackHarness, httpserver: HTTPServer, text: str) -> None:
    """``/sms text`` gets a 200 and a plain answer (in the ack or after), never
    "something went wrong"; every SMS that went out is audited."""
    before = len(slack_answers(server))
    response = server.command(text, trigger=f"g-{uuid.uuid4().hex}")
    assert response.status_code == 200, text
    assert "Traceback" not in response.text
    if not response.text:  # acked empty: the answer comes from the lazy listener
        deadline = time.monotonic() + 10
        while len(slack_answers(server)) == before:
            assert time.monotonic() < deadline, f"no answer to /sms {text!r}"
            time.sleep(0.02)
    server.settle()  # every listener, worker and update is over: all was said
    said = [response.text] + [
        json.dumps(args, ensure_ascii=False) for args in slack_answers(server)[before:]
    ]
    assert any(part.strip() for part in said), f"nothing said to /sms {text!r}"
    assert all(WENT_WRONG not in part.lower() for part in said), text
    assert all("Traceback" not in part for part in said), text
    assert_every_send_is_audited(server, httpserver)


@FUZZ
@given(text=_grammar_commands)
def test_every_sub_command_with_any_arguments_gets_a_plain_answer(
    grammar_server: SlackHarness, httpserver: HTTPServer, errors: Errors, text: str
) -> None:
    answered_cleanly(grammar_server, httpserver, text)
    assert [f"{r.name}: {r.getMessage()}" for r in errors.records] == []


@pytest.mark.parametrize(
    "text",
    [
        "oncall set db-oncall <@UALICE|alice> for 99999999999h",
        "oncall set db-oncall <@UALICE|alice> for 9999999999999999d",
        "oncall set db-oncall alice until 9999-12-31 23:59",
        "oncall set db-oncall alice until 0001-01-01 00:00+23:59",
        "oncall set db-oncall <@U0CAROL|carol> for 4h",
        "history 99999999999999999999",
        "history ²",
        "history ١٢",
        "+33612345678 hello\x00world",
        "page db-oncall down\x00",
        "alice, nobody \x1b[31m",
    ],
)
def test_the_commands_found_by_fuzzing_get_a_plain_answer(
    grammar_server: SlackHarness, httpserver: HTTPServer, errors: Errors, text: str
) -> None:
    answered_cleanly(grammar_server, httpserver, text)
    assert [f"{r.name}: {r.getMessage()}" for r in errors.records] == []


@FUZZ
@given(value=_any_text)
def test_a_cancel_button_with_any_value_is_answered_quietly(
    grammar_server: SlackHarness, errors: Errors, value: str
) -> None:
    response = grammar_server.interact(
        {
            "type": "block_actions",
            "team": {"id": "T1"},
            "user": {"id": "U1"},
            "channel": {"id": "C1"},
            "response_url": grammar_server.slack.webhook_url("command"),
            "trigger_id": "t-cancel",
            "actions": [
                {
                    "action_id": ids.CANCEL_SEND,
                    "block_id": "b",
                    "type": "button",
                    "value": value,
                    "action_ts": "1",
                }
            ],
        }
    )
    assert response.status_code == 200
    assert [f"{r.name}: {r.getMessage()}" for r in errors.records] == []
