"""Result posts and refusals: content, masking, escaping, limits."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from bot.audit import AuditRecord
from bot.domain import AuditStatus, Purpose, SendOutcome, SendRequest, SmsType, Source
from bot.errors import InputError, PolicyError
from bot.log import mask_number
from bot.slack.views.messages import (
    build_error_message,
    build_rejection_message,
    build_result_message,
)

NUMBERS = ("+33612345678", "+447911123456", "+14155552671", "+4915123456789")
# The digits after the country code: a post must not show these either.
NATIONAL = ("612345678", "7911123456", "4155552671", "15123456789")
SCHEDULED = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)


def strings(value: Any) -> Iterator[str]:
    """Every string anywhere in a Slack payload (keys included)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from strings(item)


def everything(message: dict[str, Any]) -> str:
    return "\n".join(strings(message))


def assert_no_full_number(message: dict[str, Any], numbers: tuple[str, ...]) -> None:
    for text in strings(message):
        for number in numbers:
            assert number not in text
            assert number.lstrip("+") not in text
        for national in NATIONAL:
            assert national not in text


def assert_within_slack_limits(message: dict[str, Any]) -> None:
    assert message["text"]
    assert len(message["blocks"]) <= 50
    for block in message["blocks"]:
        if "text" in block:
            assert len(block["text"]["text"]) <= 3000
        fields = block.get("fields", [])
        assert len(fields) <= 10
        assert all(len(field["text"]) <= 2000 for field in fields)
        elements = block.get("elements", [])
        assert len(elements) <= 10
        assert all(len(element["text"]) <= 3000 for element in elements)


def outcome(**changes: Any) -> SendOutcome:
    request = SendRequest(
        recipients=changes.pop("recipients", NUMBERS),
        text=changes.pop("text", "Server db-1 is down"),
        sender=changes.pop("sender", "OpsTeam"),
        sms_type=SmsType.PREMIUM,
        purpose=Purpose.ALERT,
        send_at=changes.pop("send_at", None),
        with_replies=changes.pop("with_replies", False),
        simulation=changes.pop("simulation", False),
    )
    values: dict[str, Any] = {
        "audit_id": 42,
        "request_id": "req-42",
        "status": AuditStatus.SENT,
        "request": request,
        "sms_ticket": "sms_5fec89fe97109",
        "number_of_contacts": 4,
        "number_of_sms_needed": 2,
        "total_cost": 0.2664,
        "residual_credit": 99.5,
    }
    values.update(changes)
    return SendOutcome(**values)


def failed(**changes: Any) -> SendOutcome:
    values: dict[str, Any] = {
        "status": AuditStatus.FAILED,
        "sms_ticket": None,
        "number_of_contacts": None,
        "number_of_sms_needed": None,
        "total_cost": None,
        "residual_credit": None,
        "error_code": "106",
        "error_message": "Invalid sender",
        "error_hint": "Use 3-11 letters or digits as the sender.",
    }
    values.update(changes)
    return outcome(**values)


def record(**changes: Any) -> AuditRecord:
    values: dict[str, Any] = {
        "id": 7,
        "created_at": datetime(2026, 11, 24, 9, 15, tzinfo=UTC),
        "source": Source.SLASH,
        "slack_user_id": "U123",
        "slack_channel_id": "C1",
        "recipients": list(NUMBERS[:2]),
        "text": "Server db-1 is down",
        "request_id": "req-7",
        "status": AuditStatus.SENT,
        "sms_ticket": "sms_abc",
        "number_of_sms_needed": 2,
        "total_cost": 0.1332,
    }
    values.update(changes)
    return AuditRecord(**values)


# --- result posts -----------------------------------------------------------------


def test_sent_result_shows_ticket_counts_cost_credit_sender_and_author() -> None:
    message = build_result_message(outcome(), user_id="U123")
    text = everything(message)
    assert "✅ *SMS sent*" in text
    assert "sms_5fec89fe97109" in text
    assert "*Contacts*\n4" in text
    assert "*SMS per recipient*\n2 (8 in all)" in text
    assert "*Cost*\n€0.2664" in text
    assert "*Credit left*\n€99.50" in text
    assert "*Sender*\nOpsTeam" in text
    assert "<@U123>" in text
    assert "audit #42" in message["text"]
    assert_within_slack_limits(message)


def test_result_masks_every_recipient_number() -> None:
    message = build_result_message(outcome(), user_id="U123")
    text = everything(message)
    for number in NUMBERS:
        assert mask_number(number) in text
    assert_no_full_number(message, NUMBERS)


def test_failed_and_pending_results_mask_numbers_too() -> None:
    for result in (
        failed(error_message="Number +33612345678 is blacklisted"),
        outcome(status=AuditStatus.PENDING, duplicate=True),
    ):
        message = build_result_message(result, user_id="U123")
        assert mask_number(NUMBERS[0]) in everything(message)
        assert_no_full_number(message, NUMBERS)


def test_result_lists_ten_recipients_then_says_how_many_more() -> None:
    numbers = tuple(f"+336123456{i:02d}" for i in range(15))
    message = build_result_message(outcome(recipients=numbers), user_id="U1")
    text = everything(message)
    assert "Recipients (15)" in text
    assert "and 5 more" in text
    assert mask_number(numbers[9]) in text
    assert mask_number(numbers[10]) not in text
    assert not any(number in text for number in numbers)


def test_result_escapes_mentions_and_links_in_the_message_text() -> None:
    message = build_result_message(
        outcome(text="<!channel> db down & <https://x.example|click>"), user_id="U1"
    )
    text = everything(message)
    assert "<!channel>" not in text
    assert "&lt;!channel&gt; db down &amp; &lt;https://x.example|click&gt;" in text


def test_result_escapes_the_sender_and_the_octopush_message() -> None:
    hostile = failed(sender="<!here>", error_message="bad <@U999> sender")
    text = everything(build_result_message(hostile, user_id="U1"))
    assert "<!here>" not in text and "<@U999>" not in text
    assert "*Sender*\n&lt;!here&gt;" in text
    assert "bad &lt;@U999&gt; sender" in text


def test_result_quotes_long_text_shortened_with_an_ellipsis() -> None:
    text = "word " * 200
    message = build_result_message(outcome(text=text), user_id="U1")
    quoted = [t for t in strings(message) if t.startswith("> ")]
    assert len(quoted) == 1
    assert quoted[0].endswith("…")
    assert len(quoted[0]) <= 310


def test_result_without_sender_says_account_default() -> None:
    message = build_result_message(outcome(sender=None), user_id="U1")
    assert "*Sender*\naccount default" in everything(message)


def test_simulation_result_says_nothing_was_sent_and_has_a_badge() -> None:
    message = build_result_message(outcome(simulation=True), user_id="U1")
    text = everything(message)
    assert "🧪 *Simulation: nothing was sent*" in text
    assert "SMS sent" not in text
    badges = message["blocks"][-2]
    assert badges["type"] == "context"
    assert "🧪 Simulation" in badges["elements"][0]["text"]


def test_scheduled_result_shows_the_date_in_each_readers_time_zone() -> None:
    message = build_result_message(
        outcome(send_at=SCHEDULED, with_replies=True), user_id="U1"
    )
    text = everything(message)
    stamp = int(SCHEDULED.timestamp())
    slack_date = (
        f"<!date^{stamp}^{{date_short_pretty}} {{time}}|2026-12-01T08:30+00:00>"
    )
    assert f"🕒 *SMS scheduled for {slack_date}*" in text
    assert "🕒 Scheduled" in text
    assert "💬 Replies collected" in text
    assert "<!date" not in message["text"]
    assert "2026-12-01 08:30 UTC" in message["text"]


def test_failed_result_shows_octopush_code_message_and_what_to_do() -> None:
    message = build_result_message(failed(), user_id="U123")
    text = everything(message)
    assert "❌ *SMS not sent*" in text
    assert "`106`" in text
    assert "Invalid sender" in text
    assert "What to do:* Use 3-11 letters or digits as the sender." in text
    assert "<@U123>" in text
    assert "may have received" not in text
    assert message["blocks"][-1]["elements"][0]["text"] == "audit #42"


def test_failed_result_warns_when_octopush_may_have_sent_it() -> None:
    message = build_result_message(
        failed(error_code=None, error_message="Read timed out", maybe_sent=True),
        user_id="U1",
    )
    text = everything(message)
    assert "Octopush error" not in text
    assert "*Octopush said:* Read timed out" in text
    assert "Octopush may have received it" in text
    assert "Check the Octopush campaign list before sending again" in text


def test_pending_duplicate_says_the_attempt_is_still_in_progress() -> None:
    message = build_result_message(
        outcome(status=AuditStatus.PENDING, sms_ticket=None, duplicate=True),
        user_id="U9",
    )
    text = everything(message)
    assert "Already in progress" in text
    assert "not sent again" in text
    assert "<@U9>" in text
    assert message["blocks"][-1]["elements"][0]["text"] == "audit #42"


def test_recorded_duplicate_of_a_sent_attempt_says_it_is_not_a_new_send() -> None:
    message = build_result_message(outcome(duplicate=True), user_id="U1")
    assert "not a new send" in everything(message)


def test_every_result_ends_with_the_audit_id() -> None:
    for result in (outcome(), failed(), outcome(status=AuditStatus.PENDING)):
        last = build_result_message(result, user_id="U1")["blocks"][-1]
        assert last == {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": "audit #42"}],
        }


def test_huge_result_stays_within_slack_limits() -> None:
    numbers = tuple(f"+3361{i:07d}" for i in range(300))
    message = build_result_message(
        failed(
            recipients=numbers,
            text="é" * 1224,
            error_message="x" * 5000,
            error_hint="y" * 5000,
            sender="S" * 11,
            maybe_sent=True,
        ),
        user_id="U1",
    )
    assert_within_slack_limits(message)


# --- rejections, errors, progress ---------------------------------------------------


def test_rejection_names_each_field_in_plain_words_and_says_nothing_was_sent() -> None:
    error = InputError.from_problems(
        {
            "recipients": "'abc' is not a phone number",
            "text": "The message is empty",
            "send_at": "The time is in the past",
        }
    )
    message = build_rejection_message(error)
    text = everything(message)
    assert "Nothing was sent" in text
    assert "*Recipients*: 'abc' is not a phone number" in text
    assert "*Message*: The message is empty" in text
    assert "*Send time*: The time is in the past" in text
    assert "Nothing was sent" in message["text"]
    assert_within_slack_limits(message)


def test_rejection_by_policy_names_the_rule_in_plain_words_and_its_message() -> None:
    error = PolicyError("SMS_RATE_LIMIT", "You can send 30 SMS per hour; wait 12 min")
    error.audit_id = 12
    text = everything(build_rejection_message(error))
    assert "Nothing was sent" in text
    assert "Sends per person" in text and "SMS_RATE_LIMIT" not in text
    assert "You can send 30 SMS per hour; wait 12 min" in text
    assert "audit #12" in text


def test_rejection_escapes_what_was_typed() -> None:
    message = build_rejection_message(InputError("recipients", "'<!channel>' is bad"))
    assert "<!channel>" not in everything(message)
    assert "&lt;!channel&gt;" in everything(message)


def test_error_message_is_one_escaped_line() -> None:
    message = build_error_message("Something went wrong; the attempt is #12 <!here>")
    assert message["text"] == "Something went wrong; the attempt is #12 &lt;!here&gt;"
    assert message["blocks"] == [
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": "⚠️ Something went wrong; the attempt is #12 &lt;!here&gt;",
            },
        }
    ]
