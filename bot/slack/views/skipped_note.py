"""Told to the sender after a send to groups: which members were skipped, and why.

A group reaches the members who can receive it (:mod:`bot.slack.recipients`); the
others are named here, each with its reason (replied STOP, no phone, a profile phone
without its country code), so the sender can reach them another way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.i18n import N_, Translator, joined, translator
from bot.slack.recipients import Skipped
from bot.slack.views.blocks import escape, message, section

#: How many skipped members are named; the rest are counted.
NAMED = 20


def build_unreachable_note(
    skipped: Sequence[Skipped], tr: Translator | None = None
) -> dict[str, Any]:
    """``Not texted: <@UBOB> has no phone number …; dave replied STOP …``."""
    tr = tr or translator()
    people = tr.gettext(
        joined(
            [
                N_("%(name)s %(why)s", name=_who(member), why=member.why)
                for member in skipped[:NAMED]
            ]
        )
    )
    more = len(skipped) - NAMED
    if more > 0:
        people = tr.ngettext(
            "%(head)s and %(n)s more", "%(head)s and %(n)s more", more, head=people
        )
    text = tr.gettext(
        "Not texted (the rest of the group was): %(people)s.", people=people
    )
    return message(text, [section(f"⚠️ {text}")])


def _who(member: Skipped) -> str:
    """A Slack member as a mention (Slack shows their name); others by name."""
    if member.user_id:
        return f"<@{escape(member.user_id)}>"
    return escape(member.name)
