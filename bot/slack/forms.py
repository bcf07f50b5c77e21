"""The send form: opened by ``/sms``, the shortcuts, submitted, previewed as you type.

Problems a person can fix go back on their own field with ``response_action: errors``
(decided before the one ``ack`` Slack reads); the send itself runs after the ack.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.domain import Actor, Source
from bot.errors import InputError, PolicyError
from bot.slack import ids
from bot.slack.deps import SlackDeps, interaction_request_id
from bot.slack.grammar import unescape_slack
from bot.slack.messages import (
    build_error_message,
    build_rejection_message,
    build_result_message,
)
from bot.slack.modals import (
    ModalContext,
    ModalSubmission,
    build_sms_modal,
    errors_for_modal,
    read_sms_modal,
    update_preview,
)

logger = logging.getLogger(__name__)


class SmsFormHandlers:
    """Listeners for the shortcuts, the live preview and the form submission."""

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
        app.view(ids.SMS_MODAL)(ack=self.ack_submission, lazy=[self.send_submission])

    def ack_only(self, ack: Ack) -> None:
        ack()

    def open_from_shortcut(self, body: dict[str, Any], client: WebClient) -> None:
        """Open the form; a message shortcut pre-fills the message's text."""
        message = body.get("message") or {}
        channel = (body.get("channel") or {}).get("id")
        context = ModalContext(
            channel_id=channel,
            response_url=body.get("response_url"),
            user_id=_user_id(body),
        )
        settings = self.deps.settings.sms
        view = build_sms_modal(
            context=context,
            initial_text=unescape_slack(str(message.get("text") or ""))[:1224],
            default_sender=settings.default_sender,
            default_type=settings.default_type,
            default_purpose=settings.default_purpose,
            region=settings.default_region,
        )
        try:
            client.views_open(trigger_id=body["trigger_id"], view=view)
        except SlackApiError as error:
            logger.warning("views.open from a shortcut failed: %s", _code(error))

    def refresh_preview(self, body: dict[str, Any], client: WebClient) -> None:
        """Show the encoding and SMS count of the text typed so far."""
        view = body.get("view") or {}
        actions = body.get("actions") or [{}]
        text = str(actions[0].get("value") or "")
        try:
            client.views_update(
                view_id=view["id"],
                hash=view.get("hash"),
                view=update_preview(view, text),
            )
        except SlackApiError as error:
            # hash_conflict means a newer keystroke already updated the view: nothing to do.
            logger.debug("preview update skipped: %s", _code(error))

    def ack_submission(
        self, ack: Ack, body: dict[str, Any], view: dict[str, Any]
    ) -> None:
        """Check everything a person can fix before the one ack that Slack reads."""
        submission = read_sms_modal(view, response_urls=body.get("response_urls") or ())
        if not isinstance(submission, ModalSubmission):
            ack(response_action="errors", errors=submission)
            return
        try:
            self.deps.service.validate(submission.draft, resolve=self.deps.resolve)
        except InputError as error:
            ack(response_action="errors", errors=errors_for_modal(error))
            return
        ack()

    def send_submission(self, body: dict[str, Any], view: dict[str, Any]) -> None:
        """Send the validated form and post the result in the chosen channel."""
        submission = read_sms_modal(view, response_urls=body.get("response_urls") or ())
        if not isinstance(submission, ModalSubmission):
            return  # the ack already showed the problems
        user_id = _user_id(body)
        context = ModalContext.from_metadata(str(view.get("private_metadata") or ""))
        channel_id = submission.channel_id or context.channel_id
        actor = Actor(
            source=Source.MODAL,
            slack_team_id=(body.get("team") or {}).get("id"),
            slack_user_id=user_id,
            slack_channel_id=channel_id,
        )
        draft = submission.draft.model_copy(
            update={
                "request_id": interaction_request_id(
                    "modal", actor.slack_team_id, view.get("id")
                )
            }
        )
        poster = self.deps.poster
        response_url = submission.response_url or context.response_url
        try:
            outcome = self.deps.service.send(draft, actor, resolve=self.deps.resolve)
        except (InputError, PolicyError) as refusal:
            if user_id:
                poster.tell_user(
                    user_id, build_rejection_message(refusal), channel_id=channel_id
                )
            return
        except Exception:
            logger.exception("modal send failed", extra={"user": user_id})
            if user_id:
                poster.tell_user(
                    user_id,
                    build_error_message("Something went wrong sending your SMS."),
                    channel_id=channel_id,
                )
            return
        if outcome.duplicate:
            return  # a double-clicked submit: the first one posts the result
        poster.post(
            build_result_message(outcome, user_id=user_id or ""),
            channel_id=channel_id,
            user_id=user_id,
            response_url=response_url,
            audit_id=outcome.audit_id,
        )


def _user_id(body: dict[str, Any]) -> str | None:
    user = body.get("user") or {}
    return str(user["id"]) if user.get("id") else None


def _code(error: SlackApiError) -> str:
    return (
        str(error.response.get("error", "unknown_error"))
        if error.response is not None
        else "unknown_error"
    )
