"""Octopush callbacks as Slack sees them, for every send (not only pages): delivery
receipts update the post in place, replies and STOPs go in its thread."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from bot.audit.deliveries import Delivery
from bot.audit.pages import Page
from bot.audit.records import AuditRecord
from bot.i18n import N_, translator
from bot.paging.life import Resolution
from bot.paging.pager import PageRun
from bot.paging.voice import ACK_KEY
from bot.sending.gateway import DeliveryReceipt
from bot.sending.recipient_names import RecipientNames
from bot.sending.service import outcome_from_record
from bot.slack.listeners.escalations import SlackEscalations
from bot.slack.listeners.page_posts import PagePosts
from bot.slack.views.blocks import escape, message, quote, section
from bot.slack.views.messages import build_result_message
from bot.slack.views.page_messages import (
    acknowledged_note,
    resolved_note,
    with_deliveries,
)

logger = logging.getLogger(__name__)


class SlackReceipts:
    """The :class:`bot.paging.inbound.InboundListener` of the Slack app."""

    def __init__(self, posts: PagePosts, escalations: SlackEscalations) -> None:
        self.posts = posts
        self.escalations = escalations

    def receipt(self, record: AuditRecord) -> None:
        """Receipt -> post update, in one place (so updates can be coalesced here).

        A receipt can beat the post (its ts is stored just after): it is stored, and
        :meth:`post_remembered` shows it once the post is known.
        """
        posts = self.posts
        page = posts.pager.pages.for_audit(record.id)
        if page is not None:
            posts.refresh_later(page)
            return
        if record.slack_message_channel and record.slack_message_ts:
            posts.deps.updates.submit(
                record.slack_message_channel,
                record.slack_message_ts,
                lambda: self._result_post(record),
            )

    def _result_post(self, record: AuditRecord) -> dict[str, Any]:
        """A send's post with its receipts as they are now (rendered when sent)."""
        deliveries = self.posts.tracker.for_audit(record.id)
        post = build_result_message(
            outcome_from_record(record),
            user_id=record.slack_user_id or "",
            names=RecipientNames(self.posts.deps.service.store).of(record.id),
            deliveries=deliveries,
        )
        return with_deliveries(post, deliveries)

    def post_remembered(self, audit_id: int, receipts: Sequence[Delivery]) -> None:
        """A send's post was just remembered: show the receipts that came before it.

        ``receipts`` were read in the transaction that remembered the post; one
        stored after it is its own handler's to show.
        """
        if receipts:
            self.receipt(self.posts.tracker.record(audit_id))

    def reply(
        self,
        record: AuditRecord | None,
        who: str,
        text: str,
        *,
        not_paged: bool = False,
    ) -> None:
        """A reply in the thread of the post it answers; the typed text stays as typed."""
        tr = translator()  # a thread is read by many: SMS_LANGUAGE
        heading = tr.gettext("Reply from %(who)s", who=escape(who))
        lines = f"💬 *{heading}*\n{quote(text, 2500)}"
        if not_paged:
            lines += "\n_" + tr.gettext(
                "Not taken as an acknowledgement: this page did not text that number."
            )
            lines += "_"
        said = N_("Reply from %(who)s: %(text)s", who=who, text=text)
        self.posts.note(record, message(tr.gettext(said), [section(lines)]), said)

    def opted_out(
        self, record: AuditRecord | None, who: str, rotations: Sequence[str] = ()
    ) -> None:
        """The STOP in the thread of the post it answers, and for an on-call member,
        which rotations cannot reach them any more in ``SMS_ADMIN_CHANNEL``."""
        tr = translator()  # thread and admin channel: SMS_LANGUAGE
        text = "🚫 " + tr.gettext(
            "%(who)s replied STOP: this number will not be texted again",
            who=escape(who),
        )
        see = tr.gettext("(see `sms-bot optout`)")
        said = N_("%(who)s replied STOP: this number will not be texted again", who=who)
        self.posts.note(record, message(text, [section(f"{text} {see}.")]), said)
        if rotations:
            names = ", ".join(escape(name) for name in rotations)
            self.posts.admin(
                N_(
                    "%(who)s opted out of SMS: %(rotations)s cannot reach them "
                    "(`sms-bot optout remove NUMBER` lifts it).",
                    who=escape(who),
                    rotations=names,
                ),
                icon="🚫",
            )

    def acknowledged(self, page: Page) -> None:
        self.posts.refresh(page)
        self.posts.thread(page, acknowledged_note(page))

    def failed_over(self, run: PageRun) -> None:
        self.escalations.report(run)

    def resolved(self, resolution: Resolution) -> None:
        """``RES`` by SMS: the post and its thread say it, as for the button."""
        page = resolution.page
        texted = (
            len(resolution.sms.request.recipients)
            if resolution.sms is not None and resolution.sms.ok
            else 0
        )
        self.posts.refresh(page)
        self.posts.thread(page, resolved_note(page, texted))

    def escalated(self, page: Page, who: str) -> None:
        """``ESC`` by SMS: said in the thread, then the next member is paged now."""
        text = translator().gettext("Passed on by %(who)s by SMS", who=who)
        self.posts.thread(page, message(text, [section("⏭️ " + escape(text))]))
        self.escalations.run_escalations()

    def called(self, page: Page, member: str, receipt: DeliveryReceipt) -> None:
        """A page call ended without acknowledging it: said in the page's thread."""
        tr = translator()  # a thread is read by many: SMS_LANGUAGE
        if receipt.status.is_delivered:
            text = tr.gettext(
                "called *%(member)s*: answered, but %(key)s was not pressed; the "
                "page is still open",
                member=escape(member),
                key=ACK_KEY,
            )
        else:
            text = tr.gettext(
                "called *%(member)s*: %(status)s",
                member=escape(member),
                status=escape(tr.gettext(receipt.description)),
            )
        self.posts.thread(page, message(text, [section("📞 " + text)]))
