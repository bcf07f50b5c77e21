"""Octopush's rules for cancelling a scheduled send, checked before asking it.

Octopush cancels a campaign only when it has fewer than 3 recipients, is still more
than 10 minutes ahead, and the API user made fewer than 1,000 cancels this month
(docs/octopush-api.md, 4.2). The *Cancel* button is offered only where these allow it,
and a cancel they forbid is answered in plain words without calling Octopush.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from bot.domain import AuditStatus
from bot.i18n import N_

#: A campaign must still be at least this far ahead to be cancelled.
MIN_LEAD = timedelta(minutes=10)
#: A campaign to this many recipients or more cannot be cancelled.
TOO_MANY_RECIPIENTS = 3
#: Cancels Octopush accepts per API user in a calendar month.
MONTHLY_CANCELS = 1000

NOT_SCHEDULED = N_("Only a scheduled send can be cancelled: this one went out at once.")
NOT_ACCEPTED = N_(
    "Only a scheduled send that Octopush accepted can be cancelled: this one was not."
)
SIMULATED = N_("This send was a simulation: nothing is waiting at Octopush to cancel.")
TOO_LATE = N_(
    "It is too late: Octopush cancels a send only more than 10 minutes before it "
    "goes out."
)
MONTH_USED_UP = N_(
    "Octopush allows 1,000 cancels a month and this month's are used up; the send "
    "will go out as planned."
)
NOT_YOURS = N_("Only the person who scheduled this send, or an admin, can cancel it.")


def too_many(count: int) -> str:
    """The refusal of a send to ``count`` recipients (Octopush: fewer than 3)."""
    return N_(
        "Octopush cancels only a send to 1 or 2 recipients; this one has %(count)s.",
        count=count,
    )


def cancel_obstacle(
    *,
    status: AuditStatus,
    send_at: datetime | None,
    ticket: str | None,
    simulation: bool,
    recipients: Sequence[str],
    now: datetime,
) -> str | None:
    """Why Octopush would refuse to cancel this send now (translatable), or None."""
    if send_at is None:
        return NOT_SCHEDULED
    if status is not AuditStatus.SENT or not ticket:
        return NOT_ACCEPTED
    if simulation:
        return SIMULATED
    if len(recipients) >= TOO_MANY_RECIPIENTS or "," in ticket:
        return too_many(len(recipients))
    if send_at - now <= MIN_LEAD:
        return TOO_LATE
    return None


def month_start(now: datetime) -> datetime:
    """The first instant of ``now``'s month in UTC (the month the quota counts)."""
    utc = now.astimezone(UTC)
    return utc.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
