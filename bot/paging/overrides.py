"""Overrides as people ask for them: ``set ROTATION @person for 4h`` / ``until …`` / ``clear``.

Slack-free: the Slack layer passes what was typed (parsed by its grammar) and who typed
it; this module checks it against the directory, checks who may, and stores the
override (:mod:`bot.audit.overrides`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.audit import AuditStore
from bot.audit.overrides import Override, OverrideStore
from bot.directory.model import Directory
from bot.directory.rotation import LONGEST
from bot.domain import Actor
from bot.errors import InputError, PolicyError
from bot.i18n import N_, N_plural

USAGE = N_(
    "Usage: `/sms oncall set ROTATION @person for 4h` "
    "(or `until 2026-12-24 18:00`), `/sms oncall clear ROTATION`"
)
#: Slack escapes ``@carol`` as ``<@U0CAROL|carol>`` (or ``<@U0CAROL>``).
_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|([^>]*))?>$")

#: The same, in any case: a rotation name is lowercased before it is shown.
_SHOWN_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|([^>]*))?>$", re.IGNORECASE)

#: ``check_actor(actor)``: raises ``PolicyError`` when ``actor`` may not page.
ActorCheck = Callable[[Actor], None]


@dataclass(frozen=True)
class OverrideRequest:
    """``set`` (with a person and an end) or ``clear`` of one rotation."""

    action: str
    rotation: str
    person: str | None = None
    until: datetime | None = None


class Overrides:
    """Reads, authorises and applies override commands."""

    def __init__(
        self,
        store: AuditStore,
        *,
        clock: Callable[[], datetime],
        allowed_users: tuple[str, ...] = (),
        check_actor: ActorCheck | None = None,
    ) -> None:
        self.store = OverrideStore(store, clock=clock)
        self._clock = clock
        self._allowed_users = frozenset(allowed_users)
        self._check_actor = check_actor

    def covering(self, rotation: str, at: datetime) -> str | None:
        return self.store.covering(rotation, at)

    def active(self, at: datetime | None = None) -> dict[str, Override]:
        return self.store.active(at)

    def request(
        self,
        directory: Directory,
        *,
        verb: str,
        rotation: str,
        person: str = "",
        duration: timedelta | None = None,
        until: datetime | None = None,
    ) -> OverrideRequest:
        """Check a typed ``set``/``clear`` against the directory (raises ``InputError``).

        ``person`` is a mention ``<@U…>`` or a person's name; ``until`` without an offset
        is local time in the rotation's zone.
        """
        name = rotation.lower()
        if name not in directory.rotations:
            raise InputError("override", no_such_rotation(rotation, directory))
        if verb == "clear":
            return OverrideRequest("clear", name)
        if verb != "set" or (duration is None) == (until is None):
            raise InputError("override", USAGE)
        return OverrideRequest(
            "set",
            name,
            self._person(person, directory),
            self._end(duration, until, directory, name),
        )

    def apply(self, request: OverrideRequest, actor: Actor) -> Override | int:
        """Store it after checking ``actor`` may; the override set, or how many cleared."""
        self.authorise(actor)
        by = actor.slack_user_id
        if request.action == "clear":
            return self.store.clear(request.rotation, by=by)
        if request.person is None or request.until is None:
            raise InputError("override", USAGE)
        return self.store.set(
            request.rotation, request.person, until=request.until, by=by
        )

    def authorise(self, actor: Actor) -> None:
        """Anyone allowed to page, or only ``SMS_ALLOWED_USERS`` when it is set."""
        if self._allowed_users:
            if actor.slack_user_id not in self._allowed_users:
                raise PolicyError(
                    "SMS_ALLOWED_USERS",
                    N_(
                        "Only the people allowed to send SMS may set or clear an "
                        "on-call override. Ask an admin."
                    ),
                )
            return
        if self._check_actor is not None:
            self._check_actor(actor)

    def _person(self, token: str, directory: Directory) -> str:
        mention = _MENTION.match(token)
        if mention:
            person = directory.person_by_slack_id(mention.group(1))
            if person is None:
                raise InputError(
                    "override",
                    N_(
                        "%(person)s is not in the directory (no person there has the "
                        "Slack id %(slack_id)s); ask an admin to add them.",
                        person=_shown(token),
                        slack_id=mention.group(1),
                    ),
                )
            return person.name
        name = token.lstrip("@").lower()
        if name not in directory.people:
            raise InputError(
                "override",
                N_(
                    "'%(person)s' is not a person in the directory; write @person or "
                    "the name of a person in the directory file.",
                    person=_shown(token),
                ),
            )
        return name

    def _end(
        self,
        duration: timedelta | None,
        until: datetime | None,
        directory: Directory,
        rotation: str,
    ) -> datetime:
        now = self._clock()
        if duration is not None:
            if duration > LONGEST:  # also keeps ``now + duration`` from overflowing
                duration = LONGEST + timedelta(seconds=1)
            end = now + duration
        elif until is not None:
            zone = directory.rotations[rotation].zone
            end = until if until.utcoffset() is not None else until.replace(tzinfo=zone)
        else:
            raise InputError("override", USAGE)
        shown = f"{until:%Y-%m-%d %H:%M}" if until is not None else str(duration)
        if end <= now:
            raise InputError(
                "override",
                N_("%(when)s is in the past; give a later time", when=shown),
            )
        if end - now > LONGEST:
            raise InputError(
                "override",
                N_plural(
                    "%(when)s is more than %(n)s day away",
                    "%(when)s is more than %(n)s days away",
                    LONGEST.days,
                    when=shown,
                ),
            )
        return end


def _shown(token: str) -> str:
    """A typed word as people read it: ``@carol``, never Slack's ``<@U…|carol>``."""
    mention = _SHOWN_MENTION.match(token)
    if mention is None:
        return token
    label, user_id = mention.group(2), mention.group(1).upper()
    # Answers are escaped, so Slack would show ``<@U…>`` as typed markup: the id it is.
    return f"@{label}" if label else f"@{user_id}"


def no_such_rotation(typed: str, directory: Directory) -> str:
    """The refusal of a rotation name the directory does not have, naming those it has."""
    known = ", ".join(sorted(directory.rotations))
    return N_(
        "No rotation called '%(rotation)s' (rotations: %(known)s).",
        rotation=_shown(typed),
        known=known or N_("none defined"),
    )
