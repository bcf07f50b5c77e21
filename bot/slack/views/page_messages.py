"""Block Kit for on-call pages, delivery receipts, replies and ``/sms oncall`` (pure)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from bot.audit.deliveries import Delivery
from bot.audit.pages import Page, PageState
from bot.directory.model import OnCall
from bot.directory.report import Cover
from bot.directory.rotation import format_duration
from bot.i18n import Translator, translator
from bot.log import mask_number
from bot.paging.alert_view import AlertDetail
from bot.paging.inbound import by_call, by_sms, call_acknowledger, sms_acknowledger
from bot.paging.page_text import page_body
from bot.sending.gateway import DeliveryStatus, describe_status
from bot.slack import ids
from bot.slack.views.blocks import (
    context,
    escape,
    message,
    plain,
    quote,
    section,
    slack_date,
)

_MENTION = re.compile(r"^<@[UW][A-Z0-9]+>$")


#: Above this many receipts a post lists only the ones not delivered, under a count.
LISTED_MAX = 20


def delivery_text(deliveries: Sequence[Delivery], tr: Translator | None = None) -> str:
    """The Delivery block: one line each, or for a big send "198 delivered, 2 failed"
    and the lines of those not delivered (a section holds only 3000 characters)."""
    tr = tr or translator()
    heading = tr.gettext("Delivery")
    if len(deliveries) <= LISTED_MAX:
        return f"*{heading}*\n" + "\n".join(delivery_lines(deliveries, tr))
    statuses = [_status(delivery.status) for delivery in deliveries]
    delivered = sum(1 for status in statuses if status.is_delivered)
    failed = sum(1 for status in statuses if status.is_failure)
    waiting = len(statuses) - delivered - failed
    counts = [
        tr.ngettext("%(n)s delivered", "%(n)s delivered", delivered),
        tr.ngettext("%(n)s failed", "%(n)s failed", failed),
    ]
    if waiting:
        counts.append(tr.ngettext("%(n)s waiting", "%(n)s waiting", waiting))
    others = [
        d for d, s in zip(deliveries, statuses, strict=True) if not s.is_delivered
    ]
    lines = delivery_lines(others[:LISTED_MAX], tr)
    if len(others) > LISTED_MAX:
        lines.append(
            tr.ngettext(
                "… and %(n)s more not delivered yet",
                "… and %(n)s more not delivered yet",
                len(others) - LISTED_MAX,
            )
        )
    summary = tr.gettext("*Delivery*: %(counts)s", counts=", ".join(counts))
    return "\n".join([summary, *lines])


def delivery_lines(
    deliveries: Sequence[Delivery], tr: Translator | None = None
) -> list[str]:
    """One line per recipient: masked number and the receipt in plain words."""
    tr = tr or translator()
    lines = []
    for delivery in deliveries:
        status = _status(delivery.status)
        emoji = "✅" if status.is_delivered else "❌" if status.is_failure else "⏳"
        words = (
            tr.gettext(describe_status(status))
            if status is not DeliveryStatus.UNKNOWN
            else delivery.raw_status
        )
        line = tr.gettext(
            "%(number)s: %(status)s",
            number=mask_number(delivery.number),
            status=escape(words),
        )
        lines.append(f"{emoji} {line}")
    return lines


def with_deliveries(
    post: dict[str, Any], deliveries: Sequence[Delivery], tr: Translator | None = None
) -> dict[str, Any]:
    """A result post with the delivery receipts added before its last (context) block."""
    if not deliveries:
        return post
    blocks = list(post.get("blocks") or [])
    block = section(delivery_text(deliveries, tr))
    position = (
        len(blocks) - 1
        if blocks and blocks[-1].get("type") == "context"
        else len(blocks)
    )
    blocks.insert(position, block)
    return {**post, "blocks": blocks}


def build_page_message(
    page: Page,
    *,
    who: Sequence[tuple[str, str]],
    deliveries: Sequence[Delivery],
    tr: Translator | None = None,
    audit_ids: Sequence[int] | None = None,
    alert: AlertDetail | None = None,
) -> dict[str, Any]:
    """The channel post of a page; ``who`` pairs each member paged so far with a label.

    ``audit_ids``: the page's SMS when known beyond those it recorded. ``alert``: the
    alert behind the page (its newest summary, how many fire, its links).
    """
    tr = tr or translator()
    _ = tr.gettext
    paged = ", ".join(
        f"*{escape(name)}* ({escape(label)})" for name, label in who
    ) or _("nobody")
    lines = [
        "📟 "
        + _(
            "*Page for %(target)s*: paged %(paged)s",
            target=escape(page.target),
            paged=paged,
        )
    ]
    if page.text:
        # The SMS's number and reply words are for phones; the post has buttons.
        lines.append(quote(page_body(translator(), page.id, page.text)))
    blocks: list[dict[str, Any]] = [section("\n".join(lines))]
    if alert is not None:
        blocks.append(section(alert_text(alert, tr)))
    blocks.append(section(_state_line(page, tr)))
    if deliveries:
        blocks.append(section(delivery_text(deliveries, tr)))
    buttons = _page_buttons(page, tr)
    if buttons:
        blocks.append(
            {"type": "actions", "block_id": "page_actions", "elements": buttons}
        )
    if alert is not None and alert.links:
        blocks.append(
            {
                "type": "actions",
                "block_id": "alert_links",
                "elements": [
                    {
                        "type": "button",
                        "action_id": f"{ids.ALERT_LINK_PREFIX}{number}",
                        "text": plain(label, 75),
                        "url": url[:3000],
                    }
                    for number, (label, url) in enumerate(alert.links[:5])
                ],
            }
        )
    shown = page.audit_ids if audit_ids is None else audit_ids
    audits = ", ".join(f"#{audit_id}" for audit_id in shown if audit_id)
    blocks.append(
        context(_("page #%(page)s · audit %(audits)s", page=page.id, audits=audits))
    )
    return message(
        _(
            "Page for %(target)s: %(state)s",
            target=page.target,
            state=_state_text(page, tr),
        ),
        blocks,
    )


def page_problems_text(
    problems: Sequence[str], page: Page, tr: Translator | None = None
) -> str:
    """What failed after a page's SMS left, said plainly (``problems``: English,
    marked with ``N_``). The page still takes an acknowledgement and escalates: its
    request ids and timer were written before the SMS."""
    _ = (tr or translator()).gettext
    said = "; ".join(escape(_(problem)) for problem in problems)
    if page.next_escalation_at is not None:
        still = _("The Acknowledge button and the escalation still work.")
    else:
        still = _("The Acknowledge button still works.")
    return (
        "⚠️ "
        + _("The page was sent, but afterwards %(problems)s.", problems=said)
        + " "
        + still
    )


def build_override_message(
    rotation: str, done: Cover | int, *, by: str, tr: Translator | None = None
) -> dict[str, Any]:
    """What ``/sms oncall set|clear`` says in the channel."""
    _ = (tr or translator()).gettext
    who = f"<@{by}>" if by else _("someone")
    name = escape(rotation)
    if isinstance(done, int):
        text = (
            "🔁 "
            + _(
                "%(who)s cleared the override of *%(rotation)s*: the rotation pages "
                "its on-call member again.",
                who=who,
                rotation=name,
            )
            if done
            else _(
                "*%(rotation)s* had no override in force; nothing changed.",
                rotation=name,
            )
        )
    else:
        text = "🔁 " + _(
            "*%(person)s* covers *%(rotation)s* until %(when)s (set by %(who)s); pages "
            "go to them first, then through the rotation.",
            person=escape(done.person),
            rotation=name,
            when=slack_date(done.ends_at),
            who=who,
        )
    return message(text, [section(text)])


def build_oncall_message(
    summaries: Sequence[OnCall],
    *,
    at: datetime,
    overrides: Mapping[str, Cover] | None = None,
    tr: Translator | None = None,
) -> dict[str, Any]:
    tr = tr or translator()
    _ = tr.gettext
    if not summaries:
        return message(
            _("No rotation is defined"),
            [
                section(
                    _(
                        "No rotation is defined yet: an admin adds them to the "
                        "bot's directory file (see the README)."
                    )
                )
            ],
        )
    lines = []
    for summary in summaries:
        rotation = summary.rotation
        line = _(
            "*%(rotation)s*: *%(now)s* now, until %(until)s; next *%(next)s*",
            rotation=escape(rotation.name),
            now=escape(summary.now.member),
            until=slack_date(summary.now.ends_at),
            next=escape(summary.next.member),
        )
        if rotation.escalate_after:
            line += " · " + _(
                "escalates after %(delay)s",
                delay=format_duration(rotation.escalate_after),
            )
        lines.append(line)
        cover = (overrides or {}).get(rotation.name)
        if cover is not None:
            lines.append(
                "   🔁 "
                + _(
                    "override: *%(person)s* covers until %(when)s",
                    person=escape(cover.person),
                    when=slack_date(cover.ends_at),
                )
            )
    return message(
        _("Who is on call"),
        [
            section("📅 *" + _("On call now") + "*\n" + "\n".join(lines)),
            context(_("as of %(when)s", when=slack_date(at))),
        ],
    )


def _page_buttons(page: Page, tr: Translator) -> list[dict[str, Any]]:
    """Acknowledge (until acknowledged), Resolve and Escalate (until resolved)."""
    _ = tr.gettext
    if page.state is PageState.RESOLVED:
        return []
    found: list[dict[str, Any]] = []
    if page.state is not PageState.ACKNOWLEDGED:
        found.append(
            {
                "type": "button",
                "action_id": ids.ACK_PAGE,
                "style": "primary",
                "text": plain(_("Acknowledge"), 75),
                "value": str(page.id),
            }
        )
    found.append(
        {
            "type": "button",
            "action_id": ids.RESOLVE_PAGE,
            "text": plain(_("Resolve"), 75),
            "value": str(page.id),
        }
    )
    if page.state is not PageState.EXHAUSTED:
        found.append(
            {
                "type": "button",
                "action_id": ids.ESCALATE_PAGE,
                "text": plain(_("Escalate"), 75),
                "value": str(page.id),
            }
        )
    return found


def alert_text(alert: AlertDetail, tr: Translator) -> str:
    """The alert behind a page: its integration, newest summary, how many fire."""
    _ = tr.gettext
    summary = escape(alert.summary or "")
    if not alert.is_open:
        return "🟢 " + _(
            "Alert from *%(integration)s* resolved: %(summary)s",
            integration=escape(alert.integration),
            summary=summary,
        )
    return "🔥 " + tr.ngettext(
        "Alert from *%(integration)s*, %(n)s firing: %(summary)s",
        "Alert from *%(integration)s*, %(n)s firing: %(summary)s",
        alert.firing or 1,
        integration=escape(alert.integration),
        summary=summary,
    )


def resolved_note(
    page: Page, texted: int, tr: Translator | None = None
) -> dict[str, Any]:
    """The thread reply saying the page was resolved, and how many RESOLVED SMS left."""
    tr = tr or translator()
    _ = tr.gettext
    count = (
        " · "
        + tr.ngettext(
            "RESOLVED texted to %(n)s number",
            "RESOLVED texted to %(n)s numbers",
            texted,
        )
        if texted
        else ""
    )
    plain_text = _("Resolved by %(who)s", who=_plain_who(page.acknowledged_by, tr))
    shown = _("Resolved by %(who)s", who=_who(page.acknowledged_by, tr))
    return message(plain_text + count, [section("🟢 " + shown + count)])


def _state_line(page: Page, tr: Translator) -> str:
    _ = tr.gettext
    if page.state is PageState.RESOLVED:
        return "🟢 " + _(
            "Resolved by %(who)s",
            who=_who(page.acknowledged_by, tr),
        )
    if page.state is PageState.ACKNOWLEDGED:
        when = (
            slack_date(page.acknowledged_at) if page.acknowledged_at else _("just now")
        )
        return "✅ " + _(
            "Acknowledged by %(who)s at %(when)s",
            who=_who(page.acknowledged_by, tr),
            when=when,
        )
    if page.state is PageState.EXHAUSTED:
        return "🚨 " + _("*Nobody acknowledged this page.* Every member was paged.")
    following = page.next_member
    if following and page.escalates_at:
        return "⏳ " + _(
            "Waiting for an acknowledgement; pages *%(member)s* at %(when)s",
            member=escape(following),
            when=slack_date(page.escalates_at),
        )
    return "⏳ " + _(
        "Waiting for an acknowledgement (press the button, or reply ACK to the SMS)"
    )


def acknowledger(page: Page, tr: Translator | None = None) -> str:
    """Who acknowledged ``page``, as mrkdwn."""
    return _who(page.acknowledged_by, tr or translator())


def acknowledged_note(page: Page, tr: Translator | None = None) -> dict[str, Any]:
    """The thread reply saying who acknowledged ``page``."""
    tr = tr or translator()
    _ = tr.gettext
    return message(
        _("Acknowledged by %(who)s", who=_plain_who(page.acknowledged_by, tr)),
        [section("✅ " + _("Acknowledged by %(who)s", who=acknowledger(page, tr)))],
    )


def _who(acknowledged_by: str | None, tr: Translator) -> str:
    """A Slack mention stays a mention; anything else (a name, a number) is escaped."""
    if acknowledged_by and _MENTION.match(acknowledged_by):
        return acknowledged_by
    by_key = call_acknowledger(acknowledged_by)
    if by_key:
        return tr.gettext(by_call(escape(by_key)))
    by_reply = sms_acknowledger(acknowledged_by)
    if by_reply is not None:
        return tr.gettext(by_sms(escape(by_reply)))
    return escape(acknowledged_by or tr.gettext("someone"))


def _plain_who(acknowledged_by: str | None, tr: Translator) -> str:
    """Who acknowledged, for a notification's plain text (no mrkdwn escaping)."""
    by_reply = sms_acknowledger(acknowledged_by)
    if by_reply is not None:
        return tr.gettext(by_sms(by_reply))
    return acknowledged_by or tr.gettext("someone")


def _state_text(page: Page, tr: Translator) -> str:
    _ = tr.gettext
    if page.state is PageState.RESOLVED:
        return _("resolved by %(who)s", who=_plain_who(page.acknowledged_by, tr))
    if page.state is PageState.ACKNOWLEDGED:
        return _("acknowledged by %(who)s", who=_plain_who(page.acknowledged_by, tr))
    if page.state is PageState.EXHAUSTED:
        return _("nobody acknowledged")
    return _("waiting for an acknowledgement")


def _status(raw: str) -> DeliveryStatus:
    try:
        return DeliveryStatus(raw)
    except ValueError:
        return DeliveryStatus.UNKNOWN
