"""Octopush callback bodies read into typed events, whatever the encoding."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.octopush._callback_fields import MAX_BODY_BYTES
from bot.octopush.callbacks import (
    CallbackParseError,
    DeliveryReceipt,
    DeliveryStatus,
    InboundReply,
    OptOut,
    describe_status,
    is_ack_word,
    is_stop_word,
    parse_callback,
)

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"

# The field lists of the API reference, section 5.
RECEIPT = {
    "channel": "sms",
    "message_id": "sms_5fa275dbf21dc",
    "number": "+33600000000",
    "status": "DELIVERED",
    "delivery_date": "2020-11-04 11:11:45",
}
REPLY = {
    "message_id": "sms_5fa275dbf21dc",
    "number": "+33600000000",
    "text": "ACK on it",
    "sim_card_number": "12345",
    "reception_date": "2020-11-04 11:12:00",
}
OPT_OUT = {
    "message_id": "sms_5fa275dbf21dc",
    "number": "+33600000000",
    "text": "stop",
    "stop_date": "2020-11-04 11:13:00",
}


def as_json(fields: dict[str, Any]) -> bytes:
    return json.dumps(fields).encode()


def as_form(fields: dict[str, Any]) -> bytes:
    return urlencode(fields).encode()


def utc(
    year: int,
    month: int,
    day: int,
    hour: int = 0,
    minute: int = 0,
    second: int = 0,
    us: int = 0,
) -> datetime:
    return datetime(year, month, day, hour, minute, second, us, tzinfo=UTC)


ENCODINGS = [
    pytest.param(as_json, JSON, id="json"),
    pytest.param(as_form, FORM, id="form"),
    pytest.param(lambda f: as_form({"data": json.dumps(f)}), FORM, id="form-data-json"),
    pytest.param(as_json, None, id="json-no-content-type"),
]


@pytest.mark.parametrize(("encode", "content_type"), ENCODINGS)
def test_delivery_receipt_is_read_from_every_encoding(
    encode: Any, content_type: Any
) -> None:
    event = parse_callback(encode(RECEIPT), content_type)

    assert event == DeliveryReceipt(
        message_id="sms_5fa275dbf21dc",
        number="+33600000000",
        status=DeliveryStatus.DELIVERED,
        raw_status="DELIVERED",
        delivered_at=datetime(2020, 11, 4, 11, 11, 45, tzinfo=ZoneInfo("Europe/Paris")),
        channel="sms",
    )


@pytest.mark.parametrize(("encode", "content_type"), ENCODINGS)
def test_inbound_reply_is_read_from_every_encoding(
    encode: Any, content_type: Any
) -> None:
    event = parse_callback(encode(REPLY), content_type)

    assert isinstance(event, InboundReply)
    assert event.message_id == "sms_5fa275dbf21dc"
    assert event.number == "+33600000000"
    assert event.text == "ACK on it"
    assert event.sim_card_number == "12345"
    assert event.received_at == utc(2020, 11, 4, 10, 12)


@pytest.mark.parametrize(("encode", "content_type"), ENCODINGS)
def test_opt_out_is_read_from_every_encoding(encode: Any, content_type: Any) -> None:
    event = parse_callback(encode(OPT_OUT), content_type)

    assert event == OptOut(
        message_id="sms_5fa275dbf21dc",
        number="+33600000000",
        text="stop",
        stopped_at=utc(2020, 11, 4, 10, 13),
    )


def test_reply_documented_with_answer_date_is_a_reply() -> None:
    fields = {
        "number": "+33600000000",
        "text": "OK",
        "answer_date": "2020-11-04 11:12:00",
    }

    event = parse_callback(as_json(fields), JSON)

    assert isinstance(event, InboundReply)
    assert event.received_at == utc(2020, 11, 4, 10, 12)
    assert event.message_id is None


def test_kind_falls_back_on_status_then_text_when_no_date_field_is_sent() -> None:
    receipt = parse_callback(
        as_json({"number": "+33600000000", "message_id": "m", "status": "ACK"}), JSON
    )
    reply = parse_callback(as_json({"number": "+33600000000", "text": "STOP"}), JSON)

    assert isinstance(receipt, DeliveryReceipt)
    assert receipt.delivered_at is None
    assert isinstance(reply, InboundReply)


def test_null_date_field_does_not_decide_the_kind() -> None:
    fields = {**OPT_OUT, "delivery_date": None, "reception_date": ""}

    assert isinstance(parse_callback(as_json(fields), JSON), OptOut)


def test_unknown_status_is_kept_raw_and_described_with_it() -> None:
    event = parse_callback(as_json({**RECEIPT, "status": "QUEUED_AT_MOON"}), JSON)

    assert isinstance(event, DeliveryReceipt)
    assert event.status is DeliveryStatus.UNKNOWN
    assert event.raw_status == "QUEUED_AT_MOON"
    assert event.description == "unrecognised status 'QUEUED_AT_MOON'"
    assert not event.status.is_final


def test_status_is_read_regardless_of_case_and_spacing() -> None:
    event = parse_callback(as_json({**RECEIPT, "status": " not delivered "}), JSON)

    assert isinstance(event, DeliveryReceipt)
    assert event.status is DeliveryStatus.NOT_DELIVERED
    assert event.raw_status == "not delivered"


def test_receipt_without_status_is_unknown_not_an_error() -> None:
    fields = {k: v for k, v in RECEIPT.items() if k != "status"}

    event = parse_callback(as_json(fields), JSON)

    assert isinstance(event, DeliveryReceipt)
    assert (event.status, event.raw_status) == (DeliveryStatus.UNKNOWN, "")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2020-11-04 11:11:45", utc(2020, 11, 4, 10, 11, 45)),  # winter, UTC+1
        ("2021-07-14 12:00:00", utc(2021, 7, 14, 10, 0)),  # summer, UTC+2
        ("2021-03-28 03:30:00", utc(2021, 3, 28, 1, 30)),  # the day clocks go forward
        ("2021-10-31 02:30:00", utc(2021, 10, 31, 0, 30)),  # ambiguous: summer reading
        ("2021-07-14T12:00:00+00:00", utc(2021, 7, 14, 12, 0)),
        ("2021-07-14T12:00:00Z", utc(2021, 7, 14, 12, 0)),
        ("2021-07-14T12:00:00.250-04:00", utc(2021, 7, 14, 16, 0, 0, 250000)),
        ("2021-07-14T12:00:00", utc(2021, 7, 14, 10, 0)),
    ],
)
def test_dates_without_zone_are_paris_time_and_iso_offsets_are_kept(
    text: str, expected: datetime
) -> None:
    event = parse_callback(as_json({**RECEIPT, "delivery_date": text}), JSON)

    assert isinstance(event, DeliveryReceipt)
    assert event.delivered_at is not None
    assert event.delivered_at.utcoffset() is not None
    assert event.delivered_at.astimezone(UTC) == expected


def test_zone_for_dates_can_be_chosen_by_the_caller() -> None:
    event = parse_callback(as_json(RECEIPT), JSON, timezone=UTC)

    assert isinstance(event, DeliveryReceipt)
    assert event.delivered_at == utc(2020, 11, 4, 11, 11, 45)


@pytest.mark.parametrize(
    "text", ["yesterday", "2020-13-45 99:00:00", "0001-01-01 00:00:00"]
)
def test_unreadable_date_becomes_none_and_keeps_the_event(text: str) -> None:
    event = parse_callback(as_json({**RECEIPT, "delivery_date": text}), JSON)

    assert isinstance(event, DeliveryReceipt)
    assert event.delivered_at is None
    assert event.status is DeliveryStatus.DELIVERED


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+33 6 00 00 00 00", "+33600000000"),
        ("0033600000000", "+33600000000"),
        ("+33.6.00-00-00-00", "+33600000000"),
        ("0600000000", "0600000000"),
        ("33600000000", "33600000000"),
        ("12345", "12345"),
        ("+abc", "+abc"),
    ],
)
def test_numbers_become_e164_only_when_written_internationally(
    raw: str, expected: str
) -> None:
    event = parse_callback(
        as_json({**REPLY, "number": raw, "sim_card_number": raw}), JSON
    )

    assert isinstance(event, InboundReply)
    assert event.number == expected
    assert event.sim_card_number == expected


def test_unencoded_plus_in_a_form_number_is_kept() -> None:
    body = b"number=+33600000000&message_id=m&status=DELIVERED&delivery_date=2020-11-04+11:11:45"

    event = parse_callback(body, FORM)

    assert isinstance(event, DeliveryReceipt)
    assert event.number == "+33600000000"
    assert event.delivered_at == utc(2020, 11, 4, 10, 11, 45)


def test_numbers_sent_as_json_numbers_are_read_as_text() -> None:
    event = parse_callback(
        as_json({**REPLY, "number": 33600000000, "sim_card_number": 12345.0}), JSON
    )

    assert isinstance(event, InboundReply)
    assert (event.number, event.sim_card_number) == ("33600000000", "12345")


def test_unknown_fields_nulls_and_whitespace_are_tolerated() -> None:
    fields = {
        **{k: f"  {v}  " for k, v in REPLY.items()},
        "message_id": None,
        "meta_data": {"pressed_keys_code": "1"},
        "unit_price": 0.045,
        "sim_card_number": None,
    }

    event = parse_callback(as_json(fields), "application/json; charset=utf-8")

    assert event == InboundReply(
        message_id=None,
        number="+33600000000",
        text="ACK on it",
        sim_card_number=None,
        received_at=utc(2020, 11, 4, 10, 12),
    )


def test_json_wrapped_in_a_data_field_of_a_json_body_is_unwrapped() -> None:
    event = parse_callback(as_json({"data": OPT_OUT}), JSON)

    assert isinstance(event, OptOut)


def test_json_body_with_a_form_content_type_is_still_read() -> None:
    assert isinstance(parse_callback(as_json(RECEIPT), FORM), DeliveryReceipt)


def test_french_text_survives_form_encoding_in_utf8_and_windows_1252() -> None:
    fields = {**REPLY, "text": "Arrêt demandé"}
    utf8 = urlencode(fields).encode()
    cp1252 = urlencode(fields, encoding="cp1252").encode()

    for body in (utf8, cp1252):
        event = parse_callback(body, FORM)
        assert isinstance(event, InboundReply)
        assert event.text == "Arrêt demandé"


@pytest.mark.parametrize(
    ("body", "content_type", "reason"),
    [
        (b"", JSON, "empty body"),
        (b"   ", None, "empty body"),
        (b'{"number": "+336', JSON, "malformed JSON"),
        (b"not json at all", JSON, "malformed JSON"),
        (b"[1, 2]", JSON, "expected a JSON object"),
        (b"[" * 50_000, None, "malformed JSON"),
        (b"&&&", FORM, "empty form body"),
        (b"--x\r\n", "multipart/form-data; boundary=x", "multipart"),
        (b"x" * (MAX_BODY_BYTES + 1), FORM, "too large"),
    ],
    ids=[
        "empty",
        "blank",
        "cut",
        "text",
        "array",
        "deep",
        "ampersands",
        "multipart",
        "big",
    ],
)
def test_unreadable_bodies_raise_callback_parse_error(
    body: bytes, content_type: str | None, reason: str
) -> None:
    with pytest.raises(CallbackParseError, match=reason):
        parse_callback(body, content_type)


def test_receipt_without_message_id_is_refused() -> None:
    fields = {**RECEIPT, "message_id": " "}

    with pytest.raises(CallbackParseError, match="without message_id"):
        parse_callback(as_json(fields), JSON)


@pytest.mark.parametrize("fields", [{**RECEIPT, "number": None}, {"message_id": "m"}])
def test_callback_without_number_is_refused(fields: dict[str, Any]) -> None:
    with pytest.raises(CallbackParseError, match="no number"):
        parse_callback(as_json(fields), JSON)


def test_callback_of_no_known_kind_is_refused() -> None:
    with pytest.raises(CallbackParseError, match="unknown kind"):
        parse_callback(as_form({"number": "+33600000000", "foo": "bar"}), FORM)


def test_error_message_never_quotes_much_of_the_body() -> None:
    fields = {f"field_{'x' * 500}_{i}": "y" * 10_000 for i in range(20)}

    with pytest.raises(CallbackParseError) as exc_info:
        parse_callback(as_json(fields), JSON)

    assert len(str(exc_info.value)) < 150


@pytest.mark.parametrize(
    ("status", "final", "failure", "permanent", "words"),
    [
        (
            "ACK",
            False,
            False,
            False,
            "accepted by the carrier, waiting for the handset",
        ),
        ("UNKNOWN_DELIVERY", False, False, False, "delivery unknown"),
        ("DELIVERED", True, False, False, "delivered"),
        ("READ", True, False, False, "read"),
        ("NOT_DELIVERED", True, True, False, "not delivered"),
        ("UNDEFINED", True, True, False, "not delivered (no reason given)"),
        ("BAD_DESTINATION", True, True, True, "bad destination number"),
        ("BLACKLISTED_NUMBER", True, True, True, "number has opted out (blacklisted)"),
        ("NOT_ALLOWED", True, True, True, "not allowed on this route"),
        ("TRANSMITTED", False, False, False, "passed on to the carrier"),
        ("SPAM_PRESUMPTION", False, False, False, "flagged as probable spam"),
    ],
)
def test_status_finality_failure_and_words(
    status: str, final: bool, failure: bool, permanent: bool, words: str
) -> None:
    parsed = DeliveryStatus.from_raw(status)

    assert (parsed.is_final, parsed.is_failure, parsed.is_permanent_failure) == (
        final,
        failure,
        permanent,
    )
    assert describe_status(parsed).startswith(words)


def test_every_status_has_words() -> None:
    assert all(describe_status(status) for status in DeliveryStatus)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ACK", True),
        ("ok", True),
        ("Ok!", True),
        ("  ack. on my way", True),
        ("-- OK", True),
        ("ACK-123", True),
        ("okay", False),
        ("not ok", False),
        ("", False),
        ("...", False),
    ],
)
def test_is_ack_word_reads_the_first_word_only(text: str, expected: bool) -> None:
    assert is_ack_word(text) is expected


def test_is_ack_word_accepts_other_words() -> None:
    assert is_ack_word("Reçu, merci", words=("reçu",))
    assert not is_ack_word("ok", words=("reçu",))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("STOP", True),
        ("stop", True),
        ("Stop.", True),
        (" STOP SMS ", True),
        ("STOP au 36180", True),
        ("Arrêt", True),
        ("stop the deploy", False),
        ("please stop", False),
        ("stopped", False),
        ("", False),
    ],
)
def test_is_stop_word_only_matches_a_bare_opt_out(text: str, expected: bool) -> None:
    assert is_stop_word(text) is expected


FIELD_NAMES = st.sampled_from(
    sorted(
        {
            *RECEIPT,
            *REPLY,
            *OPT_OUT,
            "answer_date",
            "data",
            "meta_data",
            "Number",
            " status ",
        }
    )
)
SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text()
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3)
    ),
)
DATE_LIKE = st.datetimes().map(str) | st.text(alphabet="0123456789-: T+Z", max_size=30)


def _must_be_parse_error_or_event(body: bytes, content_type: str | None) -> None:
    try:
        event = parse_callback(body, content_type)
    except CallbackParseError as exc:
        assert len(str(exc)) < 200
    else:
        assert isinstance(event, DeliveryReceipt | InboundReply | OptOut)
        assert event.number


@given(st.binary(max_size=300), st.sampled_from([JSON, FORM, None, "text/plain"]))
def test_random_bytes_never_raise_anything_but_callback_parse_error(
    body: bytes, content_type: str | None
) -> None:
    _must_be_parse_error_or_event(body, content_type)


@given(st.dictionaries(FIELD_NAMES | st.text(), JSON_VALUES | DATE_LIKE, max_size=8))
def test_random_json_objects_never_raise_anything_but_callback_parse_error(
    fields: dict[str, Any],
) -> None:
    _must_be_parse_error_or_event(json.dumps(fields).encode(), JSON)


@given(
    st.dictionaries(FIELD_NAMES | st.text(), st.text() | DATE_LIKE, max_size=8),
    st.booleans(),
)
def test_random_forms_never_raise_anything_but_callback_parse_error(
    fields: dict[str, str], wrap_in_data: bool
) -> None:
    body = as_form({"data": json.dumps(fields)} if wrap_in_data else fields)
    _must_be_parse_error_or_event(body, FORM)


@given(
    st.datetimes(
        min_value=datetime(1990, 1, 1),
        max_value=datetime(2100, 1, 1),
        timezones=st.just(timezone(timedelta(hours=-3, minutes=-30))),
    )
)
def test_iso_dates_with_offset_round_trip(moment: datetime) -> None:
    event = parse_callback(
        as_json({**RECEIPT, "delivery_date": moment.isoformat()}), JSON
    )

    assert isinstance(event, DeliveryReceipt)
    assert event.delivered_at == moment
    assert event.delivered_at.utcoffset() == moment.utcoffset()


def test_field_names_are_read_regardless_of_case() -> None:
    fields = {key.upper(): value for key, value in RECEIPT.items()}

    assert isinstance(parse_callback(as_json(fields), JSON), DeliveryReceipt)
