"""``/sms``: judge what needs no lookup in the ack, then do the slow work in a lazy listener.

The ack parses the text and runs the pure checks (:mod:`bot.slack.command_checks`): a
problem is answered right there, a valid send is answered with whom it goes to, and an
ambiguous one with a question whose buttons carry each reading (sealed, so the choice
survives a restart). Opening the form, reading Slack profiles, calling Octopush and
writing the audit trail all happen after Slack has its answer.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.domain import Actor, SendDraft, Source
from bot.errors import InputError, PolicyError
from bot.sending.gateway import GatewayError
from bot.sending.guard import policy_from
from bot.sending.segments import analyse
from bot.slack import ids
from bot.slack.command_checks import display_tokens, precheck
from bot.slack.deps import SlackDeps, interaction_request_id
from bot.slack.grammar import Reading, SmsCommand, parse_sms_command
from bot.slack.listeners.forms import open_sms_form
from bot.slack.listeners.pages import SlackPaging
from bot.slack.sealed import button_key, seal, unseal
from bot.slack.views.command_replies import (
    build_balance_message,
    build_choice_prompt,
    build_confirm_prompt,
    build_help_message,
    build_history_message,
    build_sending_message,
    describe_estimate,
)
from bot.slack.views.messages import (
    build_error_message,
    build_rejection_message,
    build_result_message,
)
from bot.slack.views.modals import ModalContext

logger = logging.getLogger(__name__)

PAGE_ONE_AT_A_TIME = (
    "`/sms page` pages one person, group or rotation at a time: "
    "send one `/sms page WHO MESSAGE` for each."
)
_EXPIRED = "This question has expired; type the command again."
_SEND_BUTTONS = (ids.CONFIRM_SEND, ids.SEND_AS_SHOWN, ids.SEND_CERTAIN)


class SmsCommandHandlers:
    """The ``/sms`` listener pair: ``ack`` (fast, pure) and ``work`` (lazy, slow)."""

    def __init__(self, deps: SlackDeps, paging: SlackPaging) -> None:
        self.deps = deps
        self.paging = paging
        self._policy = policy_from(deps.settings)
        self._key = button_key(deps.settings)

    def register(self, app: App) -> None:
        app.command(ids.COMMAND)(ack=self.ack, lazy=[self.work])
        for action_id in _SEND_BUTTONS:
            app.action(action_id)(ack=self.ack_button, lazy=[self.confirm])
        app.action(ids.CANCEL_SEND)(ack=self.ack_button, lazy=[self.cancel])
        app.action(ids.OPEN_FORM_PREFILLED)(
            ack=self.ack_button, lazy=[self.open_prefilled]
        )

    # --- the ack: pure -------------------------------------------------------------

    def ack(self, ack: Ack, command: dict[str, Any]) -> None:
        """Answer Slack at once, judging everything that needs no lookup."""
        parsed = self._parse(command)
        if parsed.problems:
            ack(response_type="ephemeral", text="\n".join(parsed.problems))
        elif parsed.action == "help":
            ack(response_type="ephemeral", **build_help_message())
        elif parsed.action == "page":
            if len(parsed.recipients) > 1:
                ack(response_type="ephemeral", text=PAGE_ONE_AT_A_TIME)
            else:
                ack(
                    response_type="ephemeral",
                    **build_sending_message(parsed.recipients),
                )
        elif parsed.action == "send":
            ack(response_type="ephemeral", **self._send_reply(parsed, command))
        else:
            ack()

    def _parse(self, command: dict[str, Any]) -> SmsCommand:
        return parse_sms_command(
            command.get("text") or "",
            region=self.deps.settings.sms.default_region,
            is_name=self.deps.is_name,
        )

    def _judge(
        self, reading: Reading, command: dict[str, Any]
    ) -> InputError | PolicyError | None:
        return precheck(
            reading.recipients,
            reading.text,
            actor=_actor(command),
            policy=self._policy,
            defaults=self.deps.service.defaults,
            is_name=self.deps.is_name,
        )

    def _refusal(
        self, parsed: SmsCommand, command: dict[str, Any]
    ) -> InputError | PolicyError | None:
        """Why neither reading of the command can be sent, if so."""
        refusal = self._judge(_greedy(parsed), command)
        if refusal is None or parsed.cautious is None:
            return refusal
        return refusal if self._judge(parsed.cautious, command) else None

    def _send_reply(
        self, parsed: SmsCommand, command: dict[str, Any]
    ) -> dict[str, Any]:
        refusal = self._refusal(parsed, command)
        if refusal is not None:
            return build_rejection_message(refusal)
        region = self.deps.settings.sms.default_region
        if parsed.cautious is None:
            return build_sending_message(display_tokens(parsed.recipients, region))
        greedy, cautious = _greedy(parsed), parsed.cautious
        request_id = _request_id(command)

        def offer(reading: Reading) -> str | None:
            if self._judge(reading, command) is not None:
                return None
            return seal(
                {"r": list(reading.recipients), "t": reading.text, "id": request_id},
                self._key,
            )

        form = seal({"r": list(cautious.recipients), "t": cautious.text}, self._key)
        return build_choice_prompt(
            recipients=display_tokens(greedy.recipients, region),
            unsure=display_tokens(parsed.unsure, region),
            text=greedy.text,
            cautious_text=cautious.text,
            as_shown=offer(greedy),
            certain_only=offer(cautious),
            form=form,
        )

    # --- after the ack ---------------------------------------------------------------

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
                self._send_command(parsed, command, respond)
            elif parsed.action == "page":
                if len(parsed.recipients) == 1:
                    self.paging.page_command(parsed, command, respond)
            elif parsed.action == "oncall":
                self.paging.oncall_command(parsed, command, respond)
        except GatewayError as error:
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

    def _send_command(
        self, parsed: SmsCommand, command: dict[str, Any], respond: Respond
    ) -> None:
        if self._refusal(parsed, command) is not None:
            self._record_refusal(_greedy(parsed), command, respond)
        elif parsed.cautious is None:
            self._send(_draft(_greedy(parsed), _request_id(command)), command, respond)
        # An ambiguous command waits for a button: nothing more to do now.

    def _record_refusal(
        self, reading: Reading, command: dict[str, Any], respond: Respond
    ) -> None:
        """The ack told the person; the send path records the refused attempt."""
        draft = _draft(reading, _request_id(command))
        try:
            outcome = self.deps.service.send(
                draft, _actor(command), resolve=self.deps.resolve
            )
        except (InputError, PolicyError):
            return
        # The ack's rules are the send path's, so this means the directory changed in
        # between: say truthfully what happened.
        logger.warning("/sms refused in the ack was accepted by the send path")
        self._post(outcome, command)

    def _open_form(
        self, command: dict[str, Any], client: WebClient, respond: Respond
    ) -> None:
        context = ModalContext(
            channel_id=command.get("channel_id"),
            response_url=command.get("response_url"),
            user_id=command.get("user_id"),
        )
        problem = open_sms_form(
            client, self.deps, trigger_id=command.get("trigger_id"), context=context
        )
        if problem is not None:
            respond(response_type="ephemeral", text=problem)

    def _send(
        self, draft: SendDraft, command: dict[str, Any], respond: Respond
    ) -> None:
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
        value = seal(
            {"r": list(draft.recipients), "t": draft.text, "id": draft.request_id},
            self._key,
        )
        if value is None:
            return {
                "text": "This send is too large to confirm here: "
                "use the form (`/sms`), which shows the estimate first."
            }
        estimate = describe_estimate(recipients=len(request.recipients), parts=parts)
        return build_confirm_prompt(value=value, estimate=estimate, limit=limit)

    def _deliver(
        self, draft: SendDraft, command: dict[str, Any], respond: Respond
    ) -> None:
        try:
            outcome = self.deps.service.send(
                draft, _actor(command), resolve=self.deps.resolve
            )
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
            self._post(outcome, command)

    def _post(self, outcome: Any, command: dict[str, Any]) -> None:
        self.deps.poster.post(
            build_result_message(outcome, user_id=command.get("user_id") or ""),
            channel_id=command.get("channel_id"),
            user_id=command.get("user_id"),
            response_url=command.get("response_url"),
            audit_id=outcome.audit_id,
        )

    # --- buttons -----------------------------------------------------------------------

    def ack_button(self, ack: Ack) -> None:
        ack()

    def confirm(self, body: dict[str, Any], respond: Respond) -> None:
        """A send button of a question asked before sending: send what it carries."""
        action = (body.get("actions") or [{}])[0]
        saved = unseal(str(action.get("value") or ""), self._key)
        try:
            draft = (
                SendDraft(
                    recipients=tuple(str(r) for r in saved["r"]),
                    text=str(saved["t"]),
                    request_id=str(saved["id"]),
                )
                if saved is not None
                else None
            )
        except (KeyError, TypeError):
            draft = None
        if draft is None:
            respond(replace_original=True, text=_EXPIRED)
            return
        respond(replace_original=True, text="Sending…")
        command = _command_of(body)
        try:
            if action.get("action_id") == ids.CONFIRM_SEND:
                self._deliver(draft, command, respond)  # the size was confirmed
            else:
                self._send(draft, command, respond)
        except Exception:
            logger.exception("confirmed /sms send failed")
            respond(
                response_type="ephemeral",
                **build_error_message("Something went wrong; nothing more was done."),
            )

    def cancel(self, respond: Respond) -> None:
        respond(delete_original=True)

    def open_prefilled(
        self, body: dict[str, Any], client: WebClient, respond: Respond
    ) -> None:
        """Open the form with the recipients that are certain and the message."""
        action = (body.get("actions") or [{}])[0]
        saved = unseal(str(action.get("value") or ""), self._key)
        if saved is None:
            respond(replace_original=True, text=_EXPIRED)
            return
        command = _command_of(body)
        context = ModalContext(
            channel_id=command.get("channel_id"),
            response_url=command.get("response_url"),
            user_id=command.get("user_id"),
        )
        problem = open_sms_form(
            client,
            self.deps,
            trigger_id=body.get("trigger_id"),
            context=context,
            initial_text=str(saved.get("t") or ""),
            initial_recipients=", ".join(str(r) for r in saved.get("r") or []),
        )
        if problem is not None:
            respond(response_type="ephemeral", text=problem)
        else:
            respond(delete_original=True)


def _greedy(parsed: SmsCommand) -> Reading:
    return Reading(parsed.recipients, parsed.text)


def _draft(reading: Reading, request_id: str) -> SendDraft:
    return SendDraft(
        recipients=reading.recipients, text=reading.text, request_id=request_id
    )


def _request_id(command: dict[str, Any]) -> str:
    """One id per typed command: every button of its question sends it at most once."""
    return interaction_request_id(
        "command", command.get("team_id"), command.get("trigger_id")
    )


def _actor(command: dict[str, Any]) -> Actor:
    return Actor(
        source=Source.SLASH,
        slack_team_id=command.get("team_id"),
        slack_user_id=command.get("user_id"),
        slack_channel_id=command.get("channel_id"),
    )


def _command_of(body: dict[str, Any]) -> dict[str, Any]:
    """The parts of a button's payload that a command payload would have."""
    return {
        "team_id": (body.get("team") or {}).get("id"),
        "user_id": (body.get("user") or {}).get("id"),
        "channel_id": (body.get("channel") or {}).get("id"),
        "response_url": body.get("response_url"),
    }
