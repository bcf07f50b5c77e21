"""Slack markup to SMS text (issue 19 item 4): what a person reads, not Slack's markup."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.sending.segments import analyse
from bot.slack.mrkdwn_text import slack_to_sms

NAMES = {"U0BOB": "@bob", "C0OPS": "ops"}


def plain(text: str) -> str:
    return slack_to_sms(text, user_name=NAMES.get, channel_name=NAMES.get).text


@pytest.mark.parametrize(
    ("slack", "sms"),
    [
        ("<@U0BOB> look", "@bob look"),
        ("<@U0BOB|bobby> look", "@bobby look"),
        ("<@U0NOBODY> look", "@U0NOBODY look"),  # unknown: the id, never the markup
        ("in <#C0OPS|ops> and <#C0OPS>", "in #ops and #ops"),
        ("<!here> <!channel> <!subteam^S1|@ops-team>", "@here @channel @ops-team"),
        (
            "<https://status.example.com|status page>",
            "status page (https://status.example.com)",
        ),
        ("<https://status.example.com>", "https://status.example.com"),
        (
            "<https://status.example.com|status.example.com>",
            "https://status.example.com",
        ),
        ("<mailto:a@b.fr|a@b.fr>", "a@b.fr"),
        ("<tel:+33612345678|06 12 34 56 78>", "06 12 34 56 78"),
        ("1 &lt; 2 &amp;&amp; 3 &gt; 2", "1 < 2 && 3 > 2"),
        ("&amp;lt; stays as typed", "&lt; stays as typed"),
        ("*db-1* is _down_, ~up~", "db-1 is down, up"),
        ("*_both_*", "both"),
        ("run `rm *.log` now", "run rm *.log now"),
        ("```\nSELECT *\nFROM t_x_y\n```", "SELECT *\nFROM t_x_y"),
        ("snake_case_name and 2*3*4", "snake_case_name and 2*3*4"),
        ("&gt; quoted\n• one\n• two", "quoted\n- one\n- two"),
        ("<!date^1392734382^{date}|Feb 18, 2014> at noon", "Feb 18, 2014 at noon"),
        (":partyparrot: done", ":partyparrot: done"),  # a custom emoji keeps its name
    ],
)
def test_slack_markup_becomes_what_the_reader_saw(slack: str, sms: str) -> None:
    assert plain(slack) == sms


def test_an_emoji_that_costs_nothing_more_is_kept() -> None:
    converted = slack_to_sms("db-1 is down :fire: :+1::skin-tone-3:")
    assert converted.text == "db-1 is down 🔥 👍🏼"
    assert converted.left_out == ()
    assert converted.parts == 1


def test_an_emoji_that_would_cost_more_sms_is_left_out_and_said() -> None:
    text = "Disk full on db-1, " + "please check the replication lag now " * 3
    converted = slack_to_sms(f":rotating_light: {text}:fire: :fire:")
    assert converted.text == text.rstrip()
    assert converted.left_out == ("🚨", "🔥")
    assert converted.parts == 1
    assert converted.parts_with_emoji == analyse(f"🚨 {text}🔥 🔥").parts == 3
    assert analyse(converted.text).encoding == "GSM-7"


def test_emoji_are_kept_when_the_text_is_unicode_anyway() -> None:
    converted = slack_to_sms("Ça brûle :fire: " + "x" * 80)
    assert "🔥" in converted.text
    assert converted.left_out == ()


_WORD = st.text(
    alphabet=st.characters(
        codec="utf-8", exclude_characters="<>&;\n", exclude_categories=("Cs",)
    ),
    max_size=12,
)
_ID = st.from_regex(r"[UCS][A-Z0-9]{2,10}", fullmatch=True)
_LABEL = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters="<>|&\n"), max_size=10
)
_MARKUP = st.one_of(
    _WORD,
    st.builds("<@{}>".format, _ID),
    st.builds("<@{}|{}>".format, _ID, _LABEL),
    st.builds("<#{}|{}>".format, _ID, _LABEL),
    st.builds("<#{}>".format, _ID),
    st.sampled_from(["<!here>", "<!channel>", "<!everyone>"]),
    # What people typed as < > & (a space after: "<" then a mention is what they wrote).
    st.sampled_from(["&lt; ", "&gt; ", "&amp; "]),
    st.builds("<!subteam^{}|@{}>".format, _ID, _LABEL),
    st.builds("<https://{}.example.com/{}>".format, _ID, _ID),
    st.builds("<http://x.example.com/{}|{}>".format, _ID, _LABEL),
    st.builds("<mailto:{}@example.com|{}>".format, _ID, _LABEL),
    st.sampled_from(["*", "_", "~", "`", "```", ":fire:", ":wave::skin-tone-2:"]),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_MARKUP, max_size=12), st.sampled_from([" ", "", "\n"]))
def test_no_slack_markup_or_escape_is_left(parts: list[str], separator: str) -> None:
    converted = slack_to_sms(
        separator.join(parts), user_name=NAMES.get, channel_name=NAMES.get
    )
    for leftover in ("<@", "<#", "<!", "<http", "<mailto", "&lt;", "&gt;", "&amp;"):
        assert leftover not in converted.text
    typed = [char for part in parts for char in part if ord(char) >= 0xF0000]
    shown = [char for char in converted.text if ord(char) >= 0xF0000]
    assert shown == typed  # private-use characters typed are kept, no placeholder leaks
    if converted.left_out:
        assert converted.parts_with_emoji > converted.parts
