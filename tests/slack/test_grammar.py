from __future__ import annotations

from datetime import datetime, timedelta

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from bot.errors import InputError
from bot.phones import parse_phone
from bot.slack.grammar import (
    PAGE_USAGE,
    Reading,
    SmsCommand,
    mention_user_id,
    parse_sms_command,
    unescape_slack,
)
from tests.test_phones import FR_MOBILE, french_forms

NAMES = {"alice", "db-oncall", "dba"}


def parse(text: str) -> SmsCommand:
    return parse_sms_command(text, region="FR", is_name=lambda w: w.lower() in NAMES)


def test_empty_text_opens_the_form() -> None:
    assert parse_sms_command("   ", region="FR").action == "form"
    assert parse_sms_command("form", region="FR").action == "form"


def test_keywords_are_recognised_case_insensitively() -> None:
    assert parse_sms_command("HELP", region="FR").action == "help"
    assert parse_sms_command("balance", region="FR").action == "balance"
    assert parse_sms_command("oncall dba", region="FR").argument == "dba"


def test_history_takes_an_optional_count() -> None:
    assert parse_sms_command("history", region="FR").argument == "10"
    assert parse_sms_command("history 3", region="FR").argument == "3"
    bad = parse_sms_command("history lots", region="FR")
    assert bad.problems == ("`/sms history` takes a number from 1 to 100, not 'lots'",)


def test_international_number_then_message_kept_as_typed() -> None:
    command = parse_sms_command(
        "+33612345678 Disk  full!\nSee https://x.io 🔥", region="FR"
    )
    assert command.action == "send"
    assert command.recipients == ("+33612345678",)
    assert command.text == "Disk  full!\nSee https://x.io 🔥"


def test_national_number_typed_with_spaces_is_one_recipient() -> None:
    command = parse_sms_command("06 12 34 56 78 Server down", region="FR")
    assert command.recipients == ("06 12 34 56 78",)
    assert command.text == "Server down"


def test_several_recipients_separated_by_commas_and_spaces() -> None:
    command = parse_sms_command(
        "+33612345678, 0698765432,<@U123|bob> hello", region="FR"
    )
    assert command.recipients == ("+33612345678", "0698765432", "<@U123|bob>")
    assert command.text == "hello"


def test_a_small_number_starts_the_message() -> None:
    command = parse_sms_command("+33612345678 3 disks failed", region="FR")
    assert command.recipients == ("+33612345678",)
    assert command.text == "3 disks failed"


def test_a_first_digit_run_that_is_no_number_stays_a_recipient_for_the_rules_to_name() -> (
    None
):
    command = parse_sms_command("12345678901 hello", region="FR")
    assert command.recipients == ("12345678901",)
    assert command.text == "hello"


def test_first_word_that_is_no_recipient_is_kept_as_one_so_the_error_names_it() -> None:
    command = parse_sms_command("alice hello", region="FR")
    assert command.recipients == ("alice",)
    assert command.text == "hello"


def test_directory_names_are_recipients_when_the_caller_knows_them() -> None:
    command = parse_sms_command(
        "alice, dba disk full", region="FR", is_name=lambda w: w in {"alice", "dba"}
    )
    assert command.recipients == ("alice", "dba")
    assert command.text == "disk full"


def test_slack_escapes_are_undone_in_the_message() -> None:
    command = parse_sms_command(
        "+33612345678 a &amp; b &lt;3 <https://example.com/?a=1&amp;b=2|example.com> "
        "<@U1|alice> <#C1|ops> <!here>",
        region="FR",
    )
    assert command.text == "a & b <3 https://example.com/?a=1&b=2 @alice #ops @here"


def test_unescape_keeps_plain_text() -> None:
    assert unescape_slack("plain text: 100% ok") == "plain text: 100% ok"
    assert unescape_slack("<mailto:a@b.fr|a@b.fr>") == "a@b.fr"


def test_mention_user_id() -> None:
    assert mention_user_id("<@U123ABC|bob>") == "U123ABC"
    assert mention_user_id("<@W9>") == "W9"
    assert mention_user_id("@bob") is None


_words = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40
)


@settings(max_examples=200, deadline=None)
@given(message=_words)
def test_recipient_tokens_never_leak_into_the_message(message: str) -> None:
    command = parse_sms_command(f"+33612345678, 06 98 76 54 32 {message}", region="FR")
    assert command.recipients[:2] == ("+33612345678", "06 98 76 54 32")
    assert "+33612345678" not in command.text
    assert "06 98 76 54 32" not in command.text


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=200))
def test_any_text_parses_without_error(text: str) -> None:
    command = parse_sms_command(text, region="FR")
    assert command.action in {
        "form",
        "help",
        "balance",
        "history",
        "page",
        "oncall",
        "send",
    }
    if command.action == "send":
        assert command.recipients


# --- issue 10 item 1: never text a number the person did not mean -------------------


@pytest.mark.parametrize(
    ("typed", "number"),
    [
        ("+33612345678 0800 123 456 is the hotline", "0800 123 456"),
        ("+33612345678 06 98 76 54 32 is my other phone", "06 98 76 54 32"),
        ("alice 0698765432 is my other phone", "0698765432"),
        ("+33612345678 <tel:+33698765432|06 98 76 54 32> is mine", "+33698765432"),
    ],
)
def test_a_number_after_a_recipient_without_a_comma_is_ambiguous(
    typed: str, number: str
) -> None:
    command = parse_sms_command(typed, region="FR", is_name=lambda w: w == "alice")
    assert command.ambiguous
    assert command.unsure == (number,)
    first = typed.split()[0]
    assert command.cautious == Reading(
        (first,), unescape_slack(typed[len(first) + 1 :])
    )


def test_a_comma_makes_the_next_number_a_recipient_without_asking() -> None:
    command = parse_sms_command("+33612345678, 06 98 76 54 32 is down", region="FR")
    assert command.recipients == ("+33612345678", "06 98 76 54 32")
    assert command.text == "is down" and not command.ambiguous


def test_an_unknown_word_after_a_comma_stays_a_recipient_so_it_is_refused() -> None:
    command = parse("alice, bobb Server down")
    assert command.recipients == ("alice", "bobb")
    assert command.text == "Server down"


@pytest.mark.parametrize(
    ("typed", "recipients", "text"),
    [
        ("+33612345678 2024-05-01 outage", ("+33612345678",), "2024-05-01 outage"),
        ("+33612345678 01/05/2024 outage", ("+33612345678",), "01/05/2024 outage"),
        (
            "db-oncall 192.168.10.12 unreachable",
            ("db-oncall",),
            "192.168.10.12 unreachable",
        ),
        ("alice 12345678 is the ticket", ("alice",), "12345678 is the ticket"),
        (
            "+33612345678\n06 98 76 54 32 calls",
            ("+33612345678",),
            "06 98 76 54 32 calls",
        ),
        (
            "<tel:+33612345678|+33 6 12 34 56 78> call me back",
            ("+33612345678",),
            "call me back",
        ),
        (
            "<tel:+33612345678|+33 6 12 34 56 78>, alice call <tel:+33698765432|06 98>",
            ("+33612345678", "alice"),
            "call 06 98",
        ),
    ],
)
def test_dates_addresses_ticket_numbers_and_tel_links(
    typed: str, recipients: tuple[str, ...], text: str
) -> None:
    command = parse(typed)
    assert command.recipients == recipients
    assert command.text == text
    assert not command.ambiguous


@pytest.mark.parametrize(
    ("typed", "who", "text"),
    [
        ("page db-oncall\nDB is down", ("db-oncall",), "DB is down"),
        ("page db-oncall,alice DB down", ("db-oncall", "alice"), "DB down"),
        ("page <@U1|bob>   disk\nfull", ("<@U1|bob>",), "disk\nfull"),
    ],
)
def test_page_reads_who_then_the_message_whatever_separates_them(
    typed: str, who: tuple[str, ...], text: str
) -> None:
    command = parse(typed)
    assert (command.action, command.recipients, command.text) == ("page", who, text)
    assert not command.problems


@pytest.mark.parametrize("typed", ["page", "page db-oncall", "page db-oncall,alice"])
def test_page_without_a_message_shows_the_usage(typed: str) -> None:
    assert parse(typed).problems == (PAGE_USAGE,)


def test_oncall_set_and_clear_are_parsed_for_the_pager() -> None:
    override = parse("oncall set DB-oncall <@U1|bob> for 1h30m").oncall
    assert override is not None
    assert (override.verb, override.rotation, override.person) == (
        "set",
        "db-oncall",
        "<@U1|bob>",
    )
    assert override.duration == timedelta(minutes=90) and override.until is None
    until = parse("oncall set db-oncall <@U1> until 2026-12-24 18:00").oncall
    assert until is not None and until.until == datetime(2026, 12, 24, 18, 0)
    cleared = parse("oncall clear db-oncall").oncall
    assert cleared is not None and (cleared.verb, cleared.rotation) == (
        "clear",
        "db-oncall",
    )
    shown = parse("oncall dba").oncall
    assert shown is not None and (shown.verb, shown.rotation) == ("show", "dba")


@pytest.mark.parametrize(
    "typed",
    [
        "oncall set db-oncall <@U1>",
        "oncall set db-oncall <@U1> for ever",
        "oncall set db-oncall <@U1> until tomorrow",
        "oncall clear",
        "oncall dba extra",
    ],
)
def test_a_malformed_oncall_command_is_a_problem_not_a_guess(typed: str) -> None:
    command = parse(typed)
    assert command.oncall is None and command.problems


# --- properties ---------------------------------------------------------------------

_letters = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
    min_size=1,
    max_size=8,
)
_rest = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)
_recipient = st.one_of(
    st.builds(lambda n, form: french_forms(n)[form], FR_MOBILE, st.integers(0, 7)),
    st.sampled_from(["<@U0ALICE|alice>", "<@U0BOB>", "<!subteam^S1|@dba>"]),
    st.builds(lambda n: f"<tel:{n}|{n[:3]} {n[3:]}>", FR_MOBILE),
)
_separator = st.sampled_from([" ", ", ", ",", " , ", "  ", "\t"])


@settings(max_examples=300, deadline=None)
@given(
    recipients=st.lists(_recipient, min_size=1, max_size=5),
    separators=st.lists(_separator, min_size=5, max_size=5),
    end=st.sampled_from([" ", "\n", "  "]),
    word=_letters,
    rest=_rest,
)
def test_a_message_that_starts_with_a_word_is_never_shortened(
    recipients: list[str], separators: list[str], end: str, word: str, rest: str
) -> None:
    message = f"{word} {rest}" if rest.strip() else word
    typed = "".join(r + s for r, s in zip(recipients, separators, strict=False))
    typed = typed.rstrip(" ,\t") + end + message
    command = parse_sms_command(typed, region="FR")
    expected = unescape_slack(message.rstrip())
    assert command.action == "send"
    assert command.text == expected
    if command.cautious is not None:
        assert command.cautious.text.endswith(expected)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            _recipient,
            st.sampled_from(["alice", "bobb", "2024-05-01", "10.0.0.1", "3", "x"]),
            st.text(alphabet="0123456789+.-() ", min_size=1, max_size=12),
        ),
        max_size=6,
    ),
    st.lists(st.sampled_from([" ", ",", ", ", "\n", "  "]), min_size=6, max_size=6),
    _rest,
)
def test_every_recipient_is_something_typed_before_the_message(
    words: list[str], separators: list[str], tail: str
) -> None:
    typed = "".join(w + s for w, s in zip(words, separators, strict=False)) + tail
    command = parse(typed)
    if command.action != "send":
        return
    readings = [Reading(command.recipients, command.text)]
    if command.cautious is not None:
        readings.append(command.cautious)
    stripped = typed.strip()
    for reading in readings:
        before = _before_message(stripped, reading.text)
        for recipient in reading.recipients:
            assert recipient in before, (recipient, before)


def _before_message(stripped: str, text: str) -> str:
    """The typed text before the message, spaces collapsed (recipients join groups so)."""
    for start in range(len(stripped), -1, -1):
        if unescape_slack(stripped[start:]) == text:
            return " ".join(stripped[:start].split())
    raise AssertionError(f"{text!r} is not the end of {stripped!r}")


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(FR_MOBILE, st.integers(0, 7)), min_size=1, max_size=5))
def test_comma_separated_numbers_in_any_writing_stay_whole(
    items: list[tuple[str, int]],
) -> None:
    typed = ", ".join(french_forms(number)[form] for number, form in items)
    command = parse_sms_command(typed + " Server down", region="FR")
    assert [parse_phone(r, "FR") for r in command.recipients] == [n for n, _ in items]
    assert command.text == "Server down" and not command.ambiguous


# --- issue 19 item 1: numbering plans where numbers vary in length -------------------


def test_a_digit_after_an_austrian_number_is_asked_about_not_texted() -> None:
    command = parse_sms_command("+43 664 123456 3 disks failed", region="FR")
    assert command.ambiguous
    assert command.readings == (
        Reading(("+43 664 123456 3",), "disks failed"),
        Reading(("+43 664 123456",), "3 disks failed"),
    )


def test_every_valid_end_of_a_grouped_number_is_a_reading() -> None:
    command = parse_sms_command("+39 02 1234 5678 3 dischi rotti", region="FR")
    assert [parse_phone(r.recipients[0], "FR") for r in command.readings] == [
        "+390212345678" + "3",
        "+390212345678",
        "+39021234",
    ]
    assert [r.text for r in command.readings] == [
        "dischi rotti",
        "3 dischi rotti",
        "5678 3 dischi rotti",
    ]


def test_a_line_break_says_where_the_number_ends() -> None:
    command = parse_sms_command("+43 664 123456\n3 disks failed", region="FR")
    assert not command.ambiguous
    assert [parse_phone(r, "FR") for r in command.recipients] == ["+43664123456"]
    assert command.text == "3 disks failed"


def _example_forms(region: str) -> list[tuple[str, str]]:
    """``(typed, E.164)`` for the region's example mobile and fixed-line numbers."""
    forms = []
    for kind in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE):
        example = phonenumbers.example_number_for_type(region, kind)
        if example is None:
            continue
        e164 = phonenumbers.format_number(example, PhoneNumberFormat.E164)
        for style in (PhoneNumberFormat.INTERNATIONAL, PhoneNumberFormat.NATIONAL):
            forms.append((phonenumbers.format_number(example, style), e164))
    return forms


def _e164(token: str, region: str) -> str | None:
    try:
        return parse_phone(token, region)
    except InputError:
        return None


_digit_groups = st.lists(
    st.text(alphabet="0123456789", min_size=1, max_size=4), min_size=1, max_size=3
).map(" ".join)
_plain_words = st.lists(_letters, min_size=1, max_size=3).map(" ".join)


@pytest.mark.parametrize("region", sorted(phonenumbers.SUPPORTED_REGIONS))
@settings(max_examples=8, deadline=None)
@given(digits=_digit_groups, words=_plain_words)
def test_digits_after_any_regions_number_never_change_it_or_the_message_unasked(
    region: str, digits: str, words: str
) -> None:
    """Whatever the numbering plan: that number with the whole rest, or the question."""
    rest = f"{digits} {words}"
    for number, e164 in _example_forms(region):
        command = parse_sms_command(f"{number} {rest}", region=region)
        meant = [
            reading
            for reading in command.readings
            if [_e164(r, region) for r in reading.recipients] == [e164]
            and reading.text == rest
        ]
        if command.ambiguous:
            assert meant, (number, rest, command.readings)
        else:
            assert meant == [Reading(command.recipients, command.text)], (
                number,
                rest,
                command.recipients,
                command.text,
            )


# --- issue 19 item 2: names and mentions that could be the message ------------------


@pytest.mark.parametrize(
    ("typed", "readings"),
    [
        (
            "alice DBA migration at 17:00",
            [
                Reading(("alice", "DBA"), "migration at 17:00"),
                Reading(("alice",), "DBA migration at 17:00"),
            ],
        ),
        (
            "<@U0BOB|bob> <@U0CAROL|carol> asked me to tell you",
            [
                Reading(("<@U0BOB|bob>", "<@U0CAROL|carol>"), "asked me to tell you"),
                Reading(("<@U0BOB|bob>",), "@carol asked me to tell you"),
            ],
        ),
        (
            "alice, dba <!subteam^S1|@ops> bob is late",
            [
                Reading(("alice", "dba", "<!subteam^S1|@ops>"), "bob is late"),
                Reading(("alice", "dba"), "@ops bob is late"),
            ],
        ),
        (
            "alice dba 0800 123 456 is the hotline",
            [
                Reading(("alice", "dba", "0800 123 456"), "is the hotline"),
                Reading(("alice", "dba"), "0800 123 456 is the hotline"),
                Reading(("alice",), "dba 0800 123 456 is the hotline"),
            ],
        ),
    ],
)
def test_a_recipient_after_a_space_that_could_start_the_message_is_a_question(
    typed: str, readings: list[Reading]
) -> None:
    command = parse(typed)
    assert command.ambiguous
    assert list(command.readings) == readings


@pytest.mark.parametrize(
    ("typed", "recipients", "text"),
    [
        ("alice Server down", ("alice",), "Server down"),
        ("alice, DBA migration at 17:00", ("alice", "DBA"), "migration at 17:00"),
        (
            "<@U0BOB|bob>,<@U0CAROL|carol> asked",
            ("<@U0BOB|bob>", "<@U0CAROL|carol>"),
            "asked",
        ),
        (
            "alice dba\nDBA migration at 17:00",
            ("alice", "dba"),
            "DBA migration at 17:00",
        ),
        ("alice dba", ("alice", "dba"), ""),  # no message: refused as empty, not asked
    ],
)
def test_a_single_recipient_commas_or_a_line_break_need_no_question(
    typed: str, recipients: tuple[str, ...], text: str
) -> None:
    command = parse(typed)
    assert not command.ambiguous
    assert (command.recipients, command.text) == (recipients, text)


# --- issue 19 item 7: a misspelt sub-command ------------------------------------------


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("hlep", "help"),
        ("HLEP me", "help"),
        ("balanse", "balance"),
        ("histroy 5", "history"),
        ("oncal dba", "oncall"),
        ("fomr", "form"),
        ("pgae db-oncall DB down", "page"),
    ],
)
def test_a_word_close_to_a_sub_command_is_answered_with_did_you_mean(
    typed: str, meant: str
) -> None:
    command = parse(typed)
    assert (command.action, command.suggestion) == ("help", meant)
    assert command.recipients == () and command.text == ""


@pytest.mark.parametrize(
    "typed", ["helpdesk is down", "bob hello", "+33612345678 hlep"]
)
def test_words_that_are_not_close_to_a_sub_command_are_read_as_recipients(
    typed: str,
) -> None:
    command = parse(typed)
    assert command.action == "send" and command.suggestion is None


def test_a_directory_name_close_to_a_sub_command_stays_a_recipient() -> None:
    command = parse_sms_command(
        "paige hello", region="FR", is_name=lambda w: w == "paige"
    )
    assert (command.action, command.recipients, command.text) == (
        "send",
        ("paige",),
        "hello",
    )
