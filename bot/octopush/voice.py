"""The voice endpoint: ``POST /voice-campaign/send``, a text read aloud on a call.

Octopush's docs name this path (octopush-api.md, addendum (b)); the older PHP
example's ``vocal-campaign`` is not used. The answer's ticket field is
``vocal_ticket`` in the only example; ``voice_ticket`` and ``sms_ticket`` are read
too, since the live name is not confirmed.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .models import (
    MAX_RECIPIENTS_PER_REQUEST,
    MAX_TEXT_LENGTH,
    Purpose,
    Recipient,
    SmsCampaignResult,
)

#: Ticket field names a voice answer may use, in the order they are tried.
TICKET_FIELDS = ("vocal_ticket", "voice_ticket", "sms_ticket", "ticket")


class VoiceCampaign(BaseModel):
    """The body of ``POST /voice-campaign/send`` (one request: at most 500 numbers)."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    text: str = Field(min_length=1, max_length=MAX_TEXT_LENGTH)
    recipients: list[Recipient] = Field(
        min_length=1, max_length=MAX_RECIPIENTS_PER_REQUEST
    )
    purpose: Purpose
    #: ``fr-FR``, ``en-GB``…: the voice reading the text.
    voice_language: str = Field(pattern=r"^[a-z]{2}-[A-Z]{2}$")
    voice_gender: str | None = None
    sender: str | None = None
    simulation_mode: bool | None = None
    request_id: str | None = Field(default=None, min_length=1)

    def to_json(self) -> dict[str, Any]:
        """The JSON object sent on the wire: ``None`` fields left out."""
        return self.model_dump(mode="json", exclude_none=True)


class VoiceCampaignResult(SmsCampaignResult):
    """Octopush's answer to a call; its ticket is kept as ``sms_ticket`` so the audit
    record and the receipts read it like an SMS ticket. ``number_of_sms_needed`` is
    1 (one call per contact)."""

    @model_validator(mode="before")
    @classmethod
    def _voice_ticket(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        ticket = next(
            (data[k] for k in TICKET_FIELDS if isinstance(data.get(k), str)), None
        )
        if ticket is None:
            return data
        return {
            "number_of_sms_needed": 1,
            **data,
            "sms_ticket": ticket,
            "tickets": (ticket,),
        }


def voice_language(language: str) -> str:
    """The Octopush ``voice_language`` for a bot language (``fr`` → ``fr-FR``)."""
    return {"fr": "fr-FR", "en": "en-GB"}.get(language.split("-")[0].lower(), "en-GB")
