"""What an alert does, shown in Slack: the page's post in the integration's channel,
its updates while the alert fires, and the resolve.

The :class:`~bot.alerts.handler.AlertListener` of the alert worker. A page from an
alert is posted like a page from ``/sms page`` (same post, buttons, thread notes);
its post also shows the alert (newest summary, how many fire, its links).
"""

from __future__ import annotations

import dataclasses
import logging

from bot.alerts.payloads import AlertEvent
from bot.audit.pages import Page
from bot.directory.model import Integration
from bot.errors import AuditStoreError
from bot.i18n import translator
from bot.paging.life import Resolution
from bot.paging.pager import PageRun
from bot.slack.listeners.escalations import SlackEscalations
from bot.slack.listeners.page_posts import PagePosts
from bot.slack.views.blocks import escape, message, section
from bot.slack.views.page_messages import (
    acknowledged_note,
    page_problems_text,
    resolved_note,
)

logger = logging.getLogger(__name__)


class SlackAlerts:
    """Posts what the alert handler did (read by the channel: ``SMS_LANGUAGE``)."""

    def __init__(self, posts: PagePosts, escalations: SlackEscalations) -> None:
        self.posts = posts
        self.escalations = escalations

    def opened(self, run: PageRun, integration: Integration) -> None:
        page = run.page
        posted = self.posts.deps.poster.post(
            self.posts.page_message(page),
            channel_id=integration.channel,
            user_id=None,
            audit_id=run.attempts[0].audit_id if run.attempts else None,
        )
        problems = list(run.problems)
        if posted.channel and posted.ts:
            problem = self.posts.pager.remember_post(
                page.id, channel=posted.channel, ts=posted.ts
            )
            problems += [problem] if problem else []
            page = dataclasses.replace(
                page, slack_channel_id=posted.channel, slack_message_ts=posted.ts
            )
        if problems and page.slack_message_ts:
            text = page_problems_text(problems, page)
            self.posts.thread(page, message(text, [section(text)]))
        if run.failed:
            self.escalations.report(dataclasses.replace(run, page=page))

    def updated(self, page: Page) -> None:
        self.posts.refresh_later(page)

    def posted_only(self, integration: Integration, event: AlertEvent) -> None:
        """An alert whose severity does not page: a post in the channel only."""
        text = "⚠️ " + translator().gettext(
            "Alert from *%(integration)s* (%(severity)s, not paging): %(summary)s",
            integration=escape(integration.name),
            severity=escape(event.severity or "?"),
            summary=escape(event.summary),
        )
        self.posts.deps.poster.post(
            message(text, [section(text)]), channel_id=integration.channel, user_id=None
        )

    def refused(self, integration: Integration, event: AlertEvent, reason: str) -> None:
        tr = translator()
        text = "🚫 " + tr.gettext(
            "Alert from *%(integration)s* could not page: %(reason)s (%(summary)s)",
            integration=escape(integration.name),
            reason=tr.gettext(reason),
            summary=escape(event.summary),
        )
        self.posts.deps.poster.post(
            message(text, [section(text)]), channel_id=integration.channel, user_id=None
        )

    def resolved(self, resolution: Resolution) -> None:
        page = resolution.page
        texted = (
            len(resolution.sms.request.recipients)
            if resolution.sms is not None and resolution.sms.ok
            else 0
        )
        try:
            self.posts.refresh(page)
        except AuditStoreError as error:
            logger.warning("page #%s: its post was not updated: %s", page.id, error)
        self.posts.thread(page, resolved_note(page, texted))

    def acknowledged(self, page: Page) -> None:
        self.posts.refresh(page)
        self.posts.thread(page, acknowledged_note(page))
