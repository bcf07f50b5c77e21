"""What ``sms-bot directory check`` prints: counts, then each rotation's turns.

Written for one reader (``tr``: the CLI's language); names, zones and durations
(``12h``) stay as the file writes them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime
from typing import Protocol

from bot.directory.model import Directory
from bot.directory.rotation import format_duration
from bot.i18n import Translator, translator

#: How many upcoming hand-overs the report lists per rotation.
HANDOVERS_SHOWN = 3


class Cover(Protocol):
    """An override in force (see :mod:`bot.audit.overrides`)."""

    @property
    def person(self) -> str: ...

    @property
    def ends_at(self) -> datetime: ...


def check_report(
    directory: Directory,
    at: datetime,
    *,
    overrides: Mapping[str, Cover] | None = None,
    tr: Translator | None = None,
    env: Mapping[str, str] | None = None,
) -> str:
    """Counts, then per rotation: who is on call now (or covers), the next hand-overs;
    then per alert integration what it pages and whether its token is set (``env``)."""
    tr = tr or translator()
    _ = tr.gettext
    lines = [
        _(
            "Directory OK: %(people)s, %(groups)s, %(rotations)s.",
            people=tr.ngettext("%(n)s person", "%(n)s people", len(directory.people)),
            groups=tr.ngettext("%(n)s group", "%(n)s groups", len(directory.groups)),
            rotations=tr.ngettext(
                "%(n)s rotation", "%(n)s rotations", len(directory.rotations)
            ),
        )
    ]
    for oncall in directory.oncall_summary(at):
        rotation = oncall.rotation
        handover = rotation.format_time(oncall.handover, tr.locale)
        about = [
            _period(rotation.period_text, tr),
            str(rotation.timezone or rotation.local(at).tzname()),
        ]
        if rotation.escalate_after is not None:
            about.append(
                _(
                    "escalates after %(delay)s",
                    delay=format_duration(rotation.escalate_after),
                )
            )
        if rotation.call_after is not None:
            about.append(
                _(
                    "calls after %(delay)s",
                    delay=format_duration(rotation.call_after),
                )
            )
        lines += [
            _(
                "%(rotation)s (%(about)s)",
                rotation=rotation.name,
                about=", ".join(about),
            ),
            "  "
            + _(
                "now:  %(member)s, until %(when)s",
                member=oncall.now.member,
                when=handover,
            ),
            "  "
            + _(
                "next: %(member)s, from %(when)s",
                member=oncall.next.member,
                when=handover,
            ),
        ]
        cover = (overrides or {}).get(rotation.name)
        if cover is not None:
            lines.append(
                "  "
                + _(
                    "override: %(person)s covers until %(when)s",
                    person=cover.person,
                    when=rotation.format_time(cover.ends_at, tr.locale),
                )
            )
        lines.append("  " + _("hand-overs:"))
        lines += [
            f"    {rotation.format_time(shift.starts_at, tr.locale)} -> {shift.member}"
            for shift in rotation.handovers(at, HANDOVERS_SHOWN)
        ]
    for integration in directory.integrations.values():
        token = (
            _("token set")
            if (env if env is not None else os.environ).get(integration.token_env)
            else _("token NOT set (%(variable)s)", variable=integration.token_env)
        )
        lines.append(
            _(
                "integration %(name)s: pages %(target)s, posts in %(channel)s, %(token)s",
                name=integration.name,
                target=integration.pages,
                channel=integration.channel,
                token=token,
            )
        )
    return "\n".join(lines)


def _period(text: str, tr: Translator) -> str:
    """``daily`` and ``weekly`` in the reader's words; a duration (``12h``) as written."""
    if text == "daily":
        return tr.gettext("daily")
    if text == "weekly":
        return tr.gettext("weekly")
    return text
