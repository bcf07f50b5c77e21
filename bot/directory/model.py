"""The directory file (``SMS_DIRECTORY``): people, groups and rotations, by name.

Names are what people type after ``/sms`` and ``/sms page``, and a page that reaches
nobody is worse than a refused file, so loading is strict: every problem is reported at
once, each with its line, and a file with any problem is not used at all. Names are
case-insensitive and kept in lower case.

This module holds the model and its queries; reading the file into it is
:mod:`bot.directory.files`' job, and the ``directory check`` report :mod:`~.report`'s.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bot.directory.rotation import Rotation, Shift
from bot.domain import COMMAND_WORDS

#: Words ``/sms`` reads as sub-commands, so they cannot be names.
RESERVED = COMMAND_WORDS


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
class Integration:
    """An alert source (``integrations:``): what its alerts page and where they post.

    ``token_env`` and ``hmac_secret_env`` name environment variables: the file never
    holds a secret. ``page_severities`` empty means every severity pages.
    """

    name: str
    pages: str
    channel: str
    token_env: str
    page_severities: tuple[str, ...] = ()
    hmac_secret_env: str | None = None
    #: SMS text templates by language (``en``, ``fr``), ``{summary}``-style fields.
    templates: tuple[tuple[str, str], ...] = ()

    def pages_for(self, severity: str | None) -> bool:
        """Does an alert of ``severity`` page (else it only posts in the channel)?"""
        if not self.page_severities:
            return True
        return (severity or "").lower() in self.page_severities

    def template(self, language: str) -> str | None:
        return dict(self.templates).get(language)


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
    integrations: dict[str, Integration] = field(default_factory=dict)

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
