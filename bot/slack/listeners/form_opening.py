"""Opening the send form (``/sms``, the shortcuts, a question's button) and its preview."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.domain import MAX_TEXT_LENGTH, Actor, Source
from bot.errors import InputError, PolicyError
from bot.slack import ids
from bot.slack.api import slack_error_code
from bot.slack.deps import SlackDeps
from bot.slack.mrkdwn_text import SmsText, slack_to_sms
from bot.slack.views.emoji_note import emoji_note_block, with_note_after_preview
from bot.slack.views.modals import (
    ModalContext,
    build_refusal_modal,
    build_sms_modal,
    update_preview,
)

logger = logging.getLogger(__name__)

#: Mentions named in "Send as SMS" by a profile lookup each (more are shown as ids).
MAX_NAME_LOOKUPS = 8


def open_sms_form(
    client: WebClient,
    deps: SlackDeps,
    *,
    trigger_id: str | None,
    context: ModalContext,
    initial_text: str = "",
    initial_recipients: str = "",
    converted: SmsText | None = None,
) -> str | None:
    """Open the send form (``views.open``); ``None``, or what to tell the person.

    The one place the form is opened: by ``/sms``, the shortcuts, and the question
    asked about an ambiguous command. ``converted``: a Slack message made SMS text,
    whose emoji left out are said under the SMS count.
    """
    settings = deps.settings.sms
    tr = deps.languages.translator_for(
        context.user_id
    )  # a modal: its reader's language
    view = build_sms_modal(
        context=context,
        initial_text=initial_text[:MAX_TEXT_LENGTH],
        initial_recipients=initial_recipients,
        default_sender=settings.default_sender,
        default_type=settings.default_type,
        default_purpose=settings.default_purpose,
        region=settings.default_region,
        tr=tr,
    )
    if converted is not None:
        view = with_note_after_preview(view, emoji_note_block(converted, tr))
    refusal = _refusal(deps, context)
    if refusal is not None:  # told now, not after the form was filled in
        view = build_refusal_modal(refusal.message, refusal.rule, tr)
    if not trigger_id:
        return tr.gettext("Could not open the SMS form (no trigger); try `/sms` again.")
    try:
        client.views_open(trigger_id=trigger_id, view=view)
    except SlackApiError as error:
        code = slack_error_code(error)
        logger.warning("views.open failed: %s", code)
        return tr.gettext(
            "Could not open the SMS form (%(code)s); try `/sms` again.", code=code
        )
    return None


def _refusal(deps: SlackDeps, context: ModalContext) -> PolicyError | None:
    """Why the admin's who/where rules would refuse this person's send, if they would.

    Opened from a conversation, the form is judged from there, as a ``/sms`` typed in
    it would be. The global shortcut has none: the person picks the channel in the form,
    so only the people rule is checked (the submission checks the channel chosen).
    """
    channel = context.channel_id
    allowed = deps.settings.sms.allowed_channels
    if channel is None and allowed:
        channel = allowed[0]
    actor = Actor(
        source=Source.MODAL, slack_user_id=context.user_id, slack_channel_id=channel
    )
    try:
        deps.service.check_actor(actor)
    except PolicyError as refusal:
        return refusal
    return None


class FormOpening:
    """The shortcuts that open the form, and the SMS count shown as you type."""

    def __init__(self, deps: SlackDeps) -> None:
        self.deps = deps

    def register(self, app: App) -> None:
        app.shortcut(ids.GLOBAL_SHORTCUT)(
            ack=self.ack_only, lazy=[self.open_from_shortcut]
        )
        app.shortcut(ids.MESSAGE_SHORTCUT)(
            ack=self.ack_only, lazy=[self.open_from_shortcut]
        )
        app.action(ids.TEXT_INPUT)(ack=self.ack_only, lazy=[self.refresh_preview])

    def ack_only(self, ack: Ack) -> None:
        ack()

    def open_from_shortcut(self, body: dict[str, Any], client: WebClient) -> None:
        """Open the form; a message shortcut pre-fills the message's text as people
        read it (names, link labels, emoji; no markup), which is what will be sent."""
        message = body.get("message") or {}
        converted = slack_to_sms(
            str(message.get("text") or ""), user_name=self._names(MAX_NAME_LOOKUPS)
        )
        context = ModalContext(
            channel_id=(body.get("channel") or {}).get("id"),
            response_url=body.get("response_url"),
            user_id=_user_id(body),
        )
        problem = open_sms_form(
            client,
            self.deps,
            trigger_id=body.get("trigger_id"),
            context=context,
            initial_text=converted.text,
            converted=converted,
        )
        if problem is not None:
            logger.warning("views.open from a shortcut failed: %s", problem)

    def _names(self, limit: int) -> Callable[[str], str | None]:
        """Mentioned people's display names (cached profiles), at most ``limit`` of
        them: the form must open within the trigger's 3 seconds. ``None`` for the rest
        and for a profile that cannot be read (the id is shown)."""
        asked: dict[str, str | None] = {}

        def name(user_id: str) -> str | None:
            if user_id not in asked:
                if len(asked) >= limit:
                    return None
                try:
                    asked[user_id] = self.deps.phones.handle_of(user_id)
                except InputError:
                    asked[user_id] = None
            return asked[user_id]

        return name

    def refresh_preview(self, body: dict[str, Any], client: WebClient) -> None:
        """Show the encoding and SMS count of the text typed so far."""
        view = body.get("view") or {}
        actions = body.get("actions") or [{}]
        text = str(actions[0].get("value") or "")
        try:
            client.views_update(
                view_id=view["id"],
                hash=view.get("hash"),
                view=update_preview(
                    view, text, self.deps.languages.translator_for(_user_id(body))
                ),
            )
        except SlackApiError as error:
            # hash_conflict means a newer keystroke already updated the view: nothing to do.
            logger.debug("preview update skipped: %s", slack_error_code(error))


def _user_id(body: dict[str, Any]) -> str | None:
    user = body.get("user") or {}
    return str(user["id"]) if user.get("id") else None
