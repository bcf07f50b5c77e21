"""Choices carried by a button's ``value``, sealed so they come back exactly as offered.

A question asked before a send (which recipients? send this large batch?) must survive a
restart and be answerable from any instance, so nothing about it is kept in memory: the
button carries the send itself, with an HMAC keyed by the app's secret. A value that was
altered, or sealed by another deployment, reads as ``None``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from bot.config import Settings

#: Slack's limit on a button's ``value``.
BUTTON_VALUE_MAX = 2000
_MAC_CHARS = 32


def button_key(settings: Settings) -> bytes:
    """A key derived from the signing secret (or the bot token in Socket Mode)."""
    secret = settings.slack.signing_secret or settings.slack.bot_token
    raw = secret.get_secret_value() if secret is not None else ""
    return hashlib.sha256(b"sms-bot button value\x00" + raw.encode()).digest()


def seal(data: Mapping[str, Any], key: bytes) -> str | None:
    """``data`` as a button value, or ``None`` when it would exceed Slack's limit."""
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    value = f"{_mac(body, key)}.{body}"
    return value if len(value) <= BUTTON_VALUE_MAX else None


def unseal(value: str, key: bytes) -> dict[str, Any] | None:
    """The data :func:`seal` put in ``value``; ``None`` when altered or unreadable."""
    mac, _, body = value.partition(".")
    if not body or not hmac.compare_digest(mac, _mac(body, key)):
        return None
    try:
        data = json.loads(body)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _mac(body: str, key: bytes) -> str:
    return hmac.new(key, body.encode(), hashlib.sha256).hexdigest()[:_MAC_CHARS]
