"""Cancelling a scheduled send from Slack: ``/sms cancel TICKET`` and the *Cancel* button.

Both go through :class:`bot.sending.cancel.CancelService` (the sender and
``SMS_ADMINS`` only, Octopush's rules first). The person who asked gets a private
answer in their language; once the send is cancelled its post is rebuilt, saying who
cancelled it and when, without the button.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, Respond

from bot.audit.records import AuditRecord
from bot.errors import AuditStoreError
from bot.i18n import N_, translator
from bot.sending.cancel import BUSY, CancelResult, CancelService, CancelVerdict
from bot.sending.cancel_rules import NOT_YOURS
from bot.sending.cancel_words import cancel_words
from bot.sending.recipient_names import RecipientNames
from bot.sending.service import outcome_from_record
from bot.slack import ids
from bot.slack.deps import SlackDeps
from bot.slack.views.blocks import escape, message, section
from bot.slack.views.messages import build_error_message, build_result_message

logger = logging.getLogger(__name__)

_ICONS = {
    CancelVerdict.CANCELLED: "↩️",
    CancelVerdict.ALREADY: "↩️",
    CancelVerdict.UNRECORDED: "⚠️",
    CancelVerdict.UNKNOWN: "⚠️",
}


class SlackCancels:
    """``/sms cancel`` (called by the command handler) and the *Cancel* button."""

    def __init__(self, deps: SlackDeps) -> None:
        self.deps = deps

    def _service(self) -> CancelService:
        """Built per use: it takes the send service's Octopush client as it is now."""
        service = self.deps.service
        return CancelService(
            octopush=service.octopush,
            store=service.store,
            admins=self.deps.settings.sms.admins,
        )

    def register(self, app: App) -> None:
        app.action(ids.CANCEL_SCHEDULED)(ack=self.ack_button, lazy=[self.press])

    def ack_button(self, ack: Ack) -> None:
        ack()

    def command(self, ticket: str, command: dict[str, Any], respond: Respond) -> None:
        """``/sms cancel TICKET``, after the ack."""
        user = command.get("user_id")
        result = self._service().cancel_ticket(ticket, by=user or "")
        self._answer(result, ticket, user, respond)

    def press(self, body: dict[str, Any], respond: Respond) -> None:
        """The *Cancel* button on a scheduled send's post (value: its audit id)."""
        user = (body.get("user") or {}).get("id")
        action = (body.get("actions") or [{}])[0]
        reader = self.deps.languages.translator_for(user)
        try:
            record = self.deps.service.store.get(int(str(action.get("value"))))
        except (ValueError, AuditStoreError):
            logger.warning("cancel button for an unknown record: %r", action)
            respond(
                response_type="ephemeral",
                replace_original=False,
                **build_error_message(
                    N_("This send is no longer on record; nothing was cancelled."),
                    reader,
                ),
            )
            return
        result = self._service().cancel(record, by=user or "")
        self._answer(result, record.sms_ticket or "?", user, respond)

    def _answer(
        self,
        result: CancelResult,
        ticket: str,
        user: str | None,
        respond: Respond,
    ) -> None:
        reader = self.deps.languages.translator_for(user)
        shown = reader.gettext(cancel_words(result, ticket))
        icon = _ICONS.get(result.verdict, "🚫")
        respond(
            response_type="ephemeral",
            replace_original=False,
            **message(f"{icon} {shown}", [section(f"{icon} {escape(shown)}")]),
        )
        if _post_changes(result) and result.record is not None:
            self._refresh_post(result.record)

    def _refresh_post(self, record: AuditRecord) -> None:
        """Rebuild the send's post: cancelled (who, when), or without the button."""
        channel, ts = record.slack_message_channel, record.slack_message_ts
        if not channel or not ts:
            return
        try:
            current = self.deps.service.store.get(record.id)
        except AuditStoreError:
            current = record
        post = build_result_message(
            outcome_from_record(current),
            user_id=current.slack_user_id or "",
            tr=translator(),  # a channel post: SMS_LANGUAGE
            names=RecipientNames(self.deps.service.store).of(current.id),
        )
        self.deps.poster.update(post, channel=channel, ts=ts)


def _post_changes(result: CancelResult) -> bool:
    """Whether the post should change: cancelled, or the button no longer applies."""
    if result.verdict in (CancelVerdict.CANCELLED, CancelVerdict.ALREADY):
        return True
    # A rule that now forbids it (too late...) takes the button away; who pressed
    # and a cancel in progress change nothing. Unrecorded: the record says sent.
    return result.verdict is CancelVerdict.NOT_ALLOWED and result.reason not in (
        NOT_YOURS,
        BUSY,
        None,
    )
