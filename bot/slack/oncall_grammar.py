"""``/sms oncall …``: show who is on call, or set / clear an override, as typed words.

Pure. The override's end is given either as a duration (``for 4h``, ``for 1h30m``,
``for 2 days``) or as a wall-clock time (``until 2026-12-24 18:00``); a time without an
offset is left naive, because only the rotation knows its time zone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from bot.directory.rotation import LONGEST
from bot.i18n import N_, N_plural

ONCALL_SET_USAGE = N_(
    "Usage: `/sms oncall set ROTATION @person for 4h` "
    "(or `until 2026-12-24 18:00`), `/sms oncall clear ROTATION`"
)
_PART = re.compile(
    r"(\d+)\s*(d|days?|h|hrs?|hours?|m|mins?|minutes?)(?![a-z])", re.IGNORECASE
)
_UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60}
#: Years a typed ``until`` may name: far enough for any override, and every one of
#: them stays a valid date in any time zone (year 1 or 9999 overflow on conversion).
_YEARS = range(2000, 9000)


@dataclass(frozen=True)
class OncallRequest:
    """A parsed ``/sms oncall``: ``show`` (``rotation`` may be empty: all), ``set``, ``clear``.

    For ``set``: ``person`` is the token as typed (usually a mention ``<@U…>``), and exactly
    one of ``duration`` and ``until`` is given.
    """

    verb: Literal["show", "set", "clear"]
    rotation: str = ""
    person: str = ""
    duration: timedelta | None = None
    until: datetime | None = None


def parse_oncall(rest: str) -> tuple[OncallRequest | None, tuple[str, ...]]:
    """The request in ``rest`` (what follows ``oncall``), or ``None`` and the problems."""
    words = rest.split()
    if not words:
        return OncallRequest("show"), ()
    verb = words[0].lower()
    if verb == "clear":
        if len(words) != 2:
            return None, (ONCALL_SET_USAGE,)
        return OncallRequest("clear", rotation=words[1].lower()), ()
    if verb != "set":
        if len(words) != 1:
            return None, (
                N_(
                    "Usage: `/sms oncall [ROTATION]`; to change who is on call: "
                    "`/sms oncall set ROTATION @person for 4h` "
                    "(or `until 2026-12-24 18:00`), `/sms oncall clear ROTATION`"
                ),
            )
        return OncallRequest("show", rotation=verb), ()
    if len(words) < 5 or words[3].lower() not in ("for", "until"):
        return None, (ONCALL_SET_USAGE,)
    rotation, person, kind = words[1].lower(), words[2], words[3].lower()
    when = " ".join(words[4:])
    if kind == "for":
        duration = parse_duration(when)
        if duration is None:
            return None, (
                N_(
                    "%(when)r is not a duration; write it like `4h`, `90m` or `1h30m`",
                    when=when,
                ),
            )
        if duration > LONGEST:
            return None, (_too_far(when),)
        return OncallRequest("set", rotation, person, duration=duration), ()
    until = _parse_until(when)
    if until is None:
        return None, (
            N_(
                "%(when)r is not a date and time; write it like `2026-12-24 18:00`",
                when=when,
            ),
        )
    if until.year not in _YEARS:
        return None, (_too_far(when),)
    return OncallRequest("set", rotation, person, until=until), ()


def parse_duration(text: str) -> timedelta | None:
    """``4h``, ``90m``, ``1h30m``, ``2 days``: a positive duration, else ``None``.

    A huge count (``99999999999h``) gives a duration just over :data:`LONGEST`
    instead of overflowing ``timedelta``: the caller refuses it as too far away.
    """
    compact = text.strip()
    seconds, position = 0, 0
    for match in _PART.finditer(compact):
        if compact[position : match.start()].strip():
            return None
        seconds += int(match.group(1)) * _UNIT_SECONDS[match.group(2)[0].lower()]
        position = match.end()
    if position == 0 or compact[position:].strip() or seconds <= 0:
        return None
    return timedelta(seconds=min(seconds, _CAP_SECONDS))


#: Any duration longer than an override may be is read as this (refused later).
_CAP_SECONDS = int(LONGEST.total_seconds()) + 1


def _too_far(when: str) -> str:
    return N_plural(
        "%(when)s is more than %(n)s day away",
        "%(when)s is more than %(n)s days away",
        LONGEST.days,
        when=when,
    )


def _parse_until(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        return None
