"""The SMS gateway's answer types as the surfaces see them.

Slack code names these instead of importing :mod:`bot.octopush` (the client stays a
separate layer that only the send path talks to).
"""

from __future__ import annotations

from bot.octopush import Balance, DeliveryStatus, OctopushError, describe_status

#: The gateway refused a request or could not be reached (``str(error)`` says why).
GatewayError = OctopushError

__all__ = ["Balance", "DeliveryStatus", "GatewayError", "describe_status"]
