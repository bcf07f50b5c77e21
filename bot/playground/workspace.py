"""The sample workspace: people with profile phones, a user group, channels, a directory.

Alice and Bob may send (``SMS_ALLOWED_USERS``); Carol may not, so the guard rails show.
The directory has a plain group, a weekly rotation of Alice and Bob that escalates, and
an alert integration that pages the rotation (*Fire an alert*, :mod:`.alerts`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

TEAM_ID = "T0PLAYGRND"
TEAM_DOMAIN = "playground"
APP_ID = "A0SMSBOT"
BOT_USER_ID = "U0SMSBOT"
BOT_ID = "B0SMSBOT"
BOT_NAME = "sms-bot"


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    real_name: str
    phone: str
    title: str
    may_send: bool = True
    #: Slack's locale (``users.info`` with ``include_locale``): answers to Bob are French.
    locale: str = "en-US"


@dataclass(frozen=True)
class Usergroup:
    id: str
    handle: str
    name: str
    members: tuple[str, ...]


@dataclass(frozen=True)
class Channel:
    id: str
    name: str


PEOPLE = (
    Person(
        "U0ALICE", "alice", "Alice Martin", "+33600000001", "SRE, on call this week"
    ),
    Person(
        "U0BOB",
        "bob",
        "Bob Durand",
        "+33600000002",
        "Database administrator (Slack in French)",
        locale="fr-FR",
    ),
    Person(
        "U0CAROL",
        "carol",
        "Carol Petit",
        "+33600000003",
        "Support (not allowed to send SMS)",
        may_send=False,
    ),
)
USERGROUPS = (Usergroup("S0OPSTEAM", "ops-team", "Ops team", ("U0ALICE", "U0BOB")),)
CHANNELS = (Channel("C0OPS", "ops"), Channel("C0SUPPORT", "support"))
DEFAULT_CHANNEL = CHANNELS[0].id

#: People, a plain group and a rotation (CONTRACT.md, "The directory file").
DIRECTORY_YAML = """\
# The playground's directory (SMS_DIRECTORY): names work as /sms recipients.
people:
  alice: {phone: "+33600000001", slack: U0ALICE}
  bob:   {phone: "+33600000002", slack: U0BOB}
  dave:  {phone: "06 00 00 00 04"}
groups:
  dba: {members: [bob, dave]}
  db-oncall:
    members: [alice, bob]
    rotation: weekly
    start: 2026-11-02T09:00:00+01:00
    escalate_after: 2m
    call_after: 20s
    timezone: Europe/Paris
# *Fire an alert* posts Alertmanager's webhook to /hooks/alertmanager/playground.
integrations:
  playground:
    pages: db-oncall
    channel: C0OPS
    token_env: SMS_HOOK_TOKEN_PLAYGROUND
"""


def person(user_id: str) -> Person | None:
    return next((p for p in PEOPLE if p.id == user_id), None)


def write_directory(folder: Path) -> Path:
    """Write the sample directory into ``folder`` and return its path."""
    path = folder / "directory.yml"
    path.write_text(DIRECTORY_YAML, encoding="utf-8")
    return path
