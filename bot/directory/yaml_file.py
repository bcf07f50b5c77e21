"""Reading the directory file's YAML nodes into a :class:`~bot.directory.model.Directory`.

Kept apart from :mod:`bot.directory.model` because walking YAML nodes and wording every
problem with its line is a job of its own, longer than the model it fills. Callers use
:func:`bot.directory.files.load_directory` or :func:`~bot.directory.files.parse_directory`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from typing import TypeVar

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from bot.directory.model import RESERVED, Directory, DirectoryError, Group, Person
from bot.directory.rotation import Rotation
from bot.directory.yaml_nodes import NULL_TAG, line_of, text_of
from bot.directory.yaml_rotation import read_rotation
from bot.errors import InputError
from bot.phones import parse_phone

_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_SLACK_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_PERSON_KEYS = ("phone", "slack")
_GROUP_KEYS = ("members", "rotation", "start", "escalate_after", "timezone")
_SHAPE = "people: and groups:"
_ONLY_ROTATIONS = "only rotations have it; add rotation: daily, weekly or a duration"


def read_directory(
    root: Node | None, *, region: str, timezone: str, source: str = ""
) -> Directory:
    """The directory in the composed YAML ``root``; ``source`` names it in errors.

    Rotations without ``timezone:`` get ``timezone`` (``SMS_TIMEZONE``).

    Raises:
        DirectoryError: listing every problem, each with its line.
    """
    reader = _Reader(region, timezone)
    directory = reader.read(root)
    if reader.problems:
        raise DirectoryError(reader.problems, source=source)
    return directory


_Pairs = list[tuple[str, Node, Node]]
_T = TypeVar("_T")


class _Reader:
    """Walks the YAML node tree, collecting every problem with the line it is on."""

    def __init__(self, region: str, timezone: str) -> None:
        self.region = region
        self.timezone = timezone
        self._found: list[tuple[int, str]] = []

    @property
    def problems(self) -> list[str]:
        return [text for _, text in sorted(self._found, key=lambda item: item[0])]

    def problem(self, node: Node, where: str, message: str) -> None:
        line = line_of(node)
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
        if node is None or (isinstance(node, ScalarNode) and node.tag == NULL_TAG):
            return []
        if not isinstance(node, MappingNode):
            self.problem(node, where, f"expected {expected}")
            return []
        pairs: _Pairs = []
        seen: dict[str, int] = {}
        for key_node, value in node.value:
            key = text_of(key_node)
            if key is None:
                self.problem(key_node, where, "a key must be a plain word")
            elif key.lower() in seen:
                first = seen[key.lower()]
                self.problem(
                    key_node, where, f"'{key}' is written twice (also line {first})"
                )
            else:
                seen[key.lower()] = line_of(key_node)
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
            lines[name] = line_of(key_node)
            ok = self.name_ok(key_node, "people", raw)
            fields = self.fields(value, where, _PERSON_KEYS)
            phone = self.read_phone(fields.get("phone"), key_node, where)
            slack = text_of(fields.get("slack"))
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
        raw = text_of(node)
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
                rotation = read_rotation(self, name, fields, members, key_node, where)
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
        if node is None or (isinstance(node, ScalarNode) and node.tag == NULL_TAG):
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
            raw = text_of(item)
            name = (raw or "").lower()
            if raw is None:
                message = "each member must be a person's name"
            elif name in members:
                first = members[name]
                also = f" (also line {first})" if first != line_of(item) else ""
                message = f"'{raw}' is listed twice{also}"
            elif name in known:
                members[name] = line_of(item)
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

    @property
    def problem_count(self) -> int:
        return len(self._found)

    def parsed(
        self, fields: dict[str, Node], key: str, where: str, parse: Callable[[str], _T]
    ) -> _T | None:
        """``parse`` applied to ``fields[key]``'s text; None when absent or refused."""
        node = fields.get(key)
        if node is None:
            return None
        try:
            return parse(text_of(node) or "")
        except ValueError as error:
            self.problem(node, f"{where}.{key}", str(error))
            return None
