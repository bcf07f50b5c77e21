"""The send form: opened by ``/sms``, the shortcuts, submitted, previewed as you type.

Problems a person can fix go back on their own field with ``response_action: errors``
(decided before the one ``ack`` Slack reads); the send itself runs after the ack.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.domain import MAX_TEXT_LENGTH, Actor, SendDraft, SendRequest, Source
from bot.errors import InputError, PolicyError
from bot.sending.segments import analyse
from bot.slack import ids
from bot.slack.api import slack_error_code
from bot.slack.deps import SlackDeps, interaction_request_id
from bot.slack.grammar import unescape_slack
from bot.slack.views.command_replies import describe_estimate
from bot.slack.views.messages import (
    build_error_message,
    build_rejection_message,
    build_result_message,
)
from bot.slack.views.modals import (
    METADATA_MAX,
    ModalContext,
    ModalSubmission,
    build_confirm_modal,
    build_sms_modal,
    errors_for_modal,
    read_sms_modal,
    update_preview,
)

logger = logging.getLogger(__name__)


def open_sms_form(
    client: WebClient,
    deps: SlackDeps,
    *,
    trigger_id: str | None,
    context: ModalContext,
    initial_text: str = "",
    initial_recipients: str = "",
) -> str | None:
    """Open the send form (``views.open``); ``None``, or what to tell the person.

    The one place the form is opened: by ``/sms``, the shortcuts, and the question
    asked about an ambiguous command.
    """
    settings = deps.settings.sms
    view = build_sms_modal(
        context=context,
        initial_text=initial_text[:MAX_TEXT_LENGTH],
        initial_recipients=initial_recipients,
        default_sender=settings.default_sender,
        default_type=settings.default_type,
        default_purpose=settings.default_purpose,
        region=settings.default_region,
    )
    if not trigger_id:
        return "Could not open the SMS form (no trigger); try `/sms` again."
    try:
        client.views_open(trigger_id=trigger_id, view=view)
    except SlackApiError as error:
        code = slack_error_code(error)
        logger.warning("views.open failed: %s", code)
        return f"Could not open the SMS form ({code}); try `/sms` again."
    return None


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
        app.view(ids.CONFIRM_MODAL)(
            ack=self.ack_confirmation, lazy=[self.send_confirmation]
        )

    def ack_only(self, ack: Ack) -> None:
        ack()

    def open_from_shortcut(self, body: dict[str, Any], client: WebClient) -> None:
        """Open the form; a message shortcut pre-fills the message's text."""
        message = body.get("message") or {}
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
            initial_text=unescape_slack(str(message.get("text") or "")),
        )
        if problem is not None:
            logger.warning("views.open from a shortcut failed: %s", problem)

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
            logger.debug("preview update skipped: %s", slack_error_code(error))

    def ack_submission(
        self, ack: Ack, body: dict[str, Any], view: dict[str, Any]
    ) -> None:
        """Check everything a person can fix before the one ack that Slack reads.

        A send above ``SMS_CONFIRM_ABOVE`` SMS pushes a confirmation view with the
        estimate instead of closing the form.
        """
        submission = read_sms_modal(view, response_urls=body.get("response_urls") or ())
        if not isinstance(submission, ModalSubmission):
            ack(response_action="errors", errors=submission)
            return
        actor = self._actor(body, submission.channel_id)
        try:
            request = self.deps.service.validate(
                submission.draft, resolve=self.deps.resolve
            )
            self.deps.service.check_policy(request, actor)
        except InputError as error:
            ack(response_action="errors", errors=errors_for_modal(error))
            return
        except PolicyError as refusal:
            ack(
                response_action="errors",
                errors={_policy_block(refusal): refusal.message[:500]},
            )
            return
        confirm = self._confirmation(request, submission, view)
        if confirm is not None:
            ack(response_action="push", view=confirm)
            return
        ack()

    def send_submission(self, body: dict[str, Any], view: dict[str, Any]) -> None:
        """Send the validated form and post the result in the chosen channel."""
        submission = read_sms_modal(view, response_urls=body.get("response_urls") or ())
        if not isinstance(submission, ModalSubmission):
            return  # the ack already showed the problems
        try:
            request = self.deps.service.validate(
                submission.draft, resolve=self.deps.resolve
            )
        except InputError:
            return  # the ack showed it on the form
        if self._confirmation(request, submission, view) is not None:
            return  # waiting for the person to confirm
        context = ModalContext.from_metadata(str(view.get("private_metadata") or ""))
        self._send(
            body,
            submission.draft,
            channel_id=submission.channel_id or context.channel_id,
            response_url=submission.response_url or context.response_url,
            view_id=str(view.get("id") or ""),
        )

    def ack_confirmation(self, ack: Ack) -> None:
        ack(response_action="clear")

    def send_confirmation(self, body: dict[str, Any], view: dict[str, Any]) -> None:
        """The person confirmed a large send: send what the form held."""
        try:
            saved = json.loads(str(view.get("private_metadata") or ""))
            draft = SendDraft.model_validate(saved["draft"])
        except (ValueError, KeyError, TypeError):
            logger.error("confirmation view without a readable draft; nothing sent")
            return
        self._send(
            body,
            draft,
            channel_id=saved.get("channel_id"),
            response_url=saved.get("response_url"),
            view_id=str(saved.get("view_id") or view.get("root_view_id") or ""),
        )

    def _confirmation(
        self, request: SendRequest, submission: ModalSubmission, view: dict[str, Any]
    ) -> dict[str, Any] | None:
        parts = analyse(request.text).parts
        total = parts * len(request.recipients)
        if total <= self.deps.settings.sms.confirm_above:
            return None
        saved = json.dumps(
            {
                "draft": submission.draft.model_dump(mode="json"),
                "channel_id": submission.channel_id,
                "response_url": submission.response_url,
                "view_id": view.get("id"),
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )
        if len(saved) > METADATA_MAX:
            saved = json.dumps({"too_long": True})
        summary = (
            f"{len(request.recipients)} recipients, {parts} SMS each "
            f"(more than SMS_CONFIRM_ABOVE = {self.deps.settings.sms.confirm_above} SMS)."
        )
        estimate = describe_estimate(recipients=len(request.recipients), parts=parts)
        return build_confirm_modal(
            draft_metadata=saved, summary=summary, estimate=estimate
        )

    def _actor(self, body: dict[str, Any], channel_id: str | None) -> Actor:
        return Actor(
            source=Source.MODAL,
            slack_team_id=(body.get("team") or {}).get("id"),
            slack_user_id=_user_id(body),
            slack_channel_id=channel_id,
        )

    def _send(
        self,
        body: dict[str, Any],
        draft: SendDraft,
        *,
        channel_id: str | None,
        response_url: str | None,
        view_id: str,
    ) -> None:
        actor = self._actor(body, channel_id)
        user_id = actor.slack_user_id
        draft = draft.model_copy(
            update={
                "request_id": interaction_request_id(
                    "modal", actor.slack_team_id, view_id
                )
            }
        )
        poster = self.deps.poster
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
        with poster.after_send(
            outcome, user_id=user_id, channel_id=channel_id, response_url=response_url
        ):
            poster.post(
                build_result_message(outcome, user_id=user_id or ""),
                channel_id=channel_id,
                user_id=user_id,
                response_url=response_url,
                audit_id=outcome.audit_id,
            )


_RECIPIENT_RULES = {"SMS_MAX_RECIPIENTS", "SMS_BLOCKED_NUMBERS", "OPT_OUT"}


def _policy_block(refusal: PolicyError) -> str:
    """Show a refusal under the field it is about (recipients), else under the message."""
    return ids.RECIPIENTS_BLOCK if refusal.rule in _RECIPIENT_RULES else ids.TEXT_BLOCK


def _user_id(body: dict[str, Any]) -> str | None:
    user = body.get("user") or {}
    return str(user["id"]) if user.get("id") else None
