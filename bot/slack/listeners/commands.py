"""``/sms``: ack within milliseconds, then do the slow work in a lazy listener.

The ack only parses the text (pure, no I/O). Opening the form, reading Slack profiles,
calling Octopush and writing the audit trail all happen after Slack has its answer.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.domain import Actor, SendDraft, Source
from bot.errors import InputError, PolicyError
from bot.octopush import OctopushError
from bot.sending.segments import analyse
from bot.slack import ids
from bot.slack.api import slack_error_code
from bot.slack.deps import SlackDeps, interaction_request_id
from bot.slack.grammar import SmsCommand, parse_sms_command
from bot.slack.listeners.pages import SlackPaging
from bot.slack.views.messages import (
    build_balance_message,
    build_confirm_prompt,
    build_error_message,
    build_help_message,
    build_history_message,
    build_rejection_message,
    build_result_message,
    build_sending_message,
    describe_estimate,
)
from bot.slack.views.modals import ModalContext, build_sms_modal

logger = logging.getLogger(__name__)

#: Slack's limit on a button's value, which carries a send awaiting confirmation.
BUTTON_VALUE_MAX = 2000


class SmsCommandHandlers:
    """The ``/sms`` listener pair: ``ack`` (fast, pure) and ``work`` (lazy, slow)."""

    def __init__(self, deps: SlackDeps, paging: SlackPaging) -> None:
        self.deps = deps
        self.paging = paging

    def register(self, app: App) -> None:
        app.command(ids.COMMAND)(ack=self.ack, lazy=[self.work])
        app.action(ids.CONFIRM_SEND)(ack=self.ack_button, lazy=[self.confirm])
        app.action(ids.CANCEL_SEND)(ack=self.ack_button, lazy=[self.cancel])

    def ack_button(self, ack: Ack) -> None:
        ack()

    def confirm(self, body: dict[str, Any], respond: Respond) -> None:
        """The person pressed Send on a large ``/sms``: send what the button carries."""
        action = (body.get("actions") or [{}])[0]
        try:
            saved = json.loads(str(action.get("value") or ""))
            recipients, text, request_id = (
                tuple(saved["r"]),
                str(saved["t"]),
                str(saved["id"]),
            )
        except (ValueError, KeyError, TypeError):
            respond(
                replace_original=True,
                text="This confirmation has expired; type the command again.",
            )
            return
        respond(replace_original=True, text="Sending…")
        command = {
            "team_id": (body.get("team") or {}).get("id"),
            "user_id": (body.get("user") or {}).get("id"),
            "channel_id": (body.get("channel") or {}).get("id"),
            "response_url": body.get("response_url"),
        }
        draft = SendDraft(recipients=recipients, text=text, request_id=request_id)
        try:
            self._deliver(draft, command, respond)
        except Exception:
            logger.exception("confirmed /sms send failed")
            respond(
                response_type="ephemeral",
                **build_error_message("Something went wrong; nothing more was done."),
            )

    def cancel(self, respond: Respond) -> None:
        respond(delete_original=True)

    def _parse(self, command: dict[str, Any]) -> SmsCommand:
        return parse_sms_command(
            command.get("text") or "",
            region=self.deps.settings.sms.default_region,
            is_name=self.deps.is_name,
        )

    def ack(self, ack: Ack, command: dict[str, Any]) -> None:
        """Answer Slack at once; help and usage errors are answered right in the ack."""
        parsed = self._parse(command)
        if parsed.problems:
            ack(response_type="ephemeral", text="\n".join(parsed.problems))
        elif parsed.action == "help":
            ack(response_type="ephemeral", **build_help_message())
        elif parsed.action in ("send", "page"):
            ack(
                response_type="ephemeral",
                **build_sending_message(len(parsed.recipients)),
            )
        else:
            ack()

    def work(
        self, command: dict[str, Any], client: WebClient, respond: Respond
    ) -> None:
        """Everything after the ack; every failure reaches the person who typed the command."""
        parsed = self._parse(command)
        try:
            if parsed.problems or parsed.action == "help":
                return
            if parsed.action == "form":
                self._open_form(command, client, respond)
            elif parsed.action == "balance":
                respond(
                    response_type="ephemeral",
                    **build_balance_message(self.deps.service.balance()),
                )
            elif parsed.action == "history":
                limit = int(parsed.argument or 10)
                records = self.deps.service.history(
                    channel_id=command.get("channel_id"), limit=limit
                )
                respond(
                    response_type="ephemeral",
                    **build_history_message(records, limit=limit),
                )
            elif parsed.action == "send":
                self._send(parsed, command, respond)
            elif parsed.action == "page":
                self.paging.page_command(parsed, command, respond)
            elif parsed.action == "oncall":
                self.paging.oncall_command(parsed, respond)
        except OctopushError as error:
            hint = f" {error.hint}" if error.hint else ""
            respond(
                response_type="ephemeral", text=f"Octopush answered: {error}.{hint}"
            )
        except Exception:
            logger.exception(
                "/sms %s failed", parsed.action, extra={"user": command.get("user_id")}
            )
            respond(
                response_type="ephemeral",
                **build_error_message("Something went wrong; nothing more was done."),
            )

    def _open_form(
        self, command: dict[str, Any], client: WebClient, respond: Respond
    ) -> None:
        settings = self.deps.settings.sms
        context = ModalContext(
            channel_id=command.get("channel_id"),
            response_url=command.get("response_url"),
            user_id=command.get("user_id"),
        )
        view = build_sms_modal(
            context=context,
            default_sender=settings.default_sender,
            default_type=settings.default_type,
            default_purpose=settings.default_purpose,
            region=settings.default_region,
        )
        try:
            client.views_open(trigger_id=command["trigger_id"], view=view)
        except SlackApiError as error:
            code = slack_error_code(error)
            logger.warning("views.open failed: %s", code)
            respond(
                response_type="ephemeral",
                text=f"Could not open the SMS form ({code}); try `/sms` again.",
            )

    def _send(
        self, parsed: SmsCommand, command: dict[str, Any], respond: Respond
    ) -> None:
        draft = SendDraft(
            recipients=parsed.recipients,
            text=parsed.text,
            request_id=interaction_request_id(
                "command", command.get("team_id"), command.get("trigger_id")
            ),
        )
        prompt = self._confirmation(draft)
        if prompt is not None:
            respond(response_type="ephemeral", **prompt)
            return
        self._deliver(draft, command, respond)

    def _confirmation(self, draft: SendDraft) -> dict[str, Any] | None:
        """The Send/Cancel question when the send is above ``SMS_CONFIRM_ABOVE`` SMS."""
        parts = analyse(draft.text).parts
        limit = self.deps.settings.sms.confirm_above
        expands = any(
            self.deps.is_name(t) or t.startswith("<!subteam") for t in draft.recipients
        )
        if not expands and parts * len(draft.recipients) <= limit:
            return None  # plain numbers and mentions: one recipient each, no need to resolve
        try:
            request = self.deps.service.validate(draft, resolve=self.deps.resolve)
        except InputError:
            return None  # sending records and reports the problem
        parts = analyse(request.text).parts
        if parts * len(request.recipients) <= limit:
            return None
        value = json.dumps(
            {"r": list(draft.recipients), "t": draft.text, "id": draft.request_id},
            ensure_ascii=False,
            separators=(",", ":"),
        )
        if len(value) > BUTTON_VALUE_MAX:
            return {
                "text": "This send is too large to confirm here: "
                "use the form (`/sms`), which shows the estimate first."
            }
        estimate = describe_estimate(recipients=len(request.recipients), parts=parts)
        return build_confirm_prompt(value=value, estimate=estimate, limit=limit)

    def _deliver(
        self, draft: SendDraft, command: dict[str, Any], respond: Respond
    ) -> None:
        actor = Actor(
            source=Source.SLASH,
            slack_team_id=command.get("team_id"),
            slack_user_id=command.get("user_id"),
            slack_channel_id=command.get("channel_id"),
        )
        try:
            outcome = self.deps.service.send(draft, actor, resolve=self.deps.resolve)
        except (InputError, PolicyError) as refusal:
            respond(response_type="ephemeral", **build_rejection_message(refusal))
            return
        with self.deps.poster.after_send(
            outcome,
            user_id=command.get("user_id"),
            channel_id=command.get("channel_id"),
            response_url=command.get("response_url"),
        ):
            if outcome.duplicate:
                respond(
                    response_type="ephemeral",
                    text=f"This command was already handled (audit #{outcome.audit_id}).",
                )
                return
            self.deps.poster.post(
                build_result_message(outcome, user_id=command.get("user_id") or ""),
                channel_id=command.get("channel_id"),
                user_id=command.get("user_id"),
                response_url=command.get("response_url"),
                audit_id=outcome.audit_id,
            )
