"""The directory file (``SMS_DIRECTORY``): people, groups and rotations, by name.

Names are what people type after ``/sms`` and ``/sms page``, and a page that reaches
nobody is worse than a refused file, so loading is strict: every problem is reported at
once, each with its line, and a file with any problem is not used at all. Names are
case-insensitive and kept in lower case.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TypeVar

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from bot.errors import InputError
from bot.parsing import parse_phone
from bot.rotation import (
    START_EXAMPLE,
    Rotation,
    Shift,
    format_duration,
    load_zone,
    parse_duration,
    parse_period,
    parse_start,
)

#: Words ``/sms`` reads as sub-commands, so they cannot be names.
RESERVED = frozenset({"form", "help", "balance", "history", "page", "oncall"})
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_SLACK_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_PERSON_KEYS = ("phone", "slack")
_GROUP_KEYS = ("members", "rotation", "start", "escalate_after", "timezone")
_NULL = "tag:yaml.org,2002:null"
_SHAPE = "people: and groups:"
_ONLY_ROTATIONS = "only rotations have it; add rotation: daily, weekly or a duration"


class DirectoryError(ValueError):
    """The directory file cannot be used; ``problems`` says every reason, with its line."""

    def __init__(self, problems: Sequence[str], *, source: str = "") -> None:
        #: One sentence per problem, in file order, e.g. ``line 7, groups.dba: ...``.
        self.problems = list(problems)
        #: The file the problems are in, to print before them.
        self.source = source
        prefix = f"{source}: " if source else ""
        super().__init__("\n".join(prefix + problem for problem in self.problems))


@dataclass(frozen=True)
class Person:
    """Someone the bot can text; ``phone`` is E.164."""

    name: str
    phone: str
    slack_id: str | None = None


@dataclass(frozen=True)
class Group:
    """People texted together: a name for all of ``members``."""

    name: str
    members: tuple[str, ...]


@dataclass(frozen=True)
class OnCall:
    """A rotation's current and next turns, for ``/sms oncall`` and ``directory check``."""

    rotation: Rotation
    now: Shift
    next: Shift

    @property
    def handover(self) -> datetime:
        return self.now.ends_at


@dataclass(frozen=True)
class Directory:
    """People, plain groups and rotations, keyed by lower-case name."""

    people: dict[str, Person] = field(default_factory=dict)
    groups: dict[str, Group] = field(default_factory=dict)
    rotations: dict[str, Rotation] = field(default_factory=dict)

    def is_name(self, token: str) -> bool:
        """True when ``token`` names a person, group or rotation (any letter case)."""
        key = token.strip().lower()
        return key in self.people or key in self.groups or key in self.rotations

    def members_for(self, name: str, *, at: datetime) -> list[str]:
        """The people ``name`` reaches at ``at``: itself, a group, or who is on call.

        Raises:
            KeyError: when ``name`` is not in the directory.
        """
        key = name.strip().lower()
        if key in self.people:
            return [key]
        if key in self.groups:
            return list(self.groups[key].members)
        if key in self.rotations:
            return [self.rotations[key].on_call(at)]
        raise KeyError(name)

    def numbers_for(self, name: str, *, at: datetime) -> list[str]:
        """The distinct E.164 numbers ``name`` reaches at ``at``.

        Raises:
            KeyError: when ``name`` is not in the directory.
        """
        phones = (self.people[m].phone for m in self.members_for(name, at=at))
        return list(dict.fromkeys(phones))

    def describe(self, name: str, *, at: datetime) -> str:
        """Who ``name`` resolves to, for messages: ``dba (alice, bob)``.

        Raises:
            KeyError: when ``name`` is not in the directory.
        """
        key = name.strip().lower()
        members = self.members_for(key, at=at)
        if key in self.rotations:
            rotation = self.rotations[key]
            until = rotation.format_time(rotation.shift(at).ends_at)
            return f"{key}: {members[0]}, on call until {until}"
        if key in self.groups:
            return f"{key} ({', '.join(members)})"
        return key

    def person_by_slack_id(self, user_id: str) -> Person | None:
        """The person whose ``slack:`` is ``user_id``, to name who pages."""
        return next((p for p in self.people.values() if p.slack_id == user_id), None)

    def name_for_number(self, e164: str) -> str | None:
        """The person whose phone is ``e164``, to show who replied."""
        return next((p.name for p in self.people.values() if p.phone == e164), None)

    def oncall(self, name: str, *, at: datetime) -> OnCall:
        """Rotation ``name``'s turn at ``at`` and the next one.

        Raises:
            KeyError: when ``name`` is not a rotation.
        """
        rotation = self.rotations[name.strip().lower()]
        return OnCall(rotation, rotation.shift(at), rotation.next_shift(at))

    def oncall_summary(self, at: datetime) -> list[OnCall]:
        """Every rotation's turn at ``at`` and the next one, in file order."""
        return [self.oncall(name, at=at) for name in self.rotations]


def check_report(directory: Directory, at: datetime) -> str:
    """What ``sms-bot directory check`` prints: counts, then each rotation's turns."""
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
    return "\n".join(lines)


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def load_directory(path: Path, *, region: str) -> Directory:
    """Read the directory file at ``path``; national numbers are read in ``region``.

    Raises:
        DirectoryError: listing every problem in the file, each with its line.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
        raise DirectoryError([f"cannot be read: {reason}"], source=str(path)) from error
    return parse_directory(text, region=region, source=str(path))


def parse_directory(text: str, *, region: str, source: str = "") -> Directory:
    """:func:`load_directory` for text already read; ``source`` names it in errors.

    Raises:
        DirectoryError: listing every problem in ``text``, each with its line.
    """
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        raise DirectoryError([_syntax_problem(error)], source=source) from error
    except yaml.YAMLError as error:
        raise DirectoryError([f"is not YAML: {error}"], source=source) from error
    reader = _Reader(region)
    directory = reader.read(root)
    if reader.problems:
        raise DirectoryError(reader.problems, source=source)
    return directory


def _syntax_problem(error: yaml.MarkedYAMLError) -> str:
    mark = error.problem_mark or error.context_mark
    what = error.problem or error.context or "not valid YAML"
    if error.context and error.context_mark and error.problem:
        what += f" ({error.context}, line {error.context_mark.line + 1})"
    if mark is None:
        return f"YAML syntax: {what}"
    return f"line {mark.line + 1}, column {mark.column + 1}: YAML syntax: {what}"


def _line(node: Node) -> int:
    return int(node.start_mark.line) + 1


def _text(node: Node | None) -> str | None:
    """A scalar's text exactly as written (so ``+336…`` stays a string), else None."""
    if not isinstance(node, ScalarNode) or node.tag == _NULL:
        return None
    return str(node.value).strip() or None


_Pairs = list[tuple[str, Node, Node]]
_T = TypeVar("_T")


class _Reader:
    """Walks the YAML node tree, collecting every problem with the line it is on."""

    def __init__(self, region: str) -> None:
        self.region = region
        self._found: list[tuple[int, str]] = []

    @property
    def problems(self) -> list[str]:
        return [text for _, text in sorted(self._found, key=lambda item: item[0])]

    def problem(self, node: Node, where: str, message: str) -> None:
        line = _line(node)
        self._found.append((line, f"line {line}, {where}: {message}"))

    def read(self, root: Node | None) -> Directory:
        if root is None:
            self._found.append((1, f"line 1: the file is empty; write {_SHAPE}"))
            return Directory()
        sections: dict[str, Node] = {}
        for key, key_node, value in self.mapping(root, "the file", _SHAPE):
            if key in ("people", "groups"):
                sections[key] = value
            else:
                self.problem(
                    key_node, "the file", f"unknown key '{key}'; write {_SHAPE}"
                )
        people, lines = self.read_people(sections.get("people"))
        groups, rotations = self.read_groups(sections.get("groups"), lines)
        return Directory(people, groups, rotations)

    def mapping(self, node: Node | None, where: str, expected: str) -> _Pairs:
        """The pairs of a mapping node, refusing duplicate (case-insensitive) keys."""
        if node is None or (isinstance(node, ScalarNode) and node.tag == _NULL):
            return []
        if not isinstance(node, MappingNode):
            self.problem(node, where, f"expected {expected}")
            return []
        pairs: _Pairs = []
        seen: dict[str, int] = {}
        for key_node, value in node.value:
            key = _text(key_node)
            if key is None:
                self.problem(key_node, where, "a key must be a plain word")
            elif key.lower() in seen:
                first = seen[key.lower()]
                self.problem(
                    key_node, where, f"'{key}' is written twice (also line {first})"
                )
            else:
                seen[key.lower()] = _line(key_node)
                pairs.append((key, key_node, value))
        return pairs

    def fields(
        self, value: Node, where: str, allowed: tuple[str, ...]
    ) -> dict[str, Node]:
        expected = "a mapping of " + ", ".join(f"{key}:" for key in allowed)
        found: dict[str, Node] = {}
        for key, key_node, node in self.mapping(value, where, expected):
            if key in allowed:
                found[key] = node
            else:
                self.problem(
                    key_node,
                    where,
                    f"unknown key '{key}'; expected {', '.join(allowed)}",
                )
        return found

    def name_ok(self, node: Node, where: str, name: str) -> bool:
        if not _NAME.match(name.lower()):
            message = (
                f"'{name}' cannot be a name: use letters, digits, '.', '_' and '-' "
                "(no spaces or commas), starting with a letter or digit"
            )
        elif not any(char.isalpha() for char in name):
            message = f"'{name}' looks like a phone number; a name needs a letter"
        elif name.lower() in RESERVED:
            message = f"'{name}' is a /sms command word; pick another name"
        else:
            return True
        self.problem(node, where, message)
        return False

    def read_people(
        self, node: Node | None
    ) -> tuple[dict[str, Person], dict[str, int]]:
        people: dict[str, Person] = {}
        lines: dict[str, int] = {}  # every declared name, valid or not: no cascades
        slack_ids: dict[str, str] = {}
        for raw, key_node, value in self.mapping(node, "people", "a mapping of names"):
            name, where = raw.lower(), f"people.{raw}"
            lines[name] = _line(key_node)
            ok = self.name_ok(key_node, "people", raw)
            fields = self.fields(value, where, _PERSON_KEYS)
            phone = self.read_phone(fields.get("phone"), key_node, where)
            slack = _text(fields.get("slack"))
            clash = slack_ids.get(slack or "")
            if slack is not None and (clash or not _SLACK_ID.match(slack)):
                why = f"is {clash}'s too" if clash else "is not a Slack user id"
                self.problem(fields["slack"], f"{where}.slack", f"'{slack}' {why}")
                ok = False
            elif slack is not None:
                slack_ids[slack] = name
            if ok and phone is not None:
                people[name] = Person(name, phone, slack)
        return people, lines

    def read_phone(self, node: Node | None, owner: Node, where: str) -> str | None:
        raw = _text(node)
        if node is None or raw is None:
            self.problem(owner, where, 'has no phone; write phone: "+33612345678"')
            return None
        try:
            return parse_phone(raw, self.region)
        except InputError as error:
            self.problem(node, f"{where}.phone", error.message)
            return None

    def read_groups(
        self, node: Node | None, lines: dict[str, int]
    ) -> tuple[dict[str, Group], dict[str, Rotation]]:
        groups: dict[str, Group] = {}
        rotations: dict[str, Rotation] = {}
        entries = self.mapping(node, "groups", "a mapping of names")
        group_names = {raw.lower() for raw, _, _ in entries}
        for raw, key_node, value in entries:
            name, where = raw.lower(), f"groups.{raw}"
            ok = self.name_ok(key_node, "groups", raw)
            if name in lines:
                ok = False
                self.problem(
                    key_node,
                    "groups",
                    f"'{raw}' is already a person (line {lines[name]})",
                )
            fields = self.fields(value, where, _GROUP_KEYS)
            members = self.read_members(
                fields.get("members"), key_node, where, lines, group_names
            )
            if "rotation" in fields:
                rotation = self.read_rotation(name, fields, members, key_node, where)
                if ok and rotation is not None:
                    rotations[name] = rotation
                continue
            for key in ("start", "escalate_after", "timezone"):
                if key in fields:
                    ok = False
                    self.problem(fields[key], f"{where}.{key}", _ONLY_ROTATIONS)
            if ok and members is not None:
                groups[name] = Group(name, members)
        return groups, rotations

    def read_members(
        self,
        node: Node | None,
        owner: Node,
        where: str,
        known: dict[str, int],
        groups: set[str],
    ) -> tuple[str, ...] | None:
        where = f"{where}.members"
        if node is None or (isinstance(node, ScalarNode) and node.tag == _NULL):
            self.problem(owner, where, "missing; write members: [alice, bob]")
            return None
        if not isinstance(node, SequenceNode):
            self.problem(node, where, "expected a list such as [alice, bob]")
            return None
        if not node.value:
            self.problem(node, where, "empty; list at least one person")
            return None
        members: dict[str, int] = {}
        ok = True
        for item in node.value:
            raw = _text(item)
            name = (raw or "").lower()
            if raw is None:
                message = "each member must be a person's name"
            elif name in members:
                first = members[name]
                also = f" (also line {first})" if first != _line(item) else ""
                message = f"'{raw}' is listed twice{also}"
            elif name in known:
                members[name] = _line(item)
                continue
            elif name in groups:
                message = f"'{raw}' is a group; members must be people"
            else:
                close = difflib.get_close_matches(name, list(known), n=1)
                hint = f"; did you mean '{close[0]}'?" if close else ""
                message = f"unknown member '{raw}': not in people{hint}"
            self.problem(item, where, message)
            ok = False
        return tuple(members) if ok else None

    def read_rotation(
        self,
        name: str,
        fields: dict[str, Node],
        members: tuple[str, ...] | None,
        owner: Node,
        where: str,
    ) -> Rotation | None:
        before = len(self._found)
        period = self.parsed(fields, "rotation", where, parse_period)
        escalate = self.parsed(fields, "escalate_after", where, parse_duration)
        zone = self.parsed(fields, "timezone", where, _zone_name)
        start = None
        if _text(fields.get("start")) is None:
            self.problem(owner, where, f"a rotation needs start:, e.g. {START_EXAMPLE}")
        elif zone is not None or "timezone" not in fields:
            start = self.parsed(fields, "start", where, lambda t: parse_start(t, zone))
        if (
            len(self._found) > before
            or members is None
            or period is None
            or start is None
        ):
            return None
        try:
            return Rotation(name, members, period[0], start, escalate, period[1], zone)
        except ValueError as error:
            self.problem(owner, where, str(error))
            return None

    def parsed(
        self, fields: dict[str, Node], key: str, where: str, parse: Callable[[str], _T]
    ) -> _T | None:
        """``parse`` applied to ``fields[key]``'s text; None when absent or refused."""
        node = fields.get(key)
        if node is None:
            return None
        try:
            return parse(_text(node) or "")
        except ValueError as error:
            self.problem(node, f"{where}.{key}", str(error))
            return None


def _zone_name(text: str) -> str:
    load_zone(text)
    return text
