from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from bot.errors import InputError
from bot.phones import looks_like_phone, parse_phone

TYPES = [
    PhoneNumberType.MOBILE,
    PhoneNumberType.FIXED_LINE,
    PhoneNumberType.FIXED_LINE_OR_MOBILE,
    PhoneNumberType.TOLL_FREE,
    PhoneNumberType.VOIP,
    PhoneNumberType.PERSONAL_NUMBER,
]
EXAMPLES = [
    (region, example)
    for region in sorted(phonenumbers.SUPPORTED_REGIONS)
    for kind in TYPES
    if (example := phonenumbers.example_number_for_type(region, kind)) is not None
]
FR_MOBILE = st.builds(
    lambda first, rest: f"+33{first}{rest}",
    st.sampled_from("67"),
    st.text(alphabet="0123456789", min_size=8, max_size=8),
).filter(lambda e164: phonenumbers.is_valid_number(phonenumbers.parse(e164)))


def e164(number: phonenumbers.PhoneNumber) -> str:
    return str(phonenumbers.format_number(number, PhoneNumberFormat.E164))


def digits(text: str) -> str:
    return "".join(char for char in text if char.isdigit())


def french_forms(number: str) -> list[str]:
    """Ways people write +33612345678."""
    national = "0" + number[3:]
    pairs = [national[i : i + 2] for i in range(0, 10, 2)]
    return [
        number,
        f"+33 {national[1]} {' '.join(pairs[1:])}",
        national,
        " ".join(pairs),
        ".".join(pairs),
        "-".join(pairs),
        "0033" + number[3:],
        "tel:" + number,
    ]


# parse_phone


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("+33612345678", "FR", "+33612345678"),
        ("+33 6 12 34 56 78", "FR", "+33612345678"),
        ("06.12.34.56.78", "FR", "+33612345678"),
        ("06 12 34 56 78", "FR", "+33612345678"),
        ("0033612345678", "FR", "+33612345678"),
        ("tel:+33612345678", "FR", "+33612345678"),
        ("TEL:+33612345678", "US", "+33612345678"),
        ("  +33612345678  ", "FR", "+33612345678"),
        ("(415) 555-0123", "US", "+14155550123"),
        ("415.555.0123", "us", "+14155550123"),
        ("+44 7911 123456", "FR", "+447911123456"),
        ("07911 123456", "GB", "+447911123456"),
    ],
)
def test_parse_phone_accepts_common_ways_of_writing_numbers(
    raw: str, region: str, expected: str
) -> None:
    assert parse_phone(raw, region) == expected


def test_parse_phone_refuses_words_naming_the_token_and_region() -> None:
    with pytest.raises(InputError) as exc_info:
        parse_phone("abc", "FR")
    assert exc_info.value.problems == {
        "recipients": "'abc' is not a phone number; "
        "write it as +33612345678 or in FR national form"
    }


def test_parse_phone_advice_follows_the_region() -> None:
    with pytest.raises(InputError) as exc_info:
        parse_phone("12", "US")
    assert str(exc_info.value) == (
        "'12' is not a phone number; write it as +12015550123 or in US national form"
    )


def test_parse_phone_refuses_a_number_too_short_to_exist() -> None:
    with pytest.raises(InputError) as exc_info:
        parse_phone("+33 6 12", "FR")
    assert str(exc_info.value).startswith(
        "'+33 6 12' is not a valid phone number (too short);"
    )


def test_parse_phone_refuses_a_number_too_long_to_exist() -> None:
    with pytest.raises(InputError) as exc_info:
        parse_phone("06 12 34 56 78 9", "FR")
    assert "'06 12 34 56 78 9' is not a valid phone number" in str(exc_info.value)


def test_parse_phone_refuses_a_number_that_parses_but_is_not_valid() -> None:
    # Right length, but no French number starts with 00 after the trunk prefix.
    assert phonenumbers.parse("+33012345678").country_code == 33
    with pytest.raises(InputError) as exc_info:
        parse_phone("+33012345678", "FR")
    assert exc_info.value.field == "recipients"
    assert "'+33012345678' is not a valid phone number" in str(exc_info.value)


def test_parse_phone_refuses_an_unknown_country_code() -> None:
    with pytest.raises(InputError, match="'\\+999 1234567' is not a phone number"):
        parse_phone("+999 1234567", "FR")


@pytest.mark.parametrize("raw", ["1-800-FLOWERS", "+33612345678;ext=2", "alice", ""])
def test_parse_phone_refuses_letters_and_extensions(raw: str) -> None:
    with pytest.raises(InputError):
        parse_phone(raw, "US")


def test_parse_phone_with_an_unknown_region_still_reads_international_numbers() -> None:
    assert parse_phone("+33612345678", "ZZ") == "+33612345678"
    with pytest.raises(InputError, match="write it in international form"):
        parse_phone("0612345678", "ZZ")


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(EXAMPLES))
def test_any_example_number_round_trips_through_parse_phone(
    example: tuple[str, phonenumbers.PhoneNumber],
) -> None:
    region, number = example
    expected = e164(number)
    assert parse_phone(expected, "FR") == expected
    international = phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
    assert parse_phone(international, "US") == expected
    national = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    assert parse_phone(national, region) == expected


@settings(max_examples=100, deadline=None)
@given(FR_MOBILE)
def test_french_national_forms_equal_the_international_form(number: str) -> None:
    assert {parse_phone(form, "FR") for form in french_forms(number)} == {number}


# looks_like_phone


@pytest.mark.parametrize(
    "token",
    ["+33612345678", "06.12.34.56.78", "(415) 555-0123", "tel:+33612345678", "123"],
)
def test_looks_like_phone_accepts_digits_with_separators(token: str) -> None:
    assert looks_like_phone(token)


@pytest.mark.parametrize(
    "token", ["alice", "<@U0ALICE>", "1-800-FLOWERS", "12", "", "+", "--", "6+33"]
)
def test_looks_like_phone_refuses_names_and_short_digit_runs(token: str) -> None:
    assert not looks_like_phone(token)
