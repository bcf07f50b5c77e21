"""Pydantic models for the Octopush v1 wire format.

Requests are frozen and refuse unknown fields, because Octopush silently ignores a
field it does not recognise: a typo here must fail loudly before anything is sent.
Responses ignore extra fields, because Octopush adds fields over time.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_serializer,
    field_validator,
    model_validator,
)

#: Recipients per request that Octopush accepts; the client splits bigger sends.
MAX_RECIPIENTS_PER_REQUEST = 500

#: Octopush's limit on an SMS text: 8 concatenated GSM-7 parts of 153 characters.
MAX_TEXT_LENGTH = 1224
#: A sender name Octopush shows instead of a number: 3-11 ASCII letters, digits, spaces.
SENDER_PATTERN = re.compile(r"^[A-Za-z0-9 ]{3,11}$")

_PHONE = re.compile(r"^\+[1-9][0-9]{5,14}$")

_N = TypeVar("_N", int, float)


class SmsType(StrEnum):
    """The route: ``sms_premium`` (fast, delivery reports) or ``sms_low_cost``."""

    PREMIUM = "sms_premium"
    LOW_COST = "sms_low_cost"
    #: Not an SMS route: a text read aloud by ``POST /voice-campaign/send``
    #: (:class:`VoiceCampaign`). The audit trail's ``sms_type`` of a call.
    VOICE = "voice"


class Purpose(StrEnum):
    """``alert`` (transactional, no STOP needed) or ``wholesale`` (marketing)."""

    ALERT = "alert"
    WHOLESALE = "wholesale"


class Recipient(BaseModel):
    """One contact; the optional fields fill ``{first_name}``-style placeholders."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    phone_number: str
    first_name: str | None = Field(default=None, max_length=50)
    last_name: str | None = Field(default=None, max_length=50)
    param1: str | None = Field(default=None, max_length=50)
    param2: str | None = Field(default=None, max_length=50)
    param3: str | None = Field(default=None, max_length=50)
    param4: str | None = Field(default=None, max_length=50)
    param5: str | None = Field(default=None, max_length=50)

    @field_validator("phone_number")
    @classmethod
    def _international(cls, value: str) -> str:
        if not _PHONE.match(value):
            raise ValueError(
                "phone_number must be in international format: '+', the country "
                "code, then the number, digits only (e.g. +33612345678)"
            )
        return value


class SmsCampaign(BaseModel):
    """The body of ``POST /sms-campaign/send``.

    ``purpose`` has no default on purpose: Octopush treats a missing purpose as
    marketing, which then needs "STOP au 30101" in the text.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    text: str = Field(min_length=1, max_length=MAX_TEXT_LENGTH)
    recipients: list[Recipient] = Field(min_length=1)
    type: SmsType
    purpose: Purpose
    sender: str | None = None
    send_at: datetime | None = None
    with_replies: bool | None = None
    simulation_mode: bool | None = None
    request_id: str | None = Field(default=None, min_length=1)
    auto_optimize_text: bool | None = None
    auto_remove_blacklisted_numbers: bool | None = None

    @field_validator("sender")
    @classmethod
    def _sender(cls, value: str | None) -> str | None:
        if value is not None and not SENDER_PATTERN.match(value):
            raise ValueError("sender must be 3 to 11 letters, digits or spaces")
        return value

    @field_validator("type")
    @classmethod
    def _sms_route(cls, value: SmsType) -> SmsType:
        if value is SmsType.VOICE:
            raise ValueError("a voice call is a VoiceCampaign, not an SMS campaign")
        return value

    @field_validator("send_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.utcoffset() is None:
            raise ValueError(
                "send_at must include a time zone offset, "
                "e.g. 2024-05-01T09:00:00+02:00"
            )
        return value

    @field_serializer("send_at")
    def _iso(self, value: datetime | None) -> str | None:
        # isoformat() keeps "+00:00" where pydantic would write "Z".
        return value.isoformat() if value is not None else None

    def to_json(self) -> dict[str, Any]:
        """The JSON object sent on the wire: ``None`` fields left out."""
        return self.model_dump(mode="json", exclude_none=True)

    def batches(self) -> list[dict[str, Any]]:
        """The bodies to send, at most 500 recipients each.

        When there is more than one, batch i (from 1) gets ``request_id`` ``R-i``:
        deterministic, so sending the same campaign again reuses the same keys.
        """
        body = self.to_json()
        everyone = body["recipients"]
        size = MAX_RECIPIENTS_PER_REQUEST
        if len(everyone) <= size:
            return [body]
        bodies = []
        for number, start in enumerate(range(0, len(everyone), size), start=1):
            batch = {**body, "recipients": everyone[start : start + size]}
            if self.request_id is not None:
                batch["request_id"] = f"{self.request_id}-{number}"
            bodies.append(batch)
        return bodies


class SmsCampaignResult(BaseModel):
    """What Octopush answers to a successful send (only ``sms_ticket`` is certain).

    ``number_of_sms_needed`` is read as SMS segments per contact; the docs do not
    confirm whether it is per contact or a total.
    """

    model_config = ConfigDict(extra="ignore")

    sms_ticket: str
    number_of_contacts: int | None = None
    number_of_sms_needed: int | None = None
    total_cost: float | None = None
    residual_credit: float | None = None
    #: Every ticket when the send was split in batches; ``(sms_ticket,)`` otherwise.
    tickets: tuple[str, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _default_tickets(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("tickets"):
            ticket = data.get("sms_ticket")
            if isinstance(ticket, str):
                return {**data, "tickets": (ticket,)}
        return data

    @classmethod
    def combine(cls, results: Sequence[SmsCampaignResult]) -> SmsCampaignResult:
        """One result for a send split in batches (``results`` in sending order).

        Contacts and cost are summed; ``residual_credit`` is the last batch's;
        ``sms_ticket`` is the first ticket. ``number_of_sms_needed`` is what one
        request for every recipient would have said: the docs leave open whether it
        is per contact or a total, but a first batch of 500 contacts answering 500 or
        more can only be counting them all, so the batches' totals are summed;
        otherwise the value is per contact, the same for each batch (the largest).
        """
        if not results:
            raise ValueError("combine() needs at least one result")
        needed = [r.number_of_sms_needed for r in results]
        return cls(
            sms_ticket=results[0].sms_ticket,
            tickets=tuple(ticket for r in results for ticket in r.tickets),
            number_of_contacts=_total([r.number_of_contacts for r in results]),
            number_of_sms_needed=(
                _total(needed)
                if _counts_totals(results[0])
                else max((n for n in needed if n is not None), default=None)
            ),
            total_cost=_total([r.total_cost for r in results]),
            residual_credit=results[-1].residual_credit,
        )


def _counts_totals(first: SmsCampaignResult) -> bool:
    """Whether a batch's ``number_of_sms_needed`` counts every contact's SMS."""
    contacts, needed = first.number_of_contacts, first.number_of_sms_needed
    return bool(contacts and contacts > 1 and needed and needed >= contacts)


def _total(values: Sequence[_N | None]) -> _N | None:
    present = [value for value in values if value is not None]
    if not present:
        return None
    total = sum(present[1:], present[0])
    return round(total, 6) if isinstance(total, float) else total


class Balance(BaseModel):
    """The credit left, from ``GET /wallet/check-balance`` (e.g. 12.54 euros)."""

    model_config = ConfigDict(extra="ignore")

    amount: float
    unit: str
