"""The SMS gateway's answer types as the surfaces see them.

Slack code names these instead of importing :mod:`bot.octopush` (the client stays a
separate layer that only the send path talks to).
"""

from __future__ import annotations

from bot.i18n import N_
from bot.i18n.octopush_hints import octopush_message
from bot.octopush import (
    Balance,
    DeliveryReceipt,
    DeliveryStatus,
    OctopushError,
    describe_status,
)

#: The gateway refused a request or could not be reached (``str(error)`` says why).
GatewayError = OctopushError


def gateway_error_text(error: GatewayError) -> str:
    """``str(error)`` (``[code] message``), translatable where the client wrote it."""
    message = octopush_message(error)
    if not error.code:
        return message
    return N_("[%(code)s] %(message)s", code=error.code, message=message)


__all__ = [
    "Balance",
    "DeliveryReceipt",
    "DeliveryStatus",
    "GatewayError",
    "describe_status",
    "gateway_error_text",
]
