"""The simulator's scheduled campaigns, and their cancellation by Octopush's rules.

``DELETE /sms-campaign/cancel`` (``ticket_number``) answers 204 for a scheduled
campaign to fewer than 3 recipients still more than 10 minutes ahead, at most 1,000
times a calendar month; the SMS then never reaches the phones and its cost is
credited back. Anything else is a 400 with the reason, as Octopush would refuse it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

CANCEL_PATH = "/sms-campaign/cancel"
MIN_LEAD = timedelta(minutes=10)
MONTHLY_CANCELS = 1000

Answer = tuple[int, dict[str, Any]]


@dataclass
class ScheduledCampaign:
    """A campaign waiting for its time: the timer that delivers it, and its cost."""

    send_at: datetime
    recipients: int
    cost: float
    timer: threading.Timer


class ScheduledCampaigns:
    """The campaigns not sent yet, by ticket; thread-safe."""

    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self._clock = clock or (lambda: datetime.now(UTC))
        self._lock = threading.Lock()
        self._waiting: dict[str, ScheduledCampaign] = {}
        self._cancels: dict[tuple[int, int], int] = {}

    def keep(self, ticket: str, campaign: ScheduledCampaign) -> None:
        with self._lock:
            self._waiting[ticket] = campaign

    def went_out(self, ticket: str) -> None:
        with self._lock:
            self._waiting.pop(ticket, None)

    def cancel(self, raw: bytes) -> tuple[Answer, float]:
        """Octopush's answer to a cancel request, and the credit it gives back."""
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = None
        ticket = body.get("ticket_number") if isinstance(body, dict) else None
        if not isinstance(ticket, str) or not ticket:
            return _refused("ticket_number is missing."), 0.0
        now = self._clock()
        month = (now.year, now.month)
        with self._lock:
            campaign = self._waiting.get(ticket)
            if campaign is None:
                return _refused(
                    "No waiting or scheduled campaign has this ticket."
                ), 0.0
            if campaign.recipients >= 3:
                return _refused("Only a campaign to fewer than 3 recipients."), 0.0
            if campaign.send_at - now <= MIN_LEAD:
                return _refused("Only more than 10 minutes before sending."), 0.0
            if self._cancels.get(month, 0) >= MONTHLY_CANCELS:
                return _refused("1000 cancel requests this month already."), 0.0
            campaign.timer.cancel()
            del self._waiting[ticket]
            self._cancels[month] = self._cancels.get(month, 0) + 1
        return (204, {}), campaign.cost


def _refused(message: str) -> Answer:
    return 400, {
        "code": 100,
        "message": f"This campaign cannot be cancelled. {message}",
    }
