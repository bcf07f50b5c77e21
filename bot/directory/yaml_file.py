"""Reading the directory file's YAML nodes into a :class:`~bot.directory.model.Directory`.

Kept apart from :mod:`bot.directory.model` because walking YAML nodes and wording every
problem with its line is a job of its own, longer than the model it fills. Callers use
:func:`bot.directory.files.load_directory` or :func:`~bot.directory.files.parse_directory`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

from yaml.nodes import MappingNode, Node, ScalarNode

from bot.directory.model import RESERVED, Directory, DirectoryError, Group, Person
from bot.directory.rotation import Rotation
from bot.directory.yaml_integrations import read_integrations
from bot.directory.yaml_members import read_members
from bot.directory.yaml_nodes import NULL_TAG, line_of, reason_of, text_of
from bot.directory.yaml_rotation import read_rotation
from bot.errors import InputError
from bot.i18n import N_
from bot.phones import parse_phone

_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_SLACK_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_PERSON_KEYS = ("phone", "slack")
_GROUP_KEYS = (
    "members",
    "rotation",
    "start",
    "escalate_after",
    "call_after",
    "timezone",
)
_SHAPE = N_("people: and groups:")
_ONLY_ROTATIONS = N_(
    "only rotations have it; add rotation: daily, weekly or a duration"
)
#: Where a problem is when it is in no section (``people``, ``groups.ops``...).
_THE_FILE = N_("the file")


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
        """Note ``message`` at ``node``'s line; ``where`` is a YAML path or "the file".

        Every text is marked (``N_``), so whoever shows it translates it.
        """
        line = line_of(node)
        self._found.append(
            (
                line,
                N_(
                    "line %(line)s, %(where)s: %(message)s",
                    line=line,
                    where=where,
                    message=message,
                ),
            )
        )

    def read(self, root: Node | None) -> Directory:
        if root is None:
            self._found.append(
                (1, N_("line 1: the file is empty; write %(shape)s", shape=_SHAPE))
            )
            return Directory()
        sections: dict[str, Node] = {}
        for key, key_node, value in self.mapping(root, _THE_FILE, _SHAPE):
            if key in ("people", "groups", "integrations"):
                sections[key] = value
            else:
                self.problem(
                    key_node,
                    _THE_FILE,
                    N_(
                        "unknown key '%(key)s'; write %(shape)s",
                        key=key,
                        shape=_SHAPE,
                    ),
                )
        people, lines = self.read_people(sections.get("people"))
        groups, rotations = self.read_groups(sections.get("groups"), lines)
        targets = {*people, *groups, *rotations}
        integrations = read_integrations(self, sections.get("integrations"), targets)
        return Directory(people, groups, rotations, integrations)

    def mapping(self, node: Node | None, where: str, expected: str) -> _Pairs:
        """The pairs of a mapping node, refusing duplicate (case-insensitive) keys."""
        if node is None or (isinstance(node, ScalarNode) and node.tag == NULL_TAG):
            return []
        if not isinstance(node, MappingNode):
            self.problem(node, where, N_("expected %(what)s", what=expected))
            return []
        pairs: _Pairs = []
        seen: dict[str, int] = {}
        for key_node, value in node.value:
            key = text_of(key_node)
            if key is None:
                self.problem(key_node, where, N_("a key must be a plain word"))
            elif key.lower() in seen:
                first = seen[key.lower()]
                self.problem(
                    key_node,
                    where,
                    N_(
                        "'%(key)s' is written twice (also line %(line)s)",
                        key=key,
                        line=first,
                    ),
                )
            else:
                seen[key.lower()] = line_of(key_node)
                pairs.append((key, key_node, value))
        return pairs

    def fields(
        self, value: Node, where: str, allowed: tuple[str, ...]
    ) -> dict[str, Node]:
        expected = N_(
            "a mapping of %(keys)s", keys=", ".join(f"{key}:" for key in allowed)
        )
        found: dict[str, Node] = {}
        for key, key_node, node in self.mapping(value, where, expected):
            if key in allowed:
                found[key] = node
            else:
                self.problem(
                    key_node,
                    where,
                    N_(
                        "unknown key '%(key)s'; expected %(keys)s",
                        key=key,
                        keys=", ".join(allowed),
                    ),
                )
        return found

    def name_ok(self, node: Node, where: str, name: str) -> bool:
        if not _NAME.match(name.lower()):
            message = N_(
                "'%(name)s' cannot be a name: use letters, digits, '.', '_' and '-' "
                "(no spaces or commas), starting with a letter or digit",
                name=name,
            )
        elif not any(char.isalpha() for char in name):
            message = N_(
                "'%(name)s' looks like a phone number; a name needs a letter",
                name=name,
            )
        elif name.lower() in RESERVED:
            message = N_(
                "'%(name)s' is a /sms command word; pick another name", name=name
            )
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
        names = N_("a mapping of names")
        for raw, key_node, value in self.mapping(node, "people", names):
            name, where = raw.lower(), f"people.{raw}"
            lines[name] = line_of(key_node)
            ok = self.name_ok(key_node, "people", raw)
            fields = self.fields(value, where, _PERSON_KEYS)
            phone = self.read_phone(fields.get("phone"), key_node, where)
            slack = text_of(fields.get("slack"))
            clash = slack_ids.get(slack or "")
            if slack is not None and (clash or not _SLACK_ID.match(slack)):
                why = (
                    N_("'%(slack)s' is %(person)s's too", slack=slack, person=clash)
                    if clash
                    else N_("'%(slack)s' is not a Slack user id", slack=slack)
                )
                self.problem(fields["slack"], f"{where}.slack", why)
                ok = False
            elif slack is not None:
                slack_ids[slack] = name
            if ok and phone is not None:
                people[name] = Person(name, phone, slack)
        return people, lines

    def read_phone(self, node: Node | None, owner: Node, where: str) -> str | None:
        raw = text_of(node)
        if node is None or raw is None:
            self.problem(owner, where, N_('has no phone; write phone: "+33612345678"'))
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
        entries = self.mapping(node, "groups", N_("a mapping of names"))
        group_names = {raw.lower() for raw, _, _ in entries}
        for raw, key_node, value in entries:
            name, where = raw.lower(), f"groups.{raw}"
            ok = self.name_ok(key_node, "groups", raw)
            if name in lines:
                ok = False
                self.problem(
                    key_node,
                    "groups",
                    N_(
                        "'%(name)s' is already a person (line %(line)s)",
                        name=raw,
                        line=lines[name],
                    ),
                )
            fields = self.fields(value, where, _GROUP_KEYS)
            members = read_members(
                self, fields.get("members"), key_node, where, lines, group_names
            )
            if "rotation" in fields:
                rotation = read_rotation(self, name, fields, members, key_node, where)
                if ok and rotation is not None:
                    rotations[name] = rotation
                continue
            for key in ("start", "escalate_after", "call_after", "timezone"):
                if key in fields:
                    ok = False
                    self.problem(fields[key], f"{where}.{key}", _ONLY_ROTATIONS)
            if ok and members is not None:
                groups[name] = Group(name, members)
        return groups, rotations

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
            self.problem(node, f"{where}.{key}", reason_of(error))
            return None
