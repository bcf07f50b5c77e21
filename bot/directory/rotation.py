"""On-call rotations: whose turn it is at a given instant, and who comes next.

Two kinds of period, because people mean two different things:

* ``daily`` and ``weekly`` are *calendar* periods. Hand-overs happen at the same local
  wall-clock time as ``start`` (09:00 stays 09:00) in the rotation's zone: the IANA
  zone named by ``timezone`` (``Europe/Paris``), else ``start``'s own ``tzinfo`` (a
  fixed UTC offset when read from YAML). With a named zone a daylight-saving change
  makes that turn an hour shorter or longer instead of moving the hand-over hour. A
  wall-clock hand-over that falls in a DST gap happens at the instant that wall time
  would have had before the change; one that occurs twice happens at the first.
* Durations (``12h``, ``30m``, ``2d``, ``1h30m``) are *exact* elapsed time: every turn
  lasts exactly the period, whatever the clocks do.

Turns extend backwards from ``start`` too (turn -1 belongs to the last member), so
every instant has exactly one member on call and the arithmetic never special-cases
the past. All times given must be timezone-aware; times returned carry the fixed UTC
offset the rotation's zone has at that instant, so they print as local time and stay
safe to compare and subtract.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from datetime import timezone as fixed_offset
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale
from babel.dates import format_date

from bot.i18n import N_

_DURATION = re.compile(
    r"^(?:(?P<w>\d{1,6})w)?(?:(?P<d>\d{1,6})d)?(?:(?P<h>\d{1,8})h)?"
    r"(?:(?P<m>\d{1,10})m)?(?:(?P<s>\d{1,12})s)?$"
)
_UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes", "s": "seconds"}
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_CALENDAR = {"daily": timedelta(days=1), "weekly": timedelta(weeks=1)}
#: Longer periods are typos, and would overflow ``datetime`` in the arithmetic.
LONGEST = timedelta(days=366)
START_EXAMPLE = "2026-11-02T09:00:00+01:00"
#: ``SMS_TIMEZONE``'s default: the zone of rotations whose file names none.
DEFAULT_TIMEZONE = "Europe/Paris"
ACCEPTED = N_(
    "daily, weekly, or a number and unit such as 12h, 30m, 90s, 2d, 1w or 1h30m"
)


def parse_duration(text: str) -> timedelta:
    """Read ``daily``, ``weekly``, ``12h``, ``30m``, ``90s``, ``2d``, ``1w`` or ``1h30m``.

    Raises:
        ValueError: naming ``text`` and the accepted forms, for anything else,
            including zero, negative and longer than :data:`LONGEST` durations.
    """
    word = re.sub(r"\s+", "", str(text)).lower()
    if word in _CALENDAR:
        return _CALENDAR[word]
    match = _DURATION.match(word)
    if not word or match is None:
        raise ValueError(
            N_(
                "'%(text)s' is not a duration; write %(accepted)s",
                text=text,
                accepted=ACCEPTED,
            )
        )
    parts = {_UNITS[unit]: int(n) for unit, n in match.groupdict().items() if n}
    duration = timedelta(**parts)
    if duration <= timedelta(0):
        raise ValueError(
            N_("'%(text)s' is zero; a duration must be longer than zero", text=text)
        )
    if duration > LONGEST:
        raise ValueError(
            N_("'%(text)s' is too long; the longest duration is 366d", text=text)
        )
    return duration


def parse_period(text: str) -> tuple[timedelta, bool]:
    """Read a ``rotation:`` value: the period, and whether it is a calendar period.

    Raises:
        ValueError: as :func:`parse_duration`.
    """
    period = parse_duration(text)
    return period, str(text).strip().lower() in _CALENDAR


def parse_start(text: str, timezone: str | None = None) -> datetime:
    """Read a ``start:``: ISO 8601 with a UTC offset; without one, in ``timezone``.

    Raises:
        ValueError: naming ``text`` when it is not a time, has no offset and no
            ``timezone`` is given, or has an offset ``timezone`` does not have then.
    """
    try:
        start = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            N_(
                "'%(text)s' is not a time; write %(example)s",
                text=text,
                example=START_EXAMPLE,
            )
        ) from None
    offset = start.utcoffset()
    if timezone is None:
        if offset is None:
            raise ValueError(
                N_(
                    "'%(text)s' has no UTC offset; write %(example)s or add timezone:",
                    text=text,
                    example=START_EXAMPLE,
                )
            )
        return start
    zone = load_zone(timezone)
    if offset is None:
        return start.replace(tzinfo=zone)
    expected = start.astimezone(zone).utcoffset()
    if offset != expected:
        raise ValueError(
            N_(
                "'%(text)s' has UTC offset %(offset)s but %(zone)s is at "
                "%(expected)s then; fix the offset or leave it out",
                text=text,
                offset=_offset(offset),
                zone=timezone,
                expected=_offset(expected),
            )
        )
    return start


def format_duration(duration: timedelta) -> str:
    """``timedelta(hours=1, minutes=30)`` → ``1h30m``: the form :func:`parse_duration` reads."""
    seconds = int(duration.total_seconds())
    out = ""
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            out += f"{count}{unit}"
    return out or "0s"


@dataclass(frozen=True)
class Shift:
    """One member's turn: ``starts_at <= t < ends_at``; ``index`` counts from ``start``."""

    member: str
    starts_at: datetime
    ends_at: datetime
    index: int


@dataclass(frozen=True)
class Rotation:
    """A group whose members take turns, one at a time (see the module docstring)."""

    name: str
    members: tuple[str, ...]
    period: timedelta
    #: When turn 0 (the first member's) began. Must be timezone-aware.
    start: datetime
    #: Page the next member when nobody acknowledges within this; ``None``: never.
    escalate_after: timedelta | None = None
    #: True for ``daily``/``weekly``: hand-overs keep their local wall-clock time.
    calendar_days: bool = False
    #: IANA zone of the hand-overs (``Europe/Paris``); ``None``: ``start``'s tzinfo.
    timezone: str | None = None
    #: Call the member on call (Octopush voice) when their page SMS is not
    #: acknowledged within this; ``None``: never called.
    call_after: timedelta | None = None

    def __post_init__(self) -> None:
        # Programming errors: the file reader refuses each of these first, in words
        # a reader can translate, so these stay English.
        if not self.members:
            raise ValueError(f"rotation {self.name!r} has no members")
        if self.start.utcoffset() is None:
            raise ValueError(f"rotation {self.name!r}: start must have a UTC offset")
        if self.period <= timedelta(0):
            raise ValueError(f"rotation {self.name!r}: the period must be positive")
        if self.calendar_days and self.period % timedelta(days=1):
            raise ValueError(f"rotation {self.name!r}: a calendar period is whole days")
        if self.escalate_after is not None and self.escalate_after <= timedelta(0):
            raise ValueError(f"rotation {self.name!r}: escalate_after must be positive")
        if self.call_after is not None and self.call_after <= timedelta(0):
            raise ValueError(f"rotation {self.name!r}: call_after must be positive")
        if self.timezone is not None:
            load_zone(self.timezone)

    @property
    def zone(self) -> tzinfo:
        """The zone hand-overs are reckoned and shown in."""
        if self.timezone is not None:
            return load_zone(self.timezone)
        zone = self.start.tzinfo
        return zone if zone is not None else UTC

    @property
    def period_text(self) -> str:
        """``daily``, ``weekly`` or a duration such as ``12h``, as written in the file."""
        for word, period in _CALENDAR.items():
            if self.calendar_days and self.period == period:
                return word
        return format_duration(self.period)

    def local(self, at: datetime) -> datetime:
        """``at`` in the rotation's zone, for display (``tzname()`` gives ``CET``)."""
        return _utc(at).astimezone(self.zone)

    def format_time(self, at: datetime, locale: Locale | None = None) -> str:
        """``Mon 2026-11-09 09:00 CET``: ``at`` in the rotation's zone, day first.

        The day is abbreviated in ``locale``'s language (``lun.``), English without one.
        """
        local = self.local(at)
        day = (
            _DAYS[local.weekday()]
            if locale is None or locale.language == "en"
            else format_date(local, "EEE", locale=locale)
        )
        return f"{day} {local:%Y-%m-%d %H:%M} {local.tzname()}"

    def on_call(self, at: datetime) -> str:
        """The member whose turn contains ``at``."""
        return self.shift(at).member

    def shift(self, at: datetime) -> Shift:
        """The turn that contains ``at``."""
        return self._shift(self._index(_utc(at)))

    def next_shift(self, at: datetime) -> Shift:
        """The turn after the one that contains ``at``."""
        return self._shift(self._index(_utc(at)) + 1)

    def handovers(self, at: datetime, count: int = 3) -> list[Shift]:
        """The next ``count`` turns after the one containing ``at``, in order."""
        first = self._index(_utc(at)) + 1
        return [self._shift(first + step) for step in range(count)]

    def escalation_order(self, at: datetime) -> list[str]:
        """Who to page, in order: the member on call at ``at``, then the next ones, once."""
        first = self._index(_utc(at))
        order: dict[str, None] = {}
        for step in range(len(self.members)):
            order[self.members[(first + step) % len(self.members)]] = None
        return list(order)

    def _shift(self, index: int) -> Shift:
        member = self.members[index % len(self.members)]
        starts, ends = self._boundary(index), self._boundary(index + 1)
        return Shift(member, self._fixed(starts), self._fixed(ends), index)

    def _index(self, at: datetime) -> int:
        """The turn containing the UTC instant ``at``."""
        start = _utc(self.start)
        if not self.calendar_days:
            return (at - start) // self.period
        wall = at.astimezone(self.zone).replace(tzinfo=None)
        index = (wall - self._start_wall()) // self.period  # off by one at most
        while self._boundary(index) > at:
            index -= 1
        while self._boundary(index + 1) <= at:
            index += 1
        return index

    def _boundary(self, index: int) -> datetime:
        """The UTC instant turn ``index`` begins."""
        if not self.calendar_days:
            return _utc(self.start) + index * self.period
        wall = self._start_wall() + index * self.period
        return wall.replace(tzinfo=self.zone, fold=0).astimezone(UTC)

    def _start_wall(self) -> datetime:
        return _utc(self.start).astimezone(self.zone).replace(tzinfo=None)

    def _fixed(self, at: datetime) -> datetime:
        """The UTC instant ``at`` as local time with a fixed offset (safe arithmetic)."""
        local = at.astimezone(self.zone)
        offset = local.utcoffset()
        return local.replace(tzinfo=fixed_offset(offset or timedelta()))


def load_zone(name: str) -> ZoneInfo:
    """The IANA zone ``name`` (``Europe/Paris``).

    Raises:
        ValueError: naming ``name`` when no such zone is installed.
    """
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(
            N_(
                "'%(name)s' is not a time zone; write an IANA name such as Europe/Paris",
                name=name,
            )
        ) from None


def _utc(at: datetime) -> datetime:
    if at.utcoffset() is None:
        raise ValueError(
            f"{at.isoformat()} has no UTC offset; rotations need aware times"
        )
    return at.astimezone(UTC)


def _offset(offset: timedelta | None) -> str:
    minutes = int((offset or timedelta()).total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
