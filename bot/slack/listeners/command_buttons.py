"""The buttons of the questions ``/sms`` asks before sending.

Each button carries its answer sealed in its value (:mod:`bot.slack.sealed`): the send
as shown, to the certain recipients only, the large send confirmed, or the form to open
prefilled. Nothing is kept in memory, so a restart in between changes nothing. The seal
names the person asked: anyone else pressing gets a private "not yours", and nothing is
sent; after :data:`~bot.slack.sealed.SEAL_SECONDS` the question has expired.

A press that sends is stored before its ack (:mod:`bot.slack.listeners.stored_runs`)
and a sender runs it, as for ``/sms`` itself: a restart right after the press loses
nothing, and the sealed request id keeps a second run from texting twice.
"""

from __future__ import annotations

import logging
import time
from functools import partial
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_bolt.context.respond import Respond as RespondTo
from slack_sdk import WebClient

from bot.domain import SendDraft
from bot.i18n import N_, Translator
from bot.slack import ids
from bot.slack.deps import SlackDeps
from bot.slack.listeners.command_sending import Command, CommandSender
from bot.slack.listeners.form_opening import open_sms_form
from bot.slack.listeners.stored_runs import (
    NOT_STORED,
    NOTHING_STORED,
    Work,
    hand_over,
    left_after_store,
    queue_key,
    store_action,
)
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
#: The kind a send button's press is stored under (:mod:`bot.runtime.sender`).
STORED_KIND = "button"


class CommandButtons:
    """Listeners for the Send / Cancel / Open the form buttons."""

    def __init__(self, deps: SlackDeps, sender: CommandSender, key: bytes) -> None:
        self.deps = deps
        self.sender = sender
        self._key = key

    def register(self, app: App) -> None:
        for action_id in _SEND_BUTTONS:
            # No Bolt lazy listener: the ack hands what is left to the listener pool
            # (nothing when a sender runs the press), as for ``/sms`` itself.
            app.action(action_id)(self.ack_and_hand_over)
        app.action(ids.CANCEL_SEND)(ack=self.ack_button, lazy=[self.cancel])
        app.action(ids.OPEN_FORM_PREFILLED)(
            ack=self.ack_button, lazy=[self.open_prefilled]
        )

    def ack_button(self, ack: Ack) -> None:
        ack()

    def ack_and_hand_over(self, ack: Ack, body: dict[str, Any]) -> None:
        """Bolt's listener for a send button: :meth:`ack_send`, then what is left
        runs on the listener pool."""
        hand_over(self.deps, self.ack_send(ack, body), "a question's send button")

    def ack_send(self, ack: Ack, body: dict[str, Any]) -> Work | None:
        """A send button: store the press for the sender, then answer (no other I/O);
        what is left to do after the answer (None: nothing, a sender runs it).

        A press the seal refuses (someone else's, expired, altered) is not stored:
        it is judged after the answer, telling the person why nothing was sent. A
        copy of a stored press runs after the answer too: the send path answers it
        with what became of the first.
        """
        action = (body.get("actions") or [{}])[0]
        user_id = (body.get("user") or {}).get("id")
        respond = RespondTo(response_url=body.get("response_url"))
        run_here = partial(self._confirm, body, respond)
        saved = unseal(str(action.get("value") or ""), self._key, user=user_id)
        request_id = saved.get("id") if isinstance(saved, dict) else None
        if not isinstance(request_id, str):
            ack()
            return run_here
        row = store_action(
            self.deps,
            STORED_KIND,
            queue_key(STORED_KIND, request_id),
            _stored_press(body, action),
        )
        ack()
        if row == NOTHING_STORED:
            return partial(self._not_stored, body, respond)
        return left_after_store(self.deps, row, run_here)

    def _not_stored(self, body: dict[str, Any], respond: Respond) -> None:
        """Tell the person pressing that nothing was sent (the press was not stored)."""
        reader = self.deps.languages.translator_for(_command_of(body).get("user_id"))
        respond(
            response_type="ephemeral",
            replace_original=False,
            text=reader.gettext(NOT_STORED),
        )

    def run_stored(self, kind: str, body: dict[str, Any]) -> None:
        """Run a press its ack stored (called by the sender, in whatever process).

        The seal is judged at the time of the press: a press in time is sent even
        when the sender runs it later.
        """
        respond = RespondTo(response_url=body.get("response_url"))
        pressed_at = body.get("pressed_at")
        self._confirm(
            body,
            respond,
            now=float(pressed_at) if isinstance(pressed_at, int | float) else None,
        )

    def _confirm(
        self, body: dict[str, Any], respond: Respond, *, now: float | None = None
    ) -> None:
        """A send button: send what it carries (at most once: its request id is fixed)."""
        action = (body.get("actions") or [{}])[0]
        command = _command_of(body)
        reader = self.deps.languages.translator_for(command.get("user_id"))
        draft = self._draft(str(action.get("value") or ""), command, now=now)
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

    def _unseal(
        self, value: str, command: Command, *, now: float | None = None
    ) -> dict[str, Any] | Refused:
        """What the button carries, if the person pressing it is the one asked."""
        saved = unseal(value, self._key, user=command.get("user_id"), now=now)
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

    def _draft(
        self, value: str, command: Command, *, now: float | None = None
    ) -> SendDraft | Refused:
        saved = self._unseal(value, command, now=now)
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


def _stored_press(body: dict[str, Any], action: dict[str, Any]) -> dict[str, Any]:
    """What a stored press keeps of its payload (in Slack's shape): who, where, the
    response URL, the button and its sealed value, and when it was pressed."""
    return {
        "team": {"id": (body.get("team") or {}).get("id")},
        "user": {"id": (body.get("user") or {}).get("id")},
        "channel": {"id": (body.get("channel") or {}).get("id")},
        "response_url": body.get("response_url"),
        "actions": [
            {"action_id": action.get("action_id"), "value": action.get("value")}
        ],
        "pressed_at": time.time(),
    }
