"""The App Home view of one person (pure): status, rotations, open pages, sends, admin.

Slack refuses a Home over 100 blocks or 250 kB, so every list is capped and says
"and N more"; :func:`fit` is the last guard, for whatever a future section adds.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.audit.pages import Page, PageState
from bot.directory.model import OnCall
from bot.directory.report import Cover
from bot.i18n import N_, Translator
from bot.sending.home_facts import AdminFacts, SendLine
from bot.slack import ids
from bot.slack.views.blocks import (
    chunk_lines,
    context,
    escape,
    input_block,
    masked_list,
    plain,
    quote,
    section,
    slack_date,
)

#: Slack's limits of a Home view.
HOME_BLOCKS_MAX = 100
HOME_BYTES_MAX = 250_000
#: Open pages shown, each a section and its Acknowledge and Resolve buttons; more are counted.
PAGES_SHOWN = 15
#: Rotations listed; more are counted.
ROTATIONS_SHOWN = 40
#: Cover/Hand back buttons (an actions block holds at most 25 elements).
BUTTONS_MAX = 10
#: Characters of a page's text quoted in the Home.
PAGE_QUOTE_MAX = 200

_STATUS_WORDS = {
    "sent": N_("sent"),
    "failed": N_("failed"),
    "pending": N_("pending"),
}
_RECEIPT_WORDS = {
    "delivered": N_("delivered"),
    "not_delivered": N_("not delivered"),
    "expired": N_("expired"),
    "rejected": N_("rejected"),
    "unknown": N_("unknown"),
}


@dataclass(frozen=True)
class MyShift:
    """A rotation the reader is on call for now, until ``until``; ``covering`` when by
    an override (then *Hand back* applies)."""

    rotation: str
    until: datetime
    covering: bool


@dataclass(frozen=True)
class HomeFacts:
    """Everything one Home shows, read on the publisher's worker thread."""

    user_id: str
    shifts: Sequence[MyShift] = ()
    #: Rotations the reader belongs to and is not on call for now (*Cover*).
    coverable: Sequence[str] = ()
    summaries: Sequence[OnCall] = ()
    overrides: Mapping[str, Cover] = field(default_factory=dict)
    pages: Sequence[Page] = ()
    pages_total: int = 0
    #: The integration whose alert opened a page, by page id (pages from Slack: none).
    alert_sources: Mapping[int, str] = field(default_factory=dict)
    sends: Sequence[SendLine] = ()
    #: Only for admins.
    admin: AdminFacts | None = None
    daily_budget: float | None = None


def build_home_view(facts: HomeFacts, tr: Translator) -> dict[str, Any]:
    """The ``view`` of ``views.publish`` for ``facts.user_id``."""
    blocks: list[dict[str, Any]] = [_header(tr.gettext("SMS and on-call"))]
    blocks += _status(facts, tr)
    blocks += _buttons(tr, can_page=bool(facts.summaries))
    blocks += [{"type": "divider"}, _header(tr.gettext("Rotations"))]
    blocks += _rotations(facts, tr)
    blocks += [{"type": "divider"}, _header(tr.gettext("Open pages"))]
    blocks += _pages(facts, tr)
    blocks += [{"type": "divider"}, _header(tr.gettext("Your last sends"))]
    blocks += _sends(facts, tr)
    if facts.admin is not None:
        blocks += [{"type": "divider"}, _header(tr.gettext("Admin"))]
        blocks += _admin(facts.admin, facts.daily_budget, tr)
    return {"type": "home", "blocks": fit(blocks, tr)}


def fit(blocks: list[dict[str, Any]], tr: Translator) -> list[dict[str, Any]]:
    """Cut ``blocks`` to Slack's Home limits, saying how many were left out."""
    kept = list(blocks)
    dropped = 0
    while len(kept) > HOME_BLOCKS_MAX - 1 or _size(kept) > HOME_BYTES_MAX - 1000:
        kept.pop()
        dropped += 1
    if dropped:
        kept.append(
            context(
                tr.ngettext(
                    "… and %(n)s more not shown",
                    "… and %(n)s more not shown",
                    dropped,
                )
            )
        )
    return kept


def _size(blocks: list[dict[str, Any]]) -> int:
    return len(json.dumps({"type": "home", "blocks": blocks}).encode())


def _header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": {"type": "plain_text", "text": text[:150]}}


def _button(text: str, action_id: str, value: str = "") -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": text[:75]},
        "action_id": action_id,
    }
    if value:
        button["value"] = value
    return button


def _status(facts: HomeFacts, tr: Translator) -> list[dict[str, Any]]:
    _ = tr.gettext
    if facts.shifts:
        lines = [
            "📟 "
            + _(
                "You are on call for *%(rotation)s* until %(until)s",
                rotation=escape(shift.rotation),
                until=slack_date(shift.until),
            )
            + (" (" + _("covering") + ")" if shift.covering else "")
            for shift in facts.shifts
        ]
    else:
        lines = ["💤 " + _("You are not on call now.")]
    blocks = [section(text) for text in chunk_lines(lines)]
    buttons = [
        _button(
            _("Hand back %(rotation)s", rotation=shift.rotation),
            ids.HOME_HAND_BACK,
            shift.rotation,
        )
        for shift in facts.shifts
        if shift.covering
    ]
    buttons += [
        _button(_("Cover for %(rotation)s", rotation=name), ids.HOME_COVER, name)
        for name in facts.coverable
    ]
    for start in range(0, min(len(buttons), BUTTONS_MAX), 5):
        block_id = f"home_cover_{start}"
        elements = buttons[start : min(start + 5, BUTTONS_MAX)]
        blocks.append({"type": "actions", "block_id": block_id, "elements": elements})
    return blocks


def _buttons(tr: Translator, *, can_page: bool) -> list[dict[str, Any]]:
    send = _button(tr.gettext("Send an SMS"), ids.HOME_SEND_FORM)
    send["style"] = "primary"
    elements = [send]
    if can_page:
        elements.append(_button(tr.gettext("Page on-call"), ids.HOME_PAGE))
    return [{"type": "actions", "block_id": "home_actions", "elements": elements}]


def _rotations(facts: HomeFacts, tr: Translator) -> list[dict[str, Any]]:
    _ = tr.gettext
    if not facts.summaries:
        return [section(_("No rotation is defined."))]
    lines = []
    for summary in facts.summaries[:ROTATIONS_SHOWN]:
        name = summary.rotation.name
        cover = facts.overrides.get(name)
        line = _(
            "*%(rotation)s*: *%(now)s* now, hand-over %(until)s; next *%(next)s*",
            rotation=escape(name),
            now=escape(summary.now.member),
            until=slack_date(summary.handover),
            next=escape(summary.next.member),
        )
        if cover is not None:
            line += "\n   🔁 " + _(
                "*%(person)s* covers until %(when)s",
                person=escape(cover.person),
                when=slack_date(cover.ends_at),
            )
        lines.append(line)
    blocks = [section(text) for text in chunk_lines(lines)]
    more = len(facts.summaries) - ROTATIONS_SHOWN
    if more > 0:
        blocks.append(
            context(
                tr.ngettext(
                    "… and %(n)s more rotation", "… and %(n)s more rotations", more
                )
            )
        )
    return blocks


def _pages(facts: HomeFacts, tr: Translator) -> list[dict[str, Any]]:
    _ = tr.gettext
    if not facts.pages:
        return [section("✅ " + _("No open page."))]
    blocks = []
    for page in facts.pages[:PAGES_SHOWN]:
        state = (
            _("nobody acknowledged")
            if page.state is PageState.EXHAUSTED
            else _("waiting for an acknowledgement")
        )
        text = _(
            "*Page #%(id)s* to *%(target)s*, %(when)s: %(state)s",
            id=page.id,
            target=escape(page.target),
            when=slack_date(page.created_at),
            state=state,
        )
        source = facts.alert_sources.get(page.id)
        if source:
            text += "\n" + _("alert from *%(integration)s*", integration=escape(source))
        if page.text:
            text += "\n" + quote(page.text, PAGE_QUOTE_MAX)
        blocks.append(section(text))
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    _button(_("Acknowledge"), ids.ACK_PAGE, str(page.id)),
                    _button(_("Resolve"), ids.RESOLVE_PAGE, str(page.id)),
                ],
            }
        )
    more = facts.pages_total - len(facts.pages[:PAGES_SHOWN])
    if more > 0:
        blocks.append(
            context(
                tr.ngettext(
                    "… and %(n)s more open page", "… and %(n)s more open pages", more
                )
            )
        )
    return blocks


def _sends(facts: HomeFacts, tr: Translator) -> list[dict[str, Any]]:
    _ = tr.gettext
    if not facts.sends:
        return [section(_("You have sent no SMS yet."))]
    lines = []
    for line in facts.sends:
        record = line.record
        status = _(_STATUS_WORDS.get(record.status.value, record.status.value))
        if line.receipts:
            status += " · " + ", ".join(
                f"{count} {_(_RECEIPT_WORDS.get(name, name))}"
                for name, count in sorted(line.receipts.items())
            )
        cost = (
            tr.money(record.total_cost)
            if record.total_cost is not None
            else _("no cost")
        )
        lines.append(
            _(
                "%(when)s to %(to)s: %(status)s, %(cost)s",
                when=slack_date(record.created_at),
                to=masked_list(record.recipients, shown=3, tr=tr),
                status=status,
                cost=cost,
            )
            + (" · " + _("simulation") if record.simulation else "")
        )
    return [section(text) for text in chunk_lines(lines)]


def _admin(
    admin: AdminFacts, budget: float | None, tr: Translator
) -> list[dict[str, Any]]:
    _ = tr.gettext
    if admin.credit is not None:
        credit = _("Octopush credit: *%(credit)s*", credit=tr.money(admin.credit))
        if admin.credit_at is not None:
            credit += " " + _(
                "(at the send of %(when)s)", when=slack_date(admin.credit_at)
            )
    else:
        credit = _("Octopush credit: not known yet (no send reported it)")
    spend = (
        _(
            "Spent today: *%(spent)s* of a budget of %(budget)s",
            spent=tr.money(admin.spent_today),
            budget=tr.money(budget),
        )
        if budget is not None
        else _(
            "Spent today: *%(spent)s* (no daily budget)",
            spent=tr.money(admin.spent_today),
        )
    )
    pending = tr.ngettext(
        "%(n)s attempt pending", "%(n)s attempts pending", admin.pending
    )
    callback = (
        _("Last callback received %(when)s", when=slack_date(admin.last_callback_at))
        if admin.last_callback_at is not None
        else _("No callback received yet")
    )
    return [section("\n".join([credit, spend, pending, callback]))]


def build_home_refusal(reason: str, tr: Translator) -> dict[str, Any]:
    """The small window a refused *Cover*/*Hand back* opens (the Home has no thread)."""
    _ = tr.gettext
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": _("On call")[:24]},
        "close": {"type": "plain_text", "text": _("Close")[:24]},
        "blocks": [section("🚫 " + escape(_(reason)))],
    }


def build_page_modal(rotations: Sequence[str], tr: Translator) -> dict[str, Any]:
    """*Page on-call* from the Home: which rotation, what to say, where the page is
    posted (its post carries the Acknowledge button, as ``/sms page`` does)."""
    _ = tr.gettext
    options = [
        {"text": plain(name, 75), "value": name} for name in list(rotations)[:100]
    ]
    return {
        "type": "modal",
        "callback_id": ids.HOME_PAGE_MODAL,
        "title": plain(_("Page on-call"), 24),
        "submit": plain(_("Page"), 24),
        "close": plain(_("Cancel"), 24),
        "blocks": [
            input_block(
                ids.HOME_PAGE_ROTATION_BLOCK,
                _("Rotation"),
                {
                    "type": "static_select",
                    "action_id": ids.HOME_PAGE_ROTATION_SELECT,
                    "options": options,
                },
            ),
            input_block(
                ids.HOME_PAGE_TEXT_BLOCK,
                _("Message"),
                {
                    "type": "plain_text_input",
                    "action_id": ids.HOME_PAGE_TEXT_INPUT,
                    "multiline": True,
                    "max_length": 1000,
                },
            ),
            input_block(
                ids.HOME_PAGE_CHANNEL_BLOCK,
                _("Post the page in"),
                {
                    "type": "conversations_select",
                    "action_id": ids.HOME_PAGE_CHANNEL_SELECT,
                    "default_to_current_conversation": True,
                    "filter": {"include": ["public", "private"]},
                },
            ),
        ],
    }
