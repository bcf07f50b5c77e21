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
from bot.log import mask_number
from bot.octopush import DeliveryStatus, describe_status
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


def delivery_text(deliveries: Sequence[Delivery]) -> str:
    """The Delivery block: one line each, or for a big send "198 delivered, 2 failed"
    and the lines of those not delivered (a section holds only 3000 characters)."""
    if len(deliveries) <= LISTED_MAX:
        return "*Delivery*\n" + "\n".join(delivery_lines(deliveries))
    statuses = [_status(delivery.status) for delivery in deliveries]
    delivered = sum(1 for status in statuses if status.is_delivered)
    failed = sum(1 for status in statuses if status.is_failure)
    waiting = len(statuses) - delivered - failed
    counts = [f"{delivered} delivered", f"{failed} failed"]
    if waiting:
        counts.append(f"{waiting} waiting")
    others = [
        d for d, s in zip(deliveries, statuses, strict=True) if not s.is_delivered
    ]
    lines = delivery_lines(others[:LISTED_MAX])
    if len(others) > LISTED_MAX:
        lines.append(f"… and {len(others) - LISTED_MAX} more not delivered yet")
    return "\n".join([f"*Delivery*: {', '.join(counts)}", *lines])


def delivery_lines(deliveries: Sequence[Delivery]) -> list[str]:
    """One line per recipient: masked number and the receipt in plain words."""
    lines = []
    for delivery in deliveries:
        status = _status(delivery.status)
        emoji = "✅" if status.is_delivered else "❌" if status.is_failure else "⏳"
        words = (
            describe_status(status)
            if status is not DeliveryStatus.UNKNOWN
            else delivery.raw_status
        )
        lines.append(f"{emoji} {mask_number(delivery.number)}: {escape(words)}")
    return lines


def with_deliveries(
    post: dict[str, Any], deliveries: Sequence[Delivery]
) -> dict[str, Any]:
    """A result post with the delivery receipts added before its last (context) block."""
    if not deliveries:
        return post
    blocks = list(post.get("blocks") or [])
    block = section(delivery_text(deliveries))
    position = (
        len(blocks) - 1
        if blocks and blocks[-1].get("type") == "context"
        else len(blocks)
    )
    blocks.insert(position, block)
    return {**post, "blocks": blocks}


def build_page_message(
    page: Page, *, who: Sequence[tuple[str, str]], deliveries: Sequence[Delivery]
) -> dict[str, Any]:
    """The channel post of a page; ``who`` pairs each member paged so far with a label."""
    paged = (
        ", ".join(f"*{escape(name)}* ({escape(label)})" for name, label in who)
        or "nobody"
    )
    lines = [f"📟 *Page for {escape(page.target)}*: paged {paged}"]
    if page.text:
        lines.append(quote(page.text))
    blocks: list[dict[str, Any]] = [section("\n".join(lines))]
    blocks.append(section(_state_line(page)))
    if deliveries:
        blocks.append(section(delivery_text(deliveries)))
    if page.state is not PageState.ACKNOWLEDGED:
        blocks.append(
            {
                "type": "actions",
                "block_id": "page_actions",
                "elements": [
                    {
                        "type": "button",
                        "action_id": ids.ACK_PAGE,
                        "style": "primary",
                        "text": plain("Acknowledge", 75),
                        "value": str(page.id),
                    }
                ],
            }
        )
    audits = ", ".join(f"#{audit_id}" for audit_id in page.audit_ids)
    blocks.append(context(f"page #{page.id} · audit {audits}"))
    return message(f"Page for {page.target}: {_state_text(page)}", blocks)


def build_override_message(
    rotation: str, done: Cover | int, *, by: str
) -> dict[str, Any]:
    """What ``/sms oncall set|clear`` says in the channel."""
    who = f"<@{by}>" if by else "someone"
    if isinstance(done, int):
        text = (
            f"🔁 {who} cleared the override of *{escape(rotation)}*: the rotation pages "
            "its on-call member again."
            if done
            else f"*{escape(rotation)}* had no override in force; nothing changed."
        )
    else:
        text = (
            f"🔁 *{escape(done.person)}* covers *{escape(rotation)}* until "
            f"{slack_date(done.ends_at)} (set by {who}); pages go to them first, "
            "then through the rotation."
        )
    return message(text, [section(text)])


def build_oncall_message(
    summaries: Sequence[OnCall],
    *,
    at: datetime,
    overrides: Mapping[str, Cover] | None = None,
) -> dict[str, Any]:
    if not summaries:
        return message(
            "No rotation is defined",
            [
                section(
                    "No rotation is defined in SMS_DIRECTORY; see the README (directory file)."
                )
            ],
        )
    lines = []
    for summary in summaries:
        rotation = summary.rotation
        lines.append(
            f"*{escape(rotation.name)}*: *{escape(summary.now.member)}* now, until "
            f"{slack_date(summary.now.ends_at)}; next *{escape(summary.next.member)}*"
            + (
                f" · escalates after {format_duration(rotation.escalate_after)}"
                if rotation.escalate_after
                else ""
            )
        )
        cover = (overrides or {}).get(rotation.name)
        if cover is not None:
            lines.append(
                f"   🔁 override: *{escape(cover.person)}* covers until "
                f"{slack_date(cover.ends_at)}"
            )
    return message(
        "Who is on call",
        [
            section("📅 *On call now*\n" + "\n".join(lines)),
            context(f"as of {slack_date(at)}"),
        ],
    )


def _state_line(page: Page) -> str:
    if page.state is PageState.ACKNOWLEDGED:
        when = slack_date(page.acknowledged_at) if page.acknowledged_at else "just now"
        return f"✅ Acknowledged by {_who(page.acknowledged_by)} at {when}"
    if page.state is PageState.EXHAUSTED:
        return "🚨 *Nobody acknowledged this page.* Every member was paged."
    following = page.next_member
    if following and page.next_escalation_at:
        when = slack_date(page.next_escalation_at)
        return (
            f"⏳ Waiting for an acknowledgement; pages *{escape(following)}* at {when}"
        )
    return (
        "⏳ Waiting for an acknowledgement (press the button, or reply ACK to the SMS)"
    )


def acknowledger(page: Page) -> str:
    """Who acknowledged ``page``, as mrkdwn."""
    return _who(page.acknowledged_by)


def acknowledged_note(page: Page) -> dict[str, Any]:
    """The thread reply saying who acknowledged ``page``."""
    return message(
        f"Acknowledged by {page.acknowledged_by}",
        [section(f"✅ Acknowledged by {acknowledger(page)}")],
    )


def _who(acknowledged_by: str | None) -> str:
    """A Slack mention stays a mention; anything else (a name, a number) is escaped."""
    if acknowledged_by and _MENTION.match(acknowledged_by):
        return acknowledged_by
    return escape(acknowledged_by or "someone")


def _state_text(page: Page) -> str:
    return {
        PageState.ACKNOWLEDGED: f"acknowledged by {page.acknowledged_by}",
        PageState.EXHAUSTED: "nobody acknowledged",
        PageState.OPEN: "waiting for an acknowledgement",
    }[page.state]


def _status(raw: str) -> DeliveryStatus:
    try:
        return DeliveryStatus(raw)
    except ValueError:
        return DeliveryStatus.UNKNOWN
