"""Whom a page goes to, in order: an override first, then the rotation from its on-call member."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.directory.model import Directory

#: ``override(rotation, at)``: who covers ``rotation`` at ``at``, if anyone.
OverrideLookup = Callable[[str, datetime], str | None]


@dataclass(frozen=True)
class PagePlan:
    """The members to text in turn and how long each has to acknowledge."""

    target: str
    members: tuple[str, ...]
    escalate_after: timedelta | None
    #: True for a rotation: a member who cannot be texted passes the page on.
    rotation: bool
    #: Who covers the rotation by an override, when someone does.
    override: str | None = None
    #: When the member on call is called if the page SMS is not acknowledged.
    call_after: timedelta | None = None


def plan_page(
    directory: Directory,
    who: str,
    *,
    at: datetime,
    override: OverrideLookup | None = None,
) -> PagePlan:
    """A rotation gives its override (if any), its on-call member, then the others in
    turn; a group or a person is paged at once, with nobody to escalate to."""
    name = who.strip().lower()
    rotation = directory.rotations.get(name)
    if rotation is None:
        target = name if directory.is_name(who) else who
        return PagePlan(target, (target,), None, rotation=False)
    order = rotation.escalation_order(at)
    covering = override(name, at) if override is not None else None
    if covering is not None:
        order = [covering, *(member for member in order if member != covering)]
    return PagePlan(
        name,
        tuple(order),
        rotation.escalate_after,
        True,
        covering,
        rotation.call_after,
    )
