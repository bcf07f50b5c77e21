"""Value types shared by every layer: what a send is, who asked for it, how it ended.

``SmsType`` (the route) and ``Purpose`` are Octopush's own words, defined once in
:mod:`bot.octopush.models` and re-exported here. The client must import nothing from
``bot`` (it is publishable on its own), so the definition lives with it and the rest of
the bot takes it from here; the import contracts keep ``bot.octopush`` at the floor.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from bot.i18n import Translatable

# Octopush's own limits, defined once by the client that enforces them: the text
# length (8 concatenated GSM-7 parts of 153 characters) and the sender name pattern.
from bot.octopush.models import MAX_TEXT_LENGTH as MAX_TEXT_LENGTH
from bot.octopush.models import SENDER_PATTERN as SENDER_PATTERN
from bot.octopush.models import Purpose as Purpose
from bot.octopush.models import SmsType as SmsType

#: Words ``/sms`` reads as sub-commands, so they can never be directory names.
COMMAND_WORDS = frozenset(
    {"form", "help", "balance", "history", "page", "oncall", "cancel"}
)


class Source(StrEnum):
    """Where a send attempt came from (audit field ``source``)."""

    SLASH = "slash"
    MODAL = "modal"
    SHORTCUT = "shortcut"
    CLI = "cli"
    PAGE = "page"
    #: The system's own page sends (escalations, failovers): not any person's.
    ESCALATION = "escalation"
    #: A Workflow Builder step, run as the person the workflow names (``requested_by``).
    WORKFLOW = "workflow"


class AuditStatus(StrEnum):
    """Life of an audit record: ``pending`` is written before Octopush is called."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    REJECTED = "rejected"
    #: A scheduled send taken back at Octopush before it went out (``/sms cancel``).
    CANCELLED = "cancelled"


_RATE = re.compile(r"^\s*(\d+)\s*/\s*(minute|hour|day)\s*$")
_PERIOD_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


@dataclass(frozen=True)
class RateLimit:
    """At most ``count`` sends per ``period_seconds`` (``SMS_RATE_LIMIT``, per user)."""

    count: int
    period_seconds: int
    text: str

    @classmethod
    def parse(cls, value: str) -> RateLimit:
        """``"30/hour"`` (N/minute, N/hour or N/day); raises ``ValueError`` otherwise."""
        match = _RATE.match(value)
        if not match:
            raise ValueError("must look like 30/hour (N/minute, N/hour or N/day)")
        return cls(int(match.group(1)), _PERIOD_SECONDS[match.group(2)], value.strip())


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
    #: Kept translatable (:class:`bot.i18n.Deferred`) when the bot wrote it.
    error_message: Translatable | None = None
    #: What a person can do about the error, in plain words.
    error_hint: Translatable | None = None
    #: True when Octopush may have queued the SMS although we saw no answer.
    maybe_sent: bool = False
    duration_ms: int | None = None
    #: True when this is the recorded result of an earlier attempt with this request id.
    duplicate: bool = False
    #: Where the send came from (the metrics label), when known.
    source: Source | None = None
    #: What failed after Octopush was called (completing the audit record...), in words:
    #: shown with the result, so nobody resends an SMS that went out. Deferred texts
    #: (:mod:`bot.i18n`) stay as given, so they stay translatable.
    problems: tuple[Translatable, ...] = ()
    #: Who cancelled a scheduled send (a Slack user id, or None from the CLI), and when.
    cancelled_by: str | None = None
    cancelled_at: datetime | None = None

    @property
    def ok(self) -> bool:
        return self.status is AuditStatus.SENT
