"""Where page news goes in Slack: the page's post, its thread, the channel, the admin channel.

Shared by the page commands, the receipt listener and the escalation loop, so each of
them says what happened and this module alone knows where it is shown.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from bot.audit.pages import Page
from bot.audit.records import AuditRecord
from bot.errors import AuditStoreError
from bot.i18n import translator
from bot.log import mask_number
from bot.paging.alert_view import AlertView
from bot.paging.pager import Pager
from bot.paging.tracking import DeliveryTracker
from bot.slack.deps import SlackDeps
from bot.slack.views.blocks import message, section
from bot.slack.views.page_messages import build_page_message

logger = logging.getLogger(__name__)


class PagePosts:
    """Posts, updates and thread replies for pages and sends."""

    def __init__(self, deps: SlackDeps, pager: Pager) -> None:
        self.deps = deps
        self.pager = pager
        self.tracker = DeliveryTracker(deps.service.store)
        self.alerts = AlertView(deps.service.store)

    def page_message(self, page: Page) -> dict[str, Any]:
        """The page's post; when its SMS or receipts cannot be read it still shows the
        page and its Acknowledge button (the SMS is out: the post must exist)."""
        paged = page.members[: len(page.audit_ids) or page.member_index + 1]
        who = [(member, self.label(member)) for member in paged]
        try:
            sms_ids = self.pager.pages.sms_ids(page)
            deliveries = self.tracker.for_page(page, sms_ids)
        except AuditStoreError as error:
            logger.warning("page #%s: reading its SMS failed: %s", page.id, error)
            sms_ids, deliveries = [i for i in page.audit_ids if i], []
        return build_page_message(
            page,
            who=who,
            deliveries=deliveries,
            audit_ids=sms_ids,
            alert=self.alerts.detail(page.id),
        )

    def refresh(self, page: Page) -> None:
        if page.slack_channel_id and page.slack_message_ts:
            self.deps.poster.update(
                self.page_message(self.pager.pages.get(page.id)),
                channel=page.slack_channel_id,
                ts=page.slack_message_ts,
            )

    def refresh_later(self, page: Page) -> None:
        """Like :meth:`refresh`, coalesced: a burst of receipts gives few updates."""
        if page.slack_channel_id and page.slack_message_ts:
            self.deps.updates.submit(
                page.slack_channel_id,
                page.slack_message_ts,
                lambda: self.page_message(self.pager.pages.get(page.id)),
            )

    def thread(self, page: Page, note: dict[str, Any]) -> None:
        if page.slack_channel_id and page.slack_message_ts:
            self.deps.poster.thread(
                note, channel=page.slack_channel_id, ts=page.slack_message_ts
            )

    def channel(self, page: Page, text: str) -> None:
        """A post in the page's channel itself (not the thread): for what all must see."""
        if page.slack_channel_id:
            self.deps.poster.post(
                message(text, [section(text)]),
                channel_id=page.slack_channel_id,
                user_id=page.slack_user_id,
            )

    def admin(self, notice: str, *, icon: str = "") -> bool:
        """A notice in ``SMS_ADMIN_CHANNEL``; False (logged) when none is set.

        ``notice`` is English, usually marked with ``N_``: the channel reads it in
        ``SMS_LANGUAGE``, the log keeps it English (operators grep it).
        """
        admin = self.deps.settings.sms.admin_channel
        if not admin:
            logger.warning(
                "notice (set SMS_ADMIN_CHANNEL to see it in Slack): %s", notice
            )
            return False
        shown = translator().gettext(notice)
        text = f"{icon} {shown}" if icon else shown
        self.deps.poster.post(
            message(text, [section(text)]), channel_id=admin, user_id=None
        )
        return True

    def note(
        self, record: AuditRecord | None, note: dict[str, Any], english: str
    ) -> None:
        """In the thread of the original post; else in the admin channel; else logged
        (as ``english``: operators grep the log)."""
        if (
            record is not None
            and record.slack_message_channel
            and record.slack_message_ts
        ):
            if self.deps.poster.thread(
                note, channel=record.slack_message_channel, ts=record.slack_message_ts
            ):
                return
        admin = self.deps.settings.sms.admin_channel
        if admin:
            self.deps.poster.post(note, channel_id=admin, user_id=None)
            return
        logger.warning("inbound SMS with no post to attach it to: %s", english)

    def label(self, member: str) -> str:
        directory = self.deps.directory.current()
        if directory.is_name(member):
            numbers = directory.numbers_for(member, at=datetime.now(UTC))
            return ", ".join(mask_number(number) for number in numbers)
        return mask_number(member) if member.startswith("+") else member
