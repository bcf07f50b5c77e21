from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.slack.grammar import mention_user_id, parse_sms_command, unescape_slack


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


def test_a_long_digit_run_that_is_no_number_stays_a_recipient_for_the_rules_to_name() -> (
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
