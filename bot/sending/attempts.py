"""What the audit trail is told about an attempt before Octopush is called."""

from __future__ import annotations

import hashlib
import uuid

from bot.audit import NewAttempt
from bot.domain import Actor, SendDraft, SendRequest
from bot.sending.rules import SendDefaults

#: The longest ``request_id`` the audit trail keeps (its column is 128 characters).
REQUEST_ID_MAX = 128
#: What :func:`rejected_request_id` appends (``~rejected-`` and 8 hex digits).
_REJECTED_SUFFIX = 18


def new_request_id() -> str:
    """A fresh idempotency key for Octopush (``request_id``), unique per attempt."""
    return f"smsbot-{uuid.uuid4().hex}"


def rejected_request_id(request_id: str) -> str:
    """A refused attempt never reached Octopush: it gets its own key, so the same
    interaction can still be sent once the person fixes the input."""
    kept = request_id[: REQUEST_ID_MAX - _REJECTED_SUFFIX]
    return f"{kept}~rejected-{uuid.uuid4().hex[:8]}"


def retry_request_id(key: str, number: int) -> str:
    """The Octopush ``request_id`` of attempt ``number`` (2, 3, ...) under ``key``.

    ``key#2``, ``key#3``...: a fresh id, so Octopush does not answer "duplicate" to a
    retry of an attempt that never went out. A key too long for the suffix keeps its
    start and a digest of the whole, so two keys never share a derived id.
    """
    suffix = f"#{number}"
    if len(key) + len(suffix) <= REQUEST_ID_MAX:
        return key + suffix
    digest = hashlib.blake2b(key.encode(), digest_size=8).hexdigest()
    kept = key[: REQUEST_ID_MAX - len(suffix) - len(digest) - 1]
    return f"{kept}~{digest}{suffix}"


def new_attempt(
    request: SendRequest,
    actor: Actor,
    request_id: str,
    *,
    request_key: str | None = None,
) -> NewAttempt:
    """The audit record's fields for ``request`` sent by ``actor``."""
    return NewAttempt(
        source=actor.source,
        slack_team_id=actor.slack_team_id,
        slack_user_id=actor.slack_user_id,
        slack_channel_id=actor.slack_channel_id,
        recipients=request.recipients,
        text=request.text,
        sender=request.sender,
        sms_type=request.sms_type.value,
        purpose=request.purpose.value,
        send_at=request.send_at,
        simulation=request.simulation,
        request_id=request_id,
        request_key=request_key,
    )


def as_typed(
    draft: SendDraft, defaults: SendDefaults, *, force_simulation: bool
) -> SendRequest:
    """The draft as a request without validation: a refusal keeps what was typed."""
    return SendRequest.model_construct(
        recipients=tuple(draft.recipients),
        text=draft.text,
        sender=draft.sender,
        sms_type=draft.sms_type or defaults.sms_type,
        purpose=draft.purpose or defaults.purpose,
        send_at=draft.send_at,
        with_replies=draft.with_replies,
        simulation=draft.simulation or force_simulation,
    )
