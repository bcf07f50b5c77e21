"""``/sms page``, ``/sms oncall``, the Acknowledge button, escalations and Octopush callbacks
as Slack sees them: posts, in-place updates and thread replies."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from slack_bolt import Ack, App, Respond

from bot.audit import AuditRecord
from bot.audit.deliveries import Delivery, DeliveryLog
from bot.audit.pages import Page, PageState
from bot.domain import Actor, Source
from bot.errors import InputError, PolicyError
from bot.log import mask_number
from bot.paging.pager import Escalation, Pager
from bot.sending.service import outcome_from_record
from bot.slack import ids
from bot.slack.deps import SlackDeps, interaction_request_id
from bot.slack.grammar import SmsCommand
from bot.slack.views.blocks import escape, message, quote, section
from bot.slack.views.messages import build_rejection_message, build_result_message
from bot.slack.views.page_messages import (
    acknowledger,
    build_oncall_message,
    build_page_message,
    with_deliveries,
)

logger = logging.getLogger(__name__)

#: How long a receipt that arrived before its channel post waits for the post.
POST_GRACE_SECONDS = 3.0


class SlackPaging:
    """Pages in Slack; also the :class:`bot.paging.inbound.InboundListener` for callbacks."""

    def __init__(self, deps: SlackDeps, pager: Pager) -> None:
        self.deps = deps
        self.pager = pager
        self._deliveries = DeliveryLog(deps.service.store)
        self._stop = threading.Event()

    def register(self, app: App) -> None:
        app.action(ids.ACK_PAGE)(ack=self.ack_only, lazy=[self.acknowledge_button])

    def ack_only(self, ack: Ack) -> None:
        ack()

    # --- /sms page and /sms oncall -------------------------------------------------

    def page_command(
        self, parsed: SmsCommand, command: dict[str, Any], respond: Respond
    ) -> None:
        who, text = parsed.recipients[0], parsed.text
        actor = Actor(
            source=Source.PAGE,
            slack_team_id=command.get("team_id"),
            slack_user_id=command.get("user_id"),
            slack_channel_id=command.get("channel_id"),
        )
        request_id = interaction_request_id(
            "page", command.get("team_id"), command.get("trigger_id")
        )
        try:
            page, outcome = self.pager.page(
                who, text, actor, resolve=self.deps.resolve, request_id=request_id
            )
        except (InputError, PolicyError) as refusal:
            respond(response_type="ephemeral", **build_rejection_message(refusal))
            return
        if outcome.duplicate:
            return
        with self.deps.poster.after_send(
            outcome,
            user_id=page.slack_user_id,
            channel_id=page.slack_channel_id,
            response_url=command.get("response_url"),
            what="posting the page",
        ):
            posted = self.deps.poster.post(
                self._page_message(page),
                channel_id=page.slack_channel_id,
                user_id=page.slack_user_id,
                response_url=command.get("response_url"),
                audit_id=outcome.audit_id,
            )
            if posted.channel and posted.ts:
                self.pager.pages.set_message(
                    page.id, channel=posted.channel, ts=posted.ts
                )
            if not outcome.ok:
                failure = build_result_message(
                    outcome, user_id=command.get("user_id") or ""
                )
                self._thread(page, failure)

    def oncall_command(self, parsed: SmsCommand, respond: Respond) -> None:
        directory = self.deps.directory.current()
        now = datetime.now(UTC)
        name = parsed.argument.strip().lower()
        if name:
            if name not in directory.rotations:
                known = ", ".join(sorted(directory.rotations)) or "none defined"
                respond(
                    response_type="ephemeral",
                    text=f"No rotation called {name!r} (rotations: {known}).",
                )
                return
            summaries = [directory.oncall(name, at=now)]
        else:
            summaries = directory.oncall_summary(now)
        respond(response_type="ephemeral", **build_oncall_message(summaries, at=now))

    # --- acknowledgement --------------------------------------------------------------

    def acknowledge_button(self, body: dict[str, Any], respond: Respond) -> None:
        action = (body.get("actions") or [{}])[0]
        user_id = (body.get("user") or {}).get("id")
        try:
            page_id = int(action.get("value") or "")
        except ValueError:
            return
        page = self.pager.acknowledge(page_id, by=f"<@{user_id}>")
        if page is None:
            respond(
                response_type="ephemeral",
                replace_original=False,
                text="This page was already acknowledged.",
            )
            return
        self.acknowledged(page)

    # --- InboundListener ----------------------------------------------------------------

    def receipt(self, record: AuditRecord, *, retry: bool = True) -> None:
        page = self.pager.pages.for_audit(record.id)
        if page is not None:
            self.refresh_later(page)
            return
        if record.slack_message_ts is None and record.slack_channel_id and retry:
            # A receipt can beat the post (its ts is stored just after): look again later.
            timer = threading.Timer(
                POST_GRACE_SECONDS, self._receipt_again, args=(record.id,)
            )
            timer.daemon = True
            timer.start()
            return
        if record.slack_message_channel and record.slack_message_ts:
            self.deps.updates.submit(
                record.slack_message_channel,
                record.slack_message_ts,
                lambda: self._result_post(record),
            )

    def _result_post(self, record: AuditRecord) -> dict[str, Any]:
        """A send's post with its receipts as they are now (rendered when sent)."""
        post = build_result_message(
            outcome_from_record(record), user_id=record.slack_user_id or ""
        )
        return with_deliveries(post, self._deliveries.for_audit(record.id))

    def _receipt_again(self, audit_id: int) -> None:
        try:
            self.receipt(self.deps.service.store.get(audit_id), retry=False)
        except Exception:
            logger.exception("late receipt update of audit #%s failed", audit_id)

    def reply(self, record: AuditRecord | None, who: str, text: str) -> None:
        note = message(
            f"Reply from {who}: {text}",
            [section(f"💬 *Reply from {escape(who)}*\n{quote(text, 2500)}")],
        )
        self._note(record, note)

    def opted_out(self, record: AuditRecord | None, who: str) -> None:
        text = f"🚫 {escape(who)} replied STOP: this number will not be texted again"
        self._note(record, message(text, [section(text + " (see `sms-bot optout`).")]))

    def acknowledged(self, page: Page) -> None:
        self.refresh(page)
        self._thread(
            page,
            message(
                f"Acknowledged by {page.acknowledged_by}",
                [section(f"✅ Acknowledged by {acknowledger(page)}")],
            ),
        )

    # --- escalation -----------------------------------------------------------------------

    def run_escalations(self) -> list[Escalation]:
        """One pass over due timers; posts what happened in each page's thread."""
        done = self.pager.escalate_due(resolve=self.deps.resolve)
        for escalation in done:
            page = escalation.page
            self.refresh(page)
            if page.state is PageState.EXHAUSTED:
                text = f"🚨 Nobody acknowledged the page for {escape(page.target)}. <!here>"
                self._thread(
                    page,
                    message(
                        f"Nobody acknowledged the page for {page.target}",
                        [section(text)],
                    ),
                )
                if page.slack_channel_id:
                    self.deps.poster.post(
                        message(text, [section(text)]),
                        channel_id=page.slack_channel_id,
                        user_id=page.slack_user_id,
                    )
                continue
            if escalation.outcome is None:
                why = escape(escalation.problem or "?")
                text = (
                    f"⚠️ {escape(escalation.previous)} did not acknowledge, and "
                    f"*{escape(page.current_member)}* could not be paged: {why}"
                )
                self._thread(page, message(text, [section(text)]))
                continue
            label = self._label(page.current_member)
            text = (
                f"⏫ {escape(escalation.previous)} did not acknowledge: "
                f"paging *{escape(page.current_member)}* ({label})"
            )
            self._thread(page, message(text, [section(text)]))
        return done

    def start_escalation_loop(self, interval: float) -> threading.Thread:
        """Check due escalations every ``interval`` seconds until :meth:`stop`."""

        def loop() -> None:
            while not self._stop.wait(interval):
                try:
                    self.run_escalations()
                except Exception:
                    logger.exception(
                        "escalation pass failed; retrying in %s s", interval
                    )

        thread = threading.Thread(target=loop, name="sms-bot-escalations", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self._stop.set()

    # --- helpers -----------------------------------------------------------------------------

    def refresh(self, page: Page) -> None:
        if page.slack_channel_id and page.slack_message_ts:
            self.deps.poster.update(
                self._page_message(page),
                channel=page.slack_channel_id,
                ts=page.slack_message_ts,
            )

    def refresh_later(self, page: Page) -> None:
        """Like :meth:`refresh`, coalesced: a burst of receipts gives few updates."""
        if page.slack_channel_id and page.slack_message_ts:
            self.deps.updates.submit(
                page.slack_channel_id,
                page.slack_message_ts,
                lambda: self._page_message(self.pager.pages.get(page.id)),
            )

    def _page_message(self, page: Page) -> dict[str, Any]:
        paged = page.members[: page.member_index + 1]
        who = [(member, self._label(member)) for member in paged]
        return build_page_message(page, who=who, deliveries=self._page_deliveries(page))

    def _page_deliveries(self, page: Page) -> Sequence[Delivery]:
        found: list[Delivery] = []
        for audit_id in page.audit_ids:
            found.extend(self._deliveries.for_audit(audit_id))
        return found

    def _label(self, member: str) -> str:
        directory = self.deps.directory.current()
        if directory.is_name(member):
            numbers = directory.numbers_for(member, at=datetime.now(UTC))
            return ", ".join(mask_number(number) for number in numbers)
        return mask_number(member) if member.startswith("+") else member

    def _thread(self, page: Page, note: dict[str, Any]) -> None:
        if page.slack_channel_id and page.slack_message_ts:
            self.deps.poster.thread(
                note, channel=page.slack_channel_id, ts=page.slack_message_ts
            )

    def _note(self, record: AuditRecord | None, note: dict[str, Any]) -> None:
        """In the thread of the original post; else in the admin channel; else logged."""
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
        logger.warning("inbound SMS with no post to attach it to: %s", note.get("text"))
