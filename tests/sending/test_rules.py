from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain import Purpose, SendDraft, SendRequest, SmsType
from bot.errors import InputError
from bot.sending.rules import (
    MAX_TEXT_LENGTH,
    STOP_MENTION,
    SendDefaults,
    check_send_at,
    check_sender,
    check_stop_mention,
    check_text,
    resolve_recipients,
    validate_draft,
)

NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
PARIS = timezone(timedelta(hours=1))
DIRECTORY: dict[str, Sequence[str] | None] = {
    "alice": ["+33612345678"],
    "bob": ["06 98 76 54 32"],
    "dba": ["+33612345678", "06 98 76 54 32"],
    "empty": [],
    "broken": ["06 12"],
}


def directory(token: str) -> Sequence[str] | None:
    if token == "<@U0NOPHONE>":
        raise InputError(
            "recipients", "<@U0NOPHONE> has no phone in their Slack profile"
        )
    return DIRECTORY.get(token)


def problems(error: pytest.ExceptionInfo[InputError]) -> dict[str, str]:
    return error.value.problems


# check_text


def test_check_text_strips_surrounding_whitespace() -> None:
    assert check_text("  Server down\n") == "Server down"


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_check_text_refuses_a_blank_message(text: str) -> None:
    with pytest.raises(InputError) as exc_info:
        check_text(text)
    assert problems(exc_info) == {
        "text": "The message is empty; write the text to send"
    }


def test_check_text_accepts_the_limit_exactly() -> None:
    assert len(check_text("a" * MAX_TEXT_LENGTH)) == 1224


def test_check_text_refuses_one_character_over_the_limit_saying_by_how_much() -> None:
    with pytest.raises(InputError) as exc_info:
        check_text("a" * 1301)
    assert problems(exc_info) == {
        "text": "The message is 1301 characters; the limit is 1224, so remove 77"
    }


# check_sender


@pytest.mark.parametrize(
    ("given", "expected"),
    [("ACME", "ACME"), ("Ops 24", "Ops 24"), (" abc ", "abc"), ("12345678901",) * 2],
)
def test_check_sender_accepts_3_to_11_letters_digits_spaces(
    given: str, expected: str
) -> None:
    assert check_sender(given) == expected


@pytest.mark.parametrize("given", [None, "", "   "])
def test_check_sender_treats_blank_as_no_sender(given: str | None) -> None:
    assert check_sender(given) is None


def test_check_sender_refuses_a_name_too_long_naming_it() -> None:
    with pytest.raises(InputError) as exc_info:
        check_sender("ACME Services")
    assert problems(exc_info) == {
        "sender": "The sender 'ACME Services' is 13 characters; "
        "use 3 to 11 letters, digits or spaces"
    }


def test_check_sender_refuses_a_name_too_short() -> None:
    with pytest.raises(InputError, match="'AB' is 2 characters"):
        check_sender("AB")


def test_check_sender_names_the_characters_it_refuses() -> None:
    with pytest.raises(InputError) as exc_info:
        check_sender("Café-Bar")
    assert problems(exc_info) == {
        "sender": "The sender 'Café-Bar' contains 'é', '-'; "
        "use only letters A-Z, digits and spaces (3 to 11)"
    }


# check_send_at


def test_check_send_at_keeps_a_future_time_with_its_offset() -> None:
    later = datetime(2026, 11, 25, 9, 0, tzinfo=PARIS)
    checked = check_send_at(later, now=NOW)
    assert checked == later
    assert checked is not None and checked.utcoffset() == timedelta(hours=1)


def test_check_send_at_none_means_now() -> None:
    assert check_send_at(None, now=NOW) is None


def test_check_send_at_refuses_a_naive_time_with_an_example() -> None:
    with pytest.raises(InputError) as exc_info:
        check_send_at(datetime(2026, 11, 25, 9, 0), now=NOW)
    assert problems(exc_info) == {
        "send_at": "The send time 2026-11-25T09:00:00 needs a time zone, "
        "e.g. 2026-11-25T09:00:00+01:00"
    }


def test_check_send_at_refuses_a_past_time_saying_what_time_it_is() -> None:
    with pytest.raises(InputError) as exc_info:
        check_send_at(NOW - timedelta(hours=1), now=NOW)
    assert problems(exc_info) == {
        "send_at": "The send time 2026-11-24T07:00:00+00:00 is in the past "
        "(it is now 2026-11-24T08:00:00+00:00); "
        "pick a later time, or leave it empty to send now"
    }


def test_check_send_at_reads_a_time_within_a_minute_ago_as_now() -> None:
    assert check_send_at(NOW - timedelta(seconds=59), now=NOW) is None
    assert check_send_at(NOW, now=NOW) is None
    with pytest.raises(InputError):
        check_send_at(NOW - timedelta(seconds=61), now=NOW)


def test_check_send_at_compares_instants_across_offsets() -> None:
    # 08:30 in Paris is 07:30 UTC: half an hour before NOW.
    with pytest.raises(InputError, match="it is now 2026-11-24T09:00:00\\+01:00"):
        check_send_at(datetime(2026, 11, 24, 8, 30, tzinfo=PARIS), now=NOW)


def test_check_send_at_needs_an_aware_clock() -> None:
    with pytest.raises(ValueError):
        check_send_at(None, now=datetime(2026, 11, 24, 8, 0))


# check_stop_mention


def test_alerts_need_no_stop_mention() -> None:
    check_stop_mention("Server down", Purpose.ALERT)


def test_marketing_with_the_stop_mention_passes() -> None:
    check_stop_mention(f"Sale today! {STOP_MENTION}", Purpose.WHOLESALE)


def test_marketing_without_the_stop_mention_is_refused_with_both_ways_out() -> None:
    with pytest.raises(InputError) as exc_info:
        check_stop_mention("Sale today!", Purpose.WHOLESALE)
    assert problems(exc_info) == {
        "text": "Marketing messages (purpose wholesale) must contain 'STOP au 30101'; "
        "add it at the end of the text, or use purpose alert if this is an alert "
        "or a reminder, not advertising"
    }


def test_marketing_with_the_stop_mention_in_the_wrong_case_is_refused() -> None:
    with pytest.raises(InputError, match="written exactly so, not 'Stop au 30101'"):
        check_stop_mention("Sale today! Stop au 30101", Purpose.WHOLESALE)


# resolve_recipients


def test_resolve_recipients_parses_dedupes_and_keeps_order() -> None:
    tokens = ["06 98 76 54 32", "+33612345678", "06.98.76.54.32", "0033612345678"]
    assert resolve_recipients(tokens, region="FR") == ("+33698765432", "+33612345678")


def test_resolve_recipients_refuses_an_empty_list() -> None:
    for tokens in ([], ["", "  "]):
        with pytest.raises(InputError) as exc_info:
            resolve_recipients(tokens, region="FR")
        assert problems(exc_info) == {
            "recipients": "Give at least one recipient, such as +33612345678"
        }


def test_resolve_recipients_explains_a_single_bad_token() -> None:
    with pytest.raises(InputError) as exc_info:
        resolve_recipients(["+33612345678", "abc"], region="FR")
    assert problems(exc_info) == {
        "recipients": "'abc' is not a phone number; "
        "write it as +33612345678 or in FR national form"
    }


def test_resolve_recipients_lists_every_bad_token_in_one_message() -> None:
    with pytest.raises(InputError) as exc_info:
        resolve_recipients(["abc", "+33612345678", "12"], region="FR")
    assert problems(exc_info) == {
        "recipients": "Not phone numbers: 'abc', '12'; "
        "write numbers as +33612345678 or in FR national form"
    }


def test_resolve_recipients_asks_the_resolver_first() -> None:
    tokens = ["alice", "dba", "+44 7911 123456"]
    assert resolve_recipients(tokens, region="FR", resolve=directory) == (
        "+33612345678",
        "+33698765432",
        "+447911123456",
    )


def test_resolve_recipients_accepts_a_resolver_returning_a_bare_string() -> None:
    def one(token: str) -> Sequence[str] | None:
        return "+33612345678" if token == "me" else None

    assert resolve_recipients(["me"], region="FR", resolve=one) == ("+33612345678",)


def test_resolve_recipients_says_an_unknown_name_is_not_a_known_name() -> None:
    with pytest.raises(InputError) as exc_info:
        resolve_recipients(["alic"], region="FR", resolve=directory)
    assert problems(exc_info) == {
        "recipients": "'alic' is not a phone number or a known name; "
        "write numbers as +33612345678 or in FR national form"
    }


def test_resolve_recipients_collects_resolver_and_directory_problems() -> None:
    tokens = ["<@U0NOPHONE>", "empty", "broken", "alice", "xyz", "123"]
    with pytest.raises(InputError) as exc_info:
        resolve_recipients(tokens, region="FR", resolve=directory)
    assert problems(exc_info) == {
        "recipients": "Not phone numbers: 'xyz', '123'; "
        "write numbers as +33612345678 or in FR national form; "
        "<@U0NOPHONE> has no phone in their Slack profile; "
        "'empty' has no phone number to send to; "
        "'broken' has the number '06 12', which is not valid"
    }


@settings(max_examples=50, deadline=None)
@given(st.lists(st.sampled_from(["alice", "bob", "dba", "+33612345678"]), min_size=1))
def test_resolve_recipients_returns_each_number_once(tokens: list[str]) -> None:
    numbers = resolve_recipients(tokens, region="FR", resolve=directory)
    assert len(numbers) == len(set(numbers))
    assert set(numbers) <= {"+33612345678", "+33698765432"}


# validate_draft


def draft(**changes: object) -> SendDraft:
    fields: dict[str, object] = {"recipients": ("06 12 34 56 78",), "text": "Disk full"}
    return SendDraft.model_validate(fields | changes)


def test_validate_draft_applies_the_defaults() -> None:
    defaults = SendDefaults(region="FR", sender="ACME")
    assert validate_draft(draft(), defaults=defaults, now=NOW) == SendRequest(
        recipients=("+33612345678",),
        text="Disk full",
        sender="ACME",
        sms_type=SmsType.PREMIUM,
        purpose=Purpose.ALERT,
    )


def test_validate_draft_prefers_what_the_draft_says() -> None:
    later = NOW + timedelta(days=1)
    request = validate_draft(
        draft(
            sender="Ops",
            sms_type=SmsType.LOW_COST,
            purpose=Purpose.WHOLESALE,
            text=f"Promo {STOP_MENTION}",
            send_at=later,
            with_replies=True,
            simulation=True,
        ),
        defaults=SendDefaults(sender="ACME"),
        now=NOW,
    )
    assert (request.sender, request.sms_type, request.purpose) == (
        "Ops",
        SmsType.LOW_COST,
        Purpose.WHOLESALE,
    )
    assert (request.send_at, request.with_replies, request.simulation) == (
        later,
        True,
        True,
    )


def test_validate_draft_reads_national_numbers_in_the_default_region() -> None:
    request = validate_draft(
        draft(recipients=("(415) 555-0123",)),
        defaults=SendDefaults(region="US"),
        now=NOW,
    )
    assert request.recipients == ("+14155550123",)


def test_validate_draft_blank_sender_falls_back_to_the_default() -> None:
    request = validate_draft(
        draft(sender="  "), defaults=SendDefaults(sender="ACME"), now=NOW
    )
    assert request.sender == "ACME"


def test_validate_draft_refuses_a_misconfigured_default_sender() -> None:
    with pytest.raises(InputError) as exc_info:
        validate_draft(draft(), defaults=SendDefaults(sender="A"), now=NOW)
    assert exc_info.value.field == "sender"


def test_validate_draft_wholesale_default_needs_the_stop_mention() -> None:
    with pytest.raises(InputError) as exc_info:
        validate_draft(
            draft(), defaults=SendDefaults(purpose=Purpose.WHOLESALE), now=NOW
        )
    assert list(problems(exc_info)) == ["text"]
    assert STOP_MENTION in str(exc_info.value)


def test_validate_draft_reports_every_problem_at_once() -> None:
    bad = draft(
        recipients=("abc", "12"),
        text="",
        sender="Way too long a name",
        send_at=datetime(2026, 11, 25, 9, 0),
    )
    with pytest.raises(InputError) as exc_info:
        validate_draft(bad, defaults=SendDefaults(), now=NOW)
    assert list(problems(exc_info)) == ["recipients", "text", "sender", "send_at"]
    assert problems(exc_info)["recipients"].startswith("Not phone numbers: 'abc', '12'")
    assert problems(exc_info)["text"] == "The message is empty; write the text to send"


def test_validate_draft_joins_two_problems_with_the_same_text() -> None:
    with pytest.raises(InputError) as exc_info:
        validate_draft(
            draft(text="x" * 1300, purpose=Purpose.WHOLESALE),
            defaults=SendDefaults(),
            now=NOW,
        )
    text = problems(exc_info)["text"]
    assert text.startswith("The message is 1300 characters; the limit is 1224")
    assert "; Marketing messages (purpose wholesale) must contain" in text


def test_validate_draft_uses_the_resolver() -> None:
    request = validate_draft(
        draft(recipients=("dba", "alice")),
        defaults=SendDefaults(),
        now=NOW,
        resolve=directory,
    )
    assert request.recipients == ("+33612345678", "+33698765432")


def test_validate_draft_strips_the_text() -> None:
    request = validate_draft(
        draft(text="  Disk full \n"), defaults=SendDefaults(), now=NOW
    )
    assert request.text == "Disk full"
