"""Value types shared by every layer: what a send is, who asked for it, how it ended."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

#: Octopush's limit on an SMS text: 8 concatenated GSM-7 parts of 153 characters.
#: (``bot.octopush`` keeps its own copy, being publishable alone; a test ties the two.)
MAX_TEXT_LENGTH = 1224
#: A sender name Octopush shows instead of a number: 3-11 ASCII letters, digits, spaces.
SENDER_PATTERN = re.compile(r"^[A-Za-z0-9 ]{3,11}$")
#: Words ``/sms`` reads as sub-commands, so they can never be directory names.
COMMAND_WORDS = frozenset({"form", "help", "balance", "history", "page", "oncall"})


class SmsType(StrEnum):
    """Octopush route: premium is fast, with delivery receipts; low cost may lag hours."""

    PREMIUM = "sms_premium"
    LOW_COST = "sms_low_cost"


class Purpose(StrEnum):
    """Octopush purpose: ``wholesale`` is marketing and needs the STOP mention."""

    ALERT = "alert"
    WHOLESALE = "wholesale"


class Source(StrEnum):
    """Where a send attempt came from (audit field ``source``)."""

    SLASH = "slash"
    MODAL = "modal"
    SHORTCUT = "shortcut"
    CLI = "cli"
    PAGE = "page"
    #: The system's own page sends (escalations, failovers): not any person's.
    ESCALATION = "escalation"


class AuditStatus(StrEnum):
    """Life of an audit record: ``pending`` is written before Octopush is called."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    REJECTED = "rejected"


_DOMAIN = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class Actor(BaseModel):
    """Who asked for a send, and from where; Slack ids are empty for the CLI."""

    model_config = _DOMAIN

    source: Source
    slack_team_id: str | None = None
    slack_user_id: str | None = None
    slack_channel_id: str | None = None


class SendDraft(BaseModel):
    """A send as a person typed it, before any rule ran.

    ``recipients`` holds raw tokens (numbers in any form, directory names, mention ids);
    ``None`` fields fall back to the defaults from settings.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    recipients: tuple[str, ...]
    text: str
    sender: str | None = None
    sms_type: SmsType | None = None
    purpose: Purpose | None = None
    send_at: datetime | None = None
    with_replies: bool = False
    simulation: bool = False
    #: Idempotency key chosen by the caller (e.g. from a Slack interaction), or None.
    request_id: str | None = None


class SendRequest(BaseModel):
    """A send that passed every message rule: numbers in E.164, defaults applied."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    recipients: tuple[str, ...] = Field(min_length=1)
    text: str
    sender: str | None
    sms_type: SmsType
    purpose: Purpose
    send_at: datetime | None = None
    with_replies: bool = False
    simulation: bool = False


class SendOutcome(BaseModel):
    """How a send attempt ended, as recorded in the audit trail."""

    model_config = ConfigDict(frozen=True)

    audit_id: int
    request_id: str
    status: AuditStatus
    request: SendRequest
    sms_ticket: str | None = None
    number_of_contacts: int | None = None
    number_of_sms_needed: int | None = None
    total_cost: float | None = None
    residual_credit: float | None = None
    error_code: str | None = None
    error_message: str | None = None
    #: What a person can do about the error, in plain words.
    error_hint: str | None = None
    #: True when Octopush may have queued the SMS although we saw no answer.
    maybe_sent: bool = False
    duration_ms: int | None = None
    #: True when this is the recorded result of an earlier attempt with this request id.
    duplicate: bool = False

    @property
    def ok(self) -> bool:
        return self.status is AuditStatus.SENT
