"""Reading one rotation's keys (``rotation``, ``start``, ``escalate_after``,
``call_after``, ``timezone``).

Hand-overs keep their wall-clock time in the rotation's zone: its ``timezone:``, else
``SMS_TIMEZONE``. A ``start:`` with a UTC offset is an instant; without one, local time
in the zone. (A fixed UTC offset as the zone would move hand-overs an hour with DST.)
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol, TypeVar

from yaml.nodes import Node

from bot.directory.rotation import (
    START_EXAMPLE,
    Rotation,
    load_zone,
    parse_duration,
    parse_period,
    parse_start,
)
from bot.directory.yaml_nodes import reason_of, text_of
from bot.i18n import N_

_T = TypeVar("_T")


class NodeReader(Protocol):
    """What the rotation reader needs of the file reader: problems and parsed values."""

    timezone: str

    @property
    def problem_count(self) -> int: ...

    def problem(self, node: Node, where: str, message: str) -> None: ...

    def parsed(
        self, fields: dict[str, Node], key: str, where: str, parse: Callable[[str], _T]
    ) -> _T | None: ...


def read_rotation(
    reader: NodeReader,
    name: str,
    fields: dict[str, Node],
    members: tuple[str, ...] | None,
    owner: Node,
    where: str,
) -> Rotation | None:
    """The rotation ``name``, or None after reporting each problem to ``reader``."""
    before = reader.problem_count
    period = reader.parsed(fields, "rotation", where, parse_period)
    escalate = reader.parsed(fields, "escalate_after", where, parse_duration)
    call = reader.parsed(fields, "call_after", where, parse_duration)
    if call is not None and escalate is not None and call >= escalate:
        # The page would move on before the call: the call would never happen.
        reader.problem(
            fields["call_after"],
            f"{where}.call_after",
            N_("call_after must be shorter than escalate_after"),
        )
    zone = reader.parsed(fields, "timezone", where, _zone_name)
    start = None
    if text_of(fields.get("start")) is None:
        reader.problem(
            owner,
            where,
            N_("a rotation needs start:, e.g. %(example)s", example=START_EXAMPLE),
        )
    elif zone is not None or "timezone" not in fields:
        default = reader.timezone
        start = reader.parsed(
            fields, "start", where, lambda text: _start(text, zone, default)
        )
    if (
        reader.problem_count > before
        or members is None
        or period is None
        or start is None
    ):
        return None
    try:
        return Rotation(
            name,
            members,
            period[0],
            start,
            escalate,
            period[1],
            zone or reader.timezone,
            call,
        )
    except ValueError as error:
        reader.problem(owner, where, reason_of(error))
        return None


def _start(text: str, zone: str | None, default: str) -> datetime:
    if zone is not None:
        return parse_start(text, zone)
    try:
        return parse_start(text)  # an offset: the instant as written
    except ValueError:
        return parse_start(text, default)


def _zone_name(text: str) -> str:
    load_zone(text)
    return text
