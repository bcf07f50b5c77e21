"""What the audit trail holds: a record per send attempt, and the two writes behind it.

An attempt is written as :class:`NewAttempt` before Octopush is called and finished
with :class:`AttemptResult` after, so a crash in between leaves a ``pending`` record.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from bot.domain import AuditStatus, Source
from bot.errors import AuditStoreError
from bot.i18n import Translatable

#: The audit record fields of the operator contract, in contract order.
CONTRACT_FIELDS: tuple[str, ...] = (
    "id",
    "created_at",
    "source",
    "slack_team_id",
    "slack_user_id",
    "slack_channel_id",
    "recipients",
    "text",
    "sender",
    "sms_type",
    "purpose",
    "send_at",
    "simulation",
    "request_id",
    "status",
    "sms_ticket",
    "number_of_contacts",
    "number_of_sms_needed",
    "total_cost",
    "residual_credit",
    "error_code",
    "error_message",
    "duration_ms",
)


class AuditRecord(BaseModel):
    """One send attempt as stored: times in aware UTC, ``text`` None when redacted."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: int
    created_at: AwareDatetime
    source: Source
    slack_team_id: str | None = None
    slack_user_id: str | None = None
    slack_channel_id: str | None = None
    #: E.164 numbers the attempt was for (as far as they could be read, when rejected).
    #: Kept out of ``repr`` with ``text``, so a logged record shows neither.
    recipients: list[str] = Field(repr=False)
    text: str | None = Field(default=None, repr=False)
    sender: str | None = None
    sms_type: str | None = None
    purpose: str | None = None
    send_at: AwareDatetime | None = None
    simulation: bool = False
    request_id: str
    status: AuditStatus
    sms_ticket: str | None = None
    number_of_contacts: int | None = None
    number_of_sms_needed: int | None = None
    total_cost: float | None = None
    residual_credit: float | None = None
    error_code: str | None = None
    error_message: str | None = None
    duration_ms: int | None = None
    # Not contract fields: kept for delivery receipts and crash recovery.
    completed_at: AwareDatetime | None = None
    #: Channel and ``ts`` of the Slack post showing the result, so it can be updated.
    slack_message_channel: str | None = None
    slack_message_ts: str | None = None
    #: The lease on a ``pending`` attempt: the process that holds it (sending it, or
    #: the sweep settling it) and until when; the sweep takes none still leased.
    claimed_by: str | None = None
    claimed_until: AwareDatetime | None = None
    #: The caller's ``--request-id`` when this attempt is one of several tried under it.
    request_key: str | None = None
    #: A cancelled scheduled send: when, by whom (Slack user id, or ``cli``), and
    #: whether Octopush gave its cost back (then the day's budget leaves it out).
    cancelled_at: AwareDatetime | None = None
    cancelled_by: str | None = None
    cancel_refunded: bool | None = None

    def contract_dict(self) -> dict[str, Any]:
        """The contract fields only, in contract order, ready for JSON or CSV output."""
        data = self.model_dump(mode="json", include=set(CONTRACT_FIELDS))
        return {name: data[name] for name in CONTRACT_FIELDS}


class NewAttempt(BaseModel):
    """A send attempt as recorded before anything is sent, or when it is refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: Source
    slack_team_id: str | None = None
    slack_user_id: str | None = None
    slack_channel_id: str | None = None
    recipients: tuple[str, ...] = Field(repr=False)
    text: str = Field(repr=False)
    sender: str | None = None
    sms_type: str | None = None
    purpose: str | None = None
    send_at: AwareDatetime | None = None
    simulation: bool = False
    #: Idempotency key; unique in the store, so a double submit finds the first attempt.
    request_id: str = Field(min_length=1, max_length=128)
    #: The caller's key of a group of attempts (``request_id`` is then derived from it).
    request_key: str | None = Field(default=None, max_length=128)


class AttemptResult(BaseModel):
    """How Octopush answered (``sent``) or why the attempt failed (``failed``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    status: Literal[AuditStatus.SENT, AuditStatus.FAILED]
    sms_ticket: str | None = None
    number_of_contacts: int | None = None
    number_of_sms_needed: int | None = None
    total_cost: float | None = None
    residual_credit: float | None = None
    error_code: str | None = None
    #: Kept translatable (:class:`bot.i18n.Deferred`); stored as its English text.
    error_message: Translatable | None = None
    duration_ms: int | None = None


class DuplicateAttemptError(AuditStoreError):
    """An attempt with this ``request_id`` is already recorded (a double submit)."""

    def __init__(self, existing: AuditRecord) -> None:
        #: The first attempt with this ``request_id``: answer the repeat with it.
        self.existing = existing
        self.audit_id = existing.id
        super().__init__(
            f"request_id {existing.request_id!r} is already audit record "
            f"{existing.id} ({existing.status})"
        )


class AlreadySettledError(AuditStoreError):
    """The attempt is no longer ``pending``: someone else (the sweep) settled it first."""

    def __init__(self, record_id: int, status: str) -> None:
        self.record_id = record_id
        self.status = status
        super().__init__(f"audit record {record_id} is already {status}, not pending")
