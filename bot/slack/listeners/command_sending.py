"""Sending what ``/sms`` (or a button of its questions) asked for, and telling the person.

Shared by the command (run after its ack) and the question buttons, so a send from either
takes the same path: the large-send question, the send service, the result post.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from slack_bolt import Respond

from bot.domain import Actor, AuditStatus, SendDraft, SendOutcome, Source
from bot.errors import InputError, PolicyError
from bot.i18n import N_, Translator
from bot.sending.segments import analyse
from bot.slack.deps import SlackDeps, interaction_request_id
from bot.slack.grammar import Reading
from bot.slack.recipient_labels import remember_names
from bot.slack.sealed import seal
from bot.slack.views.command_questions import (
    build_confirm_prompt,
    describe_estimate,
)
from bot.slack.views.messages import (
    build_rejection_message,
    build_result_message,
)
from bot.slack.views.skipped_note import build_unreachable_note

logger = logging.getLogger(__name__)

#: A command run again (its sender stopped mid-send) whose attempt has no outcome yet.
ALREADY_STARTED = N_(
    "This command was already started (audit #%(audit_id)s) and its outcome is not "
    "known yet: the SMS may have gone out. Do not send it again; the bot settles it "
    "within 15 minutes and tells the admins."
)

#: What a ``/sms`` payload carries that a send needs (a button's payload is mapped to it).
Command = dict[str, Any]


class CommandSender:
    """``send`` (may ask first when large), ``deliver`` (no question), ``record_refusal``."""

    def __init__(self, deps: SlackDeps, key: bytes) -> None:
        self.deps = deps
        self._key = key

    def send(self, draft: SendDraft, command: Command, respond: Respond) -> None:
        prompt = self._confirmation(draft, command)
        if prompt is not None:
            respond(response_type="ephemeral", **prompt)
            return
        self.deliver(draft, command, respond)

    def deliver(self, draft: SendDraft, command: Command, respond: Respond) -> None:
        try:
            outcome = self.deps.service.send(
                draft, command_actor(command), resolve=self.deps.resolve
            )
        except (InputError, PolicyError) as refusal:
            reader = self._reader(command)
            respond(
                response_type="ephemeral", **build_rejection_message(refusal, reader)
            )
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
                    text=self._reader(command).gettext(
                        ALREADY_STARTED
                        if outcome.status is AuditStatus.PENDING
                        else "This command was already handled (audit #%(audit_id)s).",
                        audit_id=outcome.audit_id,
                    ),
                )
                return
            self._post(outcome, command, draft.recipients)
            missing = self.deps.unreachable(draft.recipients)
            if missing:
                respond(
                    response_type="ephemeral",
                    **build_unreachable_note(missing, self._reader(command)),
                )

    def _reader(self, command: Command) -> Translator:
        """The language of whoever typed the command (ephemeral answers)."""
        return self.deps.languages.translator_for(command.get("user_id"))

    def record_refusal(self, reading: Reading, command: Command) -> None:
        """The ack told the person; the send path records the refused attempt."""
        draft = draft_of(reading, command_request_id(command))
        try:
            outcome = self.deps.service.send(
                draft, command_actor(command), resolve=self.deps.resolve
            )
        except (InputError, PolicyError):
            return
        except Exception:
            # The person already has their answer (the ack); a failure here is ours.
            logger.exception("recording a /sms refused in the ack failed")
            return
        # The ack's rules are the send path's, so this means the directory changed in
        # between: say truthfully what happened.
        logger.warning("/sms refused in the ack was accepted by the send path")
        with self.deps.poster.after_send(
            outcome,
            user_id=command.get("user_id"),
            channel_id=command.get("channel_id"),
            response_url=command.get("response_url"),
        ):
            self._post(outcome, command, draft.recipients)

    def _confirmation(
        self, draft: SendDraft, command: Command
    ) -> dict[str, Any] | None:
        """The Send/Cancel question when the send is above ``SMS_CONFIRM_ABOVE`` SMS,
        answerable only by the person who typed the command."""
        tr = self._reader(command)
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
            user=command.get("user_id"),
        )
        if value is None:
            return {
                "text": tr.gettext(
                    "This send is too large to confirm here: "
                    "use the form (`/sms`), which shows the estimate first."
                )
            }
        estimate = describe_estimate(
            recipients=len(request.recipients), parts=parts, tr=tr
        )
        return build_confirm_prompt(value=value, estimate=estimate, limit=limit, tr=tr)

    def _post(
        self, outcome: SendOutcome, command: Command, tokens: Sequence[str]
    ) -> None:
        self.deps.poster.post(
            build_result_message(
                outcome,
                user_id=command.get("user_id") or "",
                tr=self.deps.languages.workspace(),
                names=remember_names(self.deps, tokens, outcome),
            ),
            channel_id=command.get("channel_id"),
            user_id=command.get("user_id"),
            response_url=command.get("response_url"),
            audit_id=outcome.audit_id,
        )


def draft_of(reading: Reading, request_id: str) -> SendDraft:
    return SendDraft(
        recipients=reading.recipients, text=reading.text, request_id=request_id
    )


def command_request_id(command: Command) -> str:
    """One id per typed command: every button of its question sends it at most once."""
    return interaction_request_id(
        "command", command.get("team_id"), command.get("trigger_id")
    )


def command_actor(command: Command) -> Actor:
    return Actor(
        source=Source.SLASH,
        slack_team_id=command.get("team_id"),
        slack_user_id=command.get("user_id"),
        slack_channel_id=command.get("channel_id"),
    )
