"""What ``sms-bot directory check`` prints: counts, then each rotation's turns."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Protocol

from bot.directory.model import Directory
from bot.directory.rotation import format_duration

#: How many upcoming hand-overs the report lists per rotation.
HANDOVERS_SHOWN = 3


class Cover(Protocol):
    """An override in force (see :mod:`bot.audit.overrides`)."""

    @property
    def person(self) -> str: ...

    @property
    def ends_at(self) -> datetime: ...


def check_report(
    directory: Directory,
    at: datetime,
    *,
    overrides: Mapping[str, Cover] | None = None,
) -> str:
    """Counts, then per rotation: who is on call now (or covers), the next hand-overs."""
    counts = [
        _count(len(directory.people), "person", "people"),
        _count(len(directory.groups), "group", "groups"),
        _count(len(directory.rotations), "rotation", "rotations"),
    ]
    lines = [f"Directory OK: {', '.join(counts)}."]
    for oncall in directory.oncall_summary(at):
        rotation = oncall.rotation
        handover = rotation.format_time(oncall.handover)
        about = [
            rotation.period_text,
            str(rotation.timezone or rotation.local(at).tzname()),
        ]
        if rotation.escalate_after is not None:
            about.append(f"escalates after {format_duration(rotation.escalate_after)}")
        lines += [
            f"{rotation.name} ({', '.join(about)})",
            f"  now:  {oncall.now.member}, until {handover}",
            f"  next: {oncall.next.member}, from {handover}",
        ]
        cover = (overrides or {}).get(rotation.name)
        if cover is not None:
            until = rotation.format_time(cover.ends_at)
            lines.append(f"  override: {cover.person} covers until {until}")
        lines.append("  hand-overs:")
        lines += [
            f"    {rotation.format_time(shift.starts_at)} -> {shift.member}"
            for shift in rotation.handovers(at, HANDOVERS_SHOWN)
        ]
    return "\n".join(lines)


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"
