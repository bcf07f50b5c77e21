"""Typed text reaches the bot as Slack escapes it (``should_escape: true``)."""

from __future__ import annotations

from bot.playground.mentions import escape_typed
from bot.slack.grammar import parse_sms_command


def test_mentions_groups_channels_links_and_entities() -> None:
    typed = "@bob, @ops-team see #ops & https://x.example/a?b=1 <now> @nobody"
    assert escape_typed(typed, label_mentions=True) == (
        "<@U0BOB|bob>, <!subteam^S0OPSTEAM|@ops-team> see <#C0OPS|ops> &amp; "
        "<https://x.example/a?b=1> &lt;now&gt; @nobody"
    )
    assert escape_typed("@Alice: hi @here", label_mentions=False) == (
        "<@U0ALICE>: hi <!here>"
    )


def test_the_bots_grammar_reads_the_escaped_text_as_recipients() -> None:
    parsed = parse_sms_command(
        escape_typed("@bob, @ops-team Disk > 90%", label_mentions=True), region="FR"
    )
    assert parsed.recipients == ("<@U0BOB|bob>", "<!subteam^S0OPSTEAM|@ops-team>")
    assert parsed.text == "Disk > 90%"
