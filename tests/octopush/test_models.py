"""The wire models: what is sent, what is refused before sending, what is read back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from bot.octopush import (
    Balance,
    Purpose,
    Recipient,
    SmsCampaign,
    SmsCampaignResult,
    SmsType,
)

NUMBER = "+33612345678"


def campaign(**overrides: Any) -> SmsCampaign:
    fields: dict[str, Any] = {
        "text": "Disk full on db-1",
        "recipients": [Recipient(phone_number=NUMBER)],
        "type": "sms_premium",
        "purpose": "alert",
    }
    fields.update(overrides)
    return SmsCampaign(**fields)


def test_to_json_leaves_out_none_fields_but_keeps_type_and_purpose() -> None:
    assert campaign().to_json() == {
        "text": "Disk full on db-1",
        "recipients": [{"phone_number": NUMBER}],
        "type": "sms_premium",
        "purpose": "alert",
    }


def test_to_json_sends_every_option_given() -> None:
    body = campaign(
        recipients=[Recipient(phone_number=NUMBER, first_name="Ana", param5="x")],
        type=SmsType.LOW_COST,
        purpose=Purpose.WHOLESALE,
        sender="Ops 24",
        with_replies=False,
        simulation_mode=True,
        request_id="req-9",
        auto_optimize_text=False,
        auto_remove_blacklisted_numbers=True,
    ).to_json()

    assert body["recipients"] == [
        {"phone_number": NUMBER, "first_name": "Ana", "param5": "x"}
    ]
    assert body["type"] == "sms_low_cost"
    assert body["purpose"] == "wholesale"
    assert body["with_replies"] is False
    assert body["simulation_mode"] is True
    assert body["auto_optimize_text"] is False
    assert body["auto_remove_blacklisted_numbers"] is True
    assert body["request_id"] == "req-9"
    assert body["sender"] == "Ops 24"


@pytest.mark.parametrize(
    ("send_at", "wire"),
    [
        (datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC), "2030-01-02T03:04:05+00:00"),
        (
            datetime(2030, 1, 2, 3, 4, tzinfo=timezone(timedelta(hours=-7))),
            "2030-01-02T03:04:00-07:00",
        ),
    ],
)
def test_send_at_is_sent_as_iso_8601_with_offset(send_at: datetime, wire: str) -> None:
    assert campaign(send_at=send_at).to_json()["send_at"] == wire


def test_naive_send_at_is_refused_with_a_usable_message() -> None:
    with pytest.raises(ValidationError, match="time zone offset"):
        campaign(send_at=datetime(2030, 1, 2, 3, 4))


@pytest.mark.parametrize("text", ["", "   ", "x" * 1225])
def test_text_outside_1_to_1224_characters_is_refused(text: str) -> None:
    with pytest.raises(ValidationError):
        campaign(text=text)


def test_text_of_1224_characters_is_accepted() -> None:
    assert len(campaign(text="x" * 1224).text) == 1224


def test_campaign_needs_at_least_one_recipient() -> None:
    with pytest.raises(ValidationError):
        campaign(recipients=[])


def test_campaign_accepts_more_than_500_recipients_for_the_client_to_split() -> None:
    many = [Recipient(phone_number=f"+3361{index:07d}") for index in range(501)]
    assert len(campaign(recipients=many).recipients) == 501


def test_batches_keep_up_to_500_recipients_in_one_body_with_request_id() -> None:
    many = [Recipient(phone_number=f"+3361{index:07d}") for index in range(500)]

    (body,) = campaign(recipients=many, request_id="r").batches()

    assert body["request_id"] == "r" and len(body["recipients"]) == 500


def test_batches_split_above_500_and_suffix_the_request_id() -> None:
    many = [Recipient(phone_number=f"+3361{index:07d}") for index in range(1000)]

    bodies = campaign(recipients=many, request_id="r").batches()

    assert [body["request_id"] for body in bodies] == ["r-1", "r-2"]
    assert bodies[1]["recipients"][0] == {"phone_number": "+33610000500"}
    assert campaign(recipients=many).batches()[0].keys() == campaign().to_json().keys()


@pytest.mark.parametrize("field", ["type", "purpose"])
def test_type_and_purpose_are_required(field: str) -> None:
    fields: dict[str, Any] = {
        "text": "hi",
        "recipients": [Recipient(phone_number=NUMBER)],
        "type": "sms_premium",
        "purpose": "alert",
    }
    del fields[field]
    with pytest.raises(ValidationError):
        SmsCampaign(**fields)


@pytest.mark.parametrize(("field", "value"), [("type", "sms"), ("purpose", "spam")])
def test_unknown_type_or_purpose_is_refused(field: str, value: str) -> None:
    with pytest.raises(ValidationError):
        campaign(**{field: value})


def test_unknown_field_is_refused_because_octopush_would_ignore_it() -> None:
    with pytest.raises(ValidationError, match="with_answers"):
        campaign(with_answers=True)


def test_campaign_is_frozen() -> None:
    with pytest.raises(ValidationError):
        campaign().text = "changed"  # type: ignore[misc]


@pytest.mark.parametrize("sender", ["AB", "TwelveChars1", "Café", "Ops-Team"])
def test_bad_sender_is_refused(sender: str) -> None:
    with pytest.raises(ValidationError, match="sender must be 3 to 11"):
        campaign(sender=sender)


@pytest.mark.parametrize("number", ["0612345678", "33612345678", "+33 6 12", "+0123"])
def test_recipient_number_must_be_international(number: str) -> None:
    with pytest.raises(ValidationError, match="international format"):
        Recipient(phone_number=number)


def test_recipient_dynamic_fields_are_limited_to_50_characters() -> None:
    assert Recipient(phone_number=NUMBER, param1="x" * 50).param1 == "x" * 50
    with pytest.raises(ValidationError):
        Recipient(phone_number=NUMBER, last_name="x" * 51)


@given(st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=1224))
def test_to_json_sends_the_stripped_text(text: str) -> None:
    if not text.strip():
        return
    assert campaign(text=text).to_json()["text"] == text.strip()


def test_result_reads_only_sms_ticket_and_ignores_unknown_fields() -> None:
    result = SmsCampaignResult.model_validate({"sms_ticket": "sms_1", "new": 1})

    assert result.tickets == ("sms_1",)
    assert result.number_of_sms_needed is None
    assert result.residual_credit is None


def test_result_without_sms_ticket_is_invalid() -> None:
    with pytest.raises(ValidationError):
        SmsCampaignResult.model_validate({"total_cost": 1.0})


def test_combine_sums_contacts_and_cost_and_keeps_first_and_last() -> None:
    parts = [
        SmsCampaignResult(
            sms_ticket="sms_a",
            number_of_contacts=500,
            number_of_sms_needed=1,
            total_cost=0.1,
            residual_credit=9.9,
        ),
        SmsCampaignResult(
            sms_ticket="sms_b",
            number_of_contacts=2,
            number_of_sms_needed=2,
            total_cost=0.2,
            residual_credit=9.7,
        ),
    ]

    combined = SmsCampaignResult.combine(parts)

    assert combined.sms_ticket == "sms_a"
    assert combined.tickets == ("sms_a", "sms_b")
    assert combined.number_of_contacts == 502
    assert combined.number_of_sms_needed == 2
    assert combined.total_cost == 0.3
    assert combined.residual_credit == 9.7


def test_combine_keeps_unknown_totals_unknown() -> None:
    parts = [SmsCampaignResult(sms_ticket="sms_a"), SmsCampaignResult(sms_ticket="b")]

    combined = SmsCampaignResult.combine(parts)

    assert combined.number_of_contacts is None
    assert combined.total_cost is None
    assert combined.number_of_sms_needed is None


def test_balance_ignores_wallet_packs() -> None:
    balance = Balance.model_validate(
        {"amount": 204, "unit": "sms_premium", "wallet_packs": [{"id": "p"}]}
    )
    assert balance == Balance(amount=204.0, unit="sms_premium")
