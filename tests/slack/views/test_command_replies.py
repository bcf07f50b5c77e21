"""Replies to ``/sms`` itself: the ack, the questions asked before a send, help, history."""

from __future__ import annotations

import re

from bot.domain import AuditStatus, Source
from bot.log import mask_number
from bot.sending.gateway import Balance
from bot.slack import ids
from bot.slack.grammar import KEYWORDS, parse_sms_command
from bot.slack.views.command_questions import (
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


def test_the_choice_prompt_masks_every_recipient_and_carries_three_buttons() -> None:
    message = build_choice_prompt(
        recipients=["+33612345678", "+447911123456"],
        unsure=["+447911123456"],
        text="is my other phone",
        cautious_text="+44 7911 123456 is my other phone",
        as_shown="v1",
        certain_only="v2",
        form="v3",
    )
    (actions,) = [b for b in message["blocks"] if b["type"] == "actions"]
    assert [(e["action_id"], e["value"]) for e in actions["elements"]] == [
        (ids.SEND_AS_SHOWN, "v1"),
        (ids.SEND_CERTAIN, "v2"),
        (ids.OPEN_FORM_PREFILLED, "v3"),
    ]
    shown = everything({"blocks": [b for b in message["blocks"] if b is not actions]})
    assert mask_number("+33612345678") in shown
    assert mask_number("+447911123456") in shown
    assert "+33612345678" not in shown
    assert_within_slack_limits(message)


def test_a_reading_that_cannot_be_sent_gets_no_button() -> None:
    message = build_choice_prompt(
        recipients=["+33612345678", "+33698765432"],
        unsure=["+33698765432"],
        text="",
        cautious_text="0698765432",
        as_shown=None,
        certain_only="v2",
        form="v3",
    )
    (actions,) = [b for b in message["blocks"] if b["type"] == "actions"]
    assert [e["action_id"] for e in actions["elements"]] == [
        ids.SEND_CERTAIN,
        ids.OPEN_FORM_PREFILLED,
    ]


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
