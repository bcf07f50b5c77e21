"""Replies to ``/sms`` itself: the ack, the questions asked before a send, help, history."""

from __future__ import annotations

import re
from typing import Any

from bot.domain import AuditStatus, Source
from bot.i18n import N_
from bot.log import mask_number
from bot.sending.gateway import Balance
from bot.slack import ids
from bot.slack.grammar import KEYWORDS, parse_sms_command
from bot.slack.views.command_questions import (
    Choice,
    build_choice_prompt,
    build_sending_message,
    describe_estimate,
)
from bot.slack.views.command_replies import (
    build_balance_message,
    build_help_message,
    build_history_message,
)
from tests.slack.views.test_messages import (
    NUMBERS,
    assert_no_full_number,
    assert_within_slack_limits,
    everything,
    record,
)


def test_the_ack_of_a_send_names_each_recipient_with_numbers_masked() -> None:
    message = build_sending_message(["+33612345678", "alice", "<@UBOB>"])
    text = everything(message)
    assert mask_number("+33612345678") in text
    assert "alice" in text and "<@UBOB>" in text
    assert_no_full_number(message, NUMBERS)


def actions_of(message: dict[str, Any]) -> list[tuple[str, str, str | None]]:
    """``(action_id, value, style)`` of every button, in order."""
    return [
        (e["action_id"], e["value"], e.get("style"))
        for block in message["blocks"]
        if block["type"] == "actions"
        for e in block["elements"]
    ]


def test_the_choice_prompt_masks_every_recipient_and_carries_a_button_per_reading() -> (
    None
):
    message = build_choice_prompt(
        [
            Choice(["+33612345678", "+447911123456"], "is my other phone", value="v1"),
            Choice(
                ["+33612345678"],
                "+44 7911 123456 is my other phone",
                value="v2",
                safe=True,
            ),
        ],
        form="v3",
    )
    assert actions_of(message) == [
        (ids.SEND_AS_SHOWN, "v1", None),
        (ids.SEND_CERTAIN, "v2", "primary"),
        (ids.OPEN_FORM_PREFILLED, "v3", None),
    ]
    for block in message["blocks"]:
        assert block["type"] != "actions" or len(block["elements"]) == 1
    shown = everything(
        {"blocks": [b for b in message["blocks"] if b["type"] != "actions"]}
    )
    assert mask_number("+33612345678") in shown
    assert mask_number("+447911123456") in shown
    assert "+33612345678" not in shown
    assert_within_slack_limits(message)


def test_a_reading_that_cannot_be_sent_gets_no_button() -> None:
    message = build_choice_prompt(
        [
            Choice(["+33612345678", "+33698765432"], ""),
            Choice(["+33612345678"], "0698765432", value="v2"),
        ],
        form="v3",
    )
    assert [a[0] for a in actions_of(message)] == [
        ids.SEND_CERTAIN,
        ids.OPEN_FORM_PREFILLED,
    ]


def test_a_number_that_cannot_take_an_sms_is_flagged_in_plain_words() -> None:
    message = build_choice_prompt(
        [
            Choice(
                ["+33612345678", "+33800123456"],
                "is the hotline",
                warnings=[
                    ("+33800123456", N_("a toll-free number: it cannot receive SMS"))
                ],
                value="v1",
            ),
            Choice(["+33612345678"], "0800 123 456 is the hotline", value="v2"),
        ],
        form=None,
    )
    text = everything(message)
    assert f"{mask_number('+33800123456')} is a toll-free number" in text
    assert "+33800123456" not in text
    assert all(style is None for _, _, style in actions_of(message))


def test_estimate_multiplies_recipients_by_sms_and_adds_the_cost() -> None:
    assert describe_estimate(recipients=12, parts=2) == "12 recipients × 2 SMS = 24 SMS"
    assert (
        describe_estimate(recipients=1, parts=3, cost=0.1)
        == "1 recipient × 3 SMS = 3 SMS, about €0.10"
    )


# --- help, balance, history -------------------------------------------------------


def test_every_example_in_help_parses_as_the_command_it_illustrates() -> None:
    text = everything(build_help_message())
    typed = re.findall(r"`/sms ?([^`]*)`", text)
    # With should_escape, Slack sends a typed @name as a mention.
    # Optional parts are left out; usage lines with placeholders (WHO) are skipped.
    lines = [re.sub(r"\s*\[[^\]]*\]", "", line) for line in typed]
    examples = [
        re.sub(r"@([a-z]+)", r"<@U0\1|\1>", line)
        for line in lines
        if not re.search(r"\b[A-Z]{3,}\b", line)
    ]
    parsed = [parse_sms_command(e, region="FR") for e in examples]
    assert {command.action for command in parsed} >= KEYWORDS | {"send"}
    for example, command in zip(examples, parsed, strict=True):
        assert not command.problems, example
        if command.action == "send":
            assert command.recipients and command.text and not command.ambiguous
            assert all(r in example for r in command.recipients)
    assert_within_slack_limits(build_help_message())


def test_balance_shows_the_amount_and_unit() -> None:
    message = build_balance_message(Balance(amount=12.54, unit="euros"))
    assert "€12.54" in everything(message)
    assert "€12.54" in message["text"]
    premium = build_balance_message(Balance(amount=204, unit="sms_premium"))
    assert "204 Premium SMS" in everything(premium)


def test_history_shows_when_who_where_status_ticket_count_and_cost() -> None:
    records = [
        record(),
        record(
            id=8,
            source=Source.CLI,
            slack_user_id=None,
            status=AuditStatus.FAILED,
            sms_ticket=None,
            total_cost=None,
            number_of_sms_needed=None,
            error_code="106",
            recipients=list(NUMBERS[2:]),
        ),
    ]
    message = build_history_message(records, limit=10)
    text = everything(message)
    stamp = int(records[0].created_at.timestamp())
    assert f"<!date^{stamp}^" in text
    assert "<@U123>" in text
    assert "CLI" in text
    assert "✅ sent" in text and "❌ failed" in text
    assert "`sms_abc`" in text
    assert "2 SMS" in text
    assert "cost €0.1332" in text
    assert "error `106`" in text
    for number in NUMBERS:
        assert mask_number(number) in text
    assert_no_full_number(message, NUMBERS)


def test_history_shows_at_most_limit_records_within_slack_limits() -> None:
    records = [record(id=i, recipients=list(NUMBERS)) for i in range(200)]
    message = build_history_message(records, limit=150)
    text = everything(message)
    assert "Last 150 sends" in text
    assert "#149 " in text and "#150 " not in text
    assert_within_slack_limits(message)


def test_empty_history_says_nothing_was_sent_here_yet() -> None:
    message = build_history_message([], limit=10)
    assert "No SMS sent from this channel yet" in message["text"]
    assert "No SMS sent from this channel yet" in everything(message["blocks"])


def test_many_readings_show_five_and_the_most_cautious_within_slack_limits() -> None:
    choices = [
        Choice([f"name{n}" for n in range(9 - i)], f"message {i}", value=f"v{i}")
        for i in range(9)
    ]
    message = build_choice_prompt(choices, form="f")
    values = [value for _, value, _ in actions_of(message)]
    assert values == ["v0", "v1", "v2", "v3", "v4", "v8", "f"]
    text = everything(message)
    assert "3 other readings are not shown." in text
    assert "*Reading 9, to 1 recipient:*" in text
    assert_within_slack_limits(message)
