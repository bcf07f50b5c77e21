"""The buttons of the questions ``/sms`` asks before sending.

Each button carries its answer sealed in its value (:mod:`bot.slack.sealed`): the send
as shown, to the certain recipients only, the large send confirmed, or the form to open
prefilled. Nothing is kept in memory, so a restart in between changes nothing. The seal
names the person asked: anyone else pressing gets a private "not yours", and nothing is
sent; after :data:`~bot.slack.sealed.SEAL_SECONDS` the question has expired.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.domain import SendDraft
from bot.i18n import N_, Translator
from bot.slack import ids
from bot.slack.deps import SlackDeps
from bot.slack.listeners.command_sending import Command, CommandSender
from bot.slack.listeners.form_opening import open_sms_form
from bot.slack.sealed import Refused, unseal
from bot.slack.views.messages import build_error_message
from bot.slack.views.modals import ModalContext

logger = logging.getLogger(__name__)

_EXPIRED = N_("This question has expired; type the command again.")
_NOT_YOURS = N_(
    "This question was asked to someone else, so only they can answer it; "
    "nothing was sent. To send it yourself, type the command."
)
_SEND_BUTTONS = (ids.CONFIRM_SEND, ids.SEND_AS_SHOWN, ids.SEND_CERTAIN)


class CommandButtons:
    """Listeners for the Send / Cancel / Open the form buttons."""

    def __init__(self, deps: SlackDeps, sender: CommandSender, key: bytes) -> None:
        self.deps = deps
        self.sender = sender
        self._key = key

    def register(self, app: App) -> None:
        for action_id in _SEND_BUTTONS:
            app.action(action_id)(ack=self.ack_button, lazy=[self.confirm])
        app.action(ids.CANCEL_SEND)(ack=self.ack_button, lazy=[self.cancel])
        app.action(ids.OPEN_FORM_PREFILLED)(
            ack=self.ack_button, lazy=[self.open_prefilled]
        )

    def ack_button(self, ack: Ack) -> None:
        ack()

    def confirm(self, body: dict[str, Any], respond: Respond) -> None:
        """A send button: send what it carries (at most once: its request id is fixed)."""
        action = (body.get("actions") or [{}])[0]
        command = _command_of(body)
        reader = self.deps.languages.translator_for(command.get("user_id"))
        draft = self._draft(str(action.get("value") or ""), command)
        if isinstance(draft, Refused):
            _refuse(draft, respond, reader)
            return
        respond(replace_original=True, text=reader.gettext("Sending…"))
        try:
            if action.get("action_id") == ids.CONFIRM_SEND:
                self.sender.deliver(draft, command, respond)  # the size was confirmed
            else:
                self.sender.send(draft, command, respond)
        except Exception:
            logger.exception("confirmed /sms send failed")
            respond(
                response_type="ephemeral",
                **build_error_message(
                    N_("Something went wrong; nothing more was done."), reader
                ),
            )

    def cancel(self, respond: Respond) -> None:
        respond(delete_original=True)

    def open_prefilled(
        self, body: dict[str, Any], client: WebClient, respond: Respond
    ) -> None:
        """Open the form with the recipients that are certain and the message."""
        action = (body.get("actions") or [{}])[0]
        command = _command_of(body)
        saved = self._unseal(str(action.get("value") or ""), command)
        if isinstance(saved, Refused):
            reader = self.deps.languages.translator_for(command.get("user_id"))
            _refuse(saved, respond, reader)
            return
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

    def _unseal(self, value: str, command: Command) -> dict[str, Any] | Refused:
        """What the button carries, if the person pressing it is the one asked."""
        saved = unseal(value, self._key, user=command.get("user_id"))
        if saved is Refused.NOT_YOURS:
            logger.warning(
                "a question's button was pressed by someone it was not asked; "
                "refused, nothing sent",
                extra={"user": command.get("user_id")},
            )
        elif saved is Refused.ALTERED:
            logger.warning(
                "a question's button came back altered; refused, nothing sent",
                extra={"user": command.get("user_id")},
            )
        return saved

    def _draft(self, value: str, command: Command) -> SendDraft | Refused:
        saved = self._unseal(value, command)
        if isinstance(saved, Refused):
            return saved
        try:
            return SendDraft(
                recipients=tuple(str(r) for r in saved["r"]),
                text=str(saved["t"]),
                request_id=str(saved["id"]),
            )
        except (KeyError, TypeError, ValueError):
            return Refused.ALTERED


def _refuse(refused: Refused, respond: Respond, reader: Translator) -> None:
    """Tell the person pressing why nothing was sent; never touch someone else's question."""
    if refused is Refused.NOT_YOURS:
        respond(
            response_type="ephemeral",
            replace_original=False,
            text=reader.gettext(_NOT_YOURS),
        )
    else:
        respond(replace_original=True, text=reader.gettext(_EXPIRED))


def _command_of(body: dict[str, Any]) -> Command:
    """The parts of a button's payload that a command payload would have."""
    return {
        "team_id": (body.get("team") or {}).get("id"),
        "user_id": (body.get("user") or {}).get("id"),
        "channel_id": (body.get("channel") or {}).get("id"),
        "response_url": body.get("response_url"),
    }
