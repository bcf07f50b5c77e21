"""Choices carried by a button's ``value``, sealed so they come back exactly as offered.

A question asked before a send (which recipients? send this large batch?) must survive a
restart and be answerable from any instance, so nothing about it is kept in memory: the
button carries the send itself, with an HMAC keyed by the app's secret. The seal also
holds whom the question was asked and until when: a press by anyone else, or after
that, sends nothing. A value that was altered, or sealed by another deployment, reads as
:attr:`Refused.ALTERED`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from bot.config import Settings

#: Slack's limit on a button's ``value``.
BUTTON_VALUE_MAX = 2000
#: How long a question can be answered: as long as Slack keeps its ``response_url``.
SEAL_SECONDS = 30 * 60
_MAC_CHARS = 32
_USER, _EXPIRES = "_u", "_x"


class Refused(StrEnum):
    """Why a sealed value cannot be used."""

    ALTERED = "altered"
    EXPIRED = "expired"
    NOT_YOURS = "not yours"


def button_key(settings: Settings) -> bytes:
    """A key derived from the signing secret (or the bot token in Socket Mode)."""
    secret = settings.slack.signing_secret or settings.slack.bot_token
    raw = secret.get_secret_value() if secret is not None else ""
    return hashlib.sha256(b"sms-bot button value\x00" + raw.encode()).digest()


def seal(
    data: Mapping[str, Any],
    key: bytes,
    *,
    user: str | None,
    now: float | None = None,
) -> str | None:
    """``data`` as a button value only ``user`` may use, for :data:`SEAL_SECONDS`.

    ``None`` when it would exceed Slack's limit.
    """
    issued = time.time() if now is None else now
    bound = {**data, _USER: user or "", _EXPIRES: int(issued) + SEAL_SECONDS}
    body = json.dumps(bound, ensure_ascii=False, separators=(",", ":"))
    value = f"{_mac(body, key)}.{body}"
    return value if len(value) <= BUTTON_VALUE_MAX else None


def unseal(
    value: str, key: bytes, *, user: str | None, now: float | None = None
) -> dict[str, Any] | Refused:
    """The data :func:`seal` put in ``value``, if ``user`` may use it now."""
    mac, _, body = value.partition(".")
    if not body or not hmac.compare_digest(mac, _mac(body, key)):
        return Refused.ALTERED
    try:
        data = json.loads(body)
    except ValueError:
        return Refused.ALTERED
    if not isinstance(data, dict):
        return Refused.ALTERED
    owner, expires = data.pop(_USER, None), data.pop(_EXPIRES, None)
    if not isinstance(owner, str) or not isinstance(expires, int):
        return Refused.EXPIRED  # sealed by a release that did not bind its questions
    if not owner or owner != (user or ""):
        return Refused.NOT_YOURS
    if (time.time() if now is None else now) > expires:
        return Refused.EXPIRED
    return data


def _mac(body: str, key: bytes) -> str:
    return hmac.new(key, body.encode(), hashlib.sha256).hexdigest()[:_MAC_CHARS]
