"""``/sms``: judge what needs no lookup in the ack, then do the slow work after it.

The ack parses the text and runs the pure checks (:mod:`bot.slack.command_checks`): a
problem is answered right there, a valid send is answered with whom it goes to, and an
ambiguous one with a question whose buttons carry each reading (sealed, so the choice
survives a restart). A send or a page is stored first (one insert), and a sender runs
it (:mod:`bot.runtime.sender`), in this process or another: a restart right after the
answer loses nothing. The other actions (the form, balance, history) run on the
listener pool once the ack has answered. Reading Slack profiles, calling Octopush
and writing the audit trail all happen after Slack has its answer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_bolt.context.respond import Respond as RespondTo
from slack_sdk import WebClient

from bot.domain import SendDraft
from bot.errors import AuditStoreError, InputError, PolicyError
from bot.i18n import N_, Translator
from bot.i18n.octopush_hints import sender_hint
from bot.phones import sms_warning
from bot.sending.gateway import Balance, GatewayError, gateway_error_text
from bot.sending.guard import policy_from
from bot.sending.history import channel_sends
from bot.sending.recipient_names import RecipientNames
from bot.slack import command_reading, ids
from bot.slack.command_checks import display_tokens, precheck
from bot.slack.deps import SlackDeps
from bot.slack.grammar import Reading, SmsCommand, parse_sms_command
from bot.slack.listeners.cancels import SlackCancels
from bot.slack.listeners.command_buttons import CommandButtons
from bot.slack.listeners.command_sending import (
    CommandSender,
    command_actor,
    command_request_id,
    draft_of,
)
from bot.slack.listeners.form_opening import open_sms_form
from bot.slack.listeners.pages import SlackPaging
from bot.slack.listeners.stored_runs import NOTHING_STORED, hand_over
from bot.slack.sealed import button_key, seal
from bot.slack.views.command_questions import (
    Choice,
    build_choice_prompt,
    build_sending_message,
)
from bot.slack.views.command_replies import (
    build_balance_message,
    build_help_message,
    build_history_message,
)
from bot.slack.views.messages import (
    build_error_message,
    build_rejection_message,
)
from bot.slack.views.modals import ModalContext

logger = logging.getLogger(__name__)

#: The ``/sms`` actions that text someone: stored before the ack answers, run by a sender.
STORED_ACTIONS = ("send", "page")
#: What is left of a command once the ack answered (run on the listener pool).
AfterAck = Callable[[], object]
#: What a stored command keeps of Slack's payload (not the legacy verification token).
COMMAND_FIELDS = (
    "team_id",
    "enterprise_id",
    "channel_id",
    "user_id",
    "command",
    "text",
    "response_url",
    "trigger_id",
    "api_app_id",
)
NOT_STORED = N_(
    "Nothing was sent: the bot cannot record the command right now. "
    "Try again in a minute; if it goes on, tell whoever runs the bot."
)

PAGE_ONE_AT_A_TIME = N_(
    "`/sms page` pages one person, group or rotation at a time: "
    "send one `/sms page WHO MESSAGE` for each."
)


class SmsCommandHandlers:
    """The ``/sms`` listener: ``ack`` (fast, pure), then what is left on the pool."""

    def __init__(self, deps: SlackDeps, paging: SlackPaging) -> None:
        self.deps = deps
        self.paging = paging
        self._policy = policy_from(deps.settings)
        self._key = button_key(deps.settings)
        self.sender = CommandSender(deps, self._key)
        self._buttons = CommandButtons(deps, self.sender, self._key)
        self.cancels = SlackCancels(deps)
        #: The app's Web API client, for the commands a sender runs (set by register).
        self._client: WebClient | None = None

    def register(self, app: App) -> None:
        self._client = app.client
        # No Bolt lazy listener: the ack hands what is left to the listener pool
        # itself, and only when something is left (a stored send has nothing left
        # here), which spares each command Bolt's copy of the request.
        app.command(ids.COMMAND)(self.ack_and_hand_over)
        self._buttons.register(app)
        self.cancels.register(app)

    # --- the ack: pure -------------------------------------------------------------

    def ack_and_hand_over(self, ack: Ack, command: dict[str, Any]) -> None:
        """Bolt's listener: :meth:`ack`, then what is left runs on the listener pool."""
        hand_over(self.deps, self.ack(ack, command), "/sms")

    def ack(self, ack: Ack, command: dict[str, Any]) -> AfterAck | None:
        """Answer Slack at once, judging everything that needs no lookup; return what
        is left to do after the answer (None: nothing, a sender runs the command).

        A send or a page is stored first (one insert), so a restart right after the
        answer loses nothing: a sender runs it. The answer is in the reader's language
        as already known (the locales are read when ``serve`` starts, and after each
        command), else in ``SMS_LANGUAGE``: an ack makes no Slack call.
        """
        parsed = self._parse(command)
        if not _answered_in_ack(parsed):
            ack()
            return self._left_after_answer(parsed, command)
        tr = self.deps.languages.without_lookup(command.get("user_id"))
        refusal = self._refusal(parsed, command) if _sends(parsed) else None
        stored = self._store(parsed, command, refused=refusal is not None)
        if stored == NOTHING_STORED:
            ack(response_type="ephemeral", text=tr.gettext(NOT_STORED))
            return None  # nothing was sent, and it stays so
        ack(response_type="ephemeral", **self._ack_reply(parsed, command, tr, refusal))
        if stored is None:  # not a stored kind, or a copy Slack sent again
            return self._left_after_answer(parsed, command)
        commands = self.deps.commands
        if commands is not None and commands.inline:
            return partial(commands.run_here, stored)
        return self._learn_language(command)  # a sender runs it

    def _store(
        self, parsed: SmsCommand, command: dict[str, Any], *, refused: bool
    ) -> int | None:
        """Store a send or a page for the sender: its row, None when there is nothing
        to store (or a copy was stored already), :data:`NOTHING_STORED` on failure.
        ``refused``: the ack's verdict on a send, kept so the sender does not judge
        it again (it only records the refused attempt)."""
        commands = self.deps.commands
        if commands is None or parsed.problems or parsed.action not in STORED_ACTIONS:
            return None
        if parsed.action == "page" and len(parsed.recipients) != 1:
            return None  # answered with how to page: nothing to run
        payload = {key: command[key] for key in COMMAND_FIELDS if key in command}
        payload[command_reading.READING] = command_reading.keep(parsed)
        if parsed.action == "send":
            payload[command_reading.REFUSED] = refused
        try:
            return commands.store(parsed.action, command_request_id(command), payload)
        except AuditStoreError as error:
            logger.error("/sms not stored, nothing sent: %s", error)
            return NOTHING_STORED

    def _left_after_answer(
        self, parsed: SmsCommand, command: dict[str, Any]
    ) -> AfterAck | None:
        """The slow part of a command the ack did not store; when the answer was all
        (a problem, the help, a page to several at once), only learning the reader's
        language if it is not known yet."""
        if parsed.problems or parsed.action == "help":
            return self._learn_language(command)
        if parsed.action == "page" and len(parsed.recipients) != 1:
            return self._learn_language(command)
        return partial(self._after_ack, parsed, command)

    def _learn_language(self, command: dict[str, Any]) -> AfterAck | None:
        """Look the reader's language up after the ack (the next ack answers in it);
        None when it is known already: nothing to hand to the pool."""
        user_id = command.get("user_id")
        if not user_id or self.deps.languages.cached(user_id) is not None:
            return None
        return partial(self.deps.languages.translator_for, user_id)

    def _after_ack(self, parsed: SmsCommand, command: dict[str, Any]) -> None:
        """The rest of a command that was not stored, on the listener pool."""
        assert self._client is not None, "register() the handlers first"
        respond = RespondTo(response_url=command.get("response_url"))
        self._work(command, self._client, respond, parsed=parsed)

    def _ack_reply(
        self,
        parsed: SmsCommand,
        command: dict[str, Any],
        tr: Translator,
        refusal: InputError | PolicyError | None,
    ) -> dict[str, Any]:
        """What the ack says, in ``tr``'s language (``refusal``: why a send cannot
        be sent as read, judged once by the ack)."""
        if parsed.problems:
            return {
                "text": "\n".join(tr.gettext(problem) for problem in parsed.problems)
            }
        if parsed.action == "help":
            return build_help_message(tr, suggestion=parsed.suggestion)
        if parsed.action == "page":
            if len(parsed.recipients) > 1:
                return {"text": tr.gettext(PAGE_ONE_AT_A_TIME)}
            return build_sending_message(parsed.recipients, tr)
        return self._send_reply(parsed, command, tr, refusal)

    def _voice_credit(self) -> Balance | None:
        """The voice credit, read only when a rotation calls (``call_after``)."""
        rotations = self.deps.directory.current().rotations.values()
        if not any(r.call_after is not None for r in rotations):
            return None
        return self.deps.service.voice_balance()

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
            SendDraft(recipients=reading.recipients, text=reading.text),
            actor=command_actor(command),
            policy=self._policy,
            defaults=self.deps.service.defaults,
            is_name=self.deps.is_name,
        )

    def _refusal(
        self, parsed: SmsCommand, command: dict[str, Any]
    ) -> InputError | PolicyError | None:
        """Why no reading of the command can be sent (as typed first), if so."""
        refusal = self._judge(_greedy(parsed), command)
        if refusal is None or not parsed.ambiguous:
            return refusal
        others = (self._judge(reading, command) for reading in parsed.alternatives)
        return refusal if all(other is not None for other in others) else None

    def _send_reply(
        self,
        parsed: SmsCommand,
        command: dict[str, Any],
        tr: Translator,
        refusal: InputError | PolicyError | None,
    ) -> dict[str, Any]:
        if refusal is not None:
            return build_rejection_message(refusal, tr)
        region = self.deps.settings.sms.default_region
        if not parsed.ambiguous:
            return build_sending_message(display_tokens(parsed.recipients, region), tr)
        request_id = command_request_id(command)

        def offer(reading: Reading) -> str | None:
            if self._judge(reading, command) is not None:
                return None
            return seal(
                {"r": list(reading.recipients), "t": reading.text, "id": request_id},
                self._key,
                user=command.get("user_id"),
            )

        choices = [
            _choice(reading, parsed, region, offer(reading))
            for reading in parsed.readings
        ]
        cautious = parsed.readings[-1]
        form = seal(
            {"r": list(cautious.recipients), "t": cautious.text},
            self._key,
            user=command.get("user_id"),
        )
        return build_choice_prompt(choices, form=form, tr=tr)

    # --- after the ack ---------------------------------------------------------------

    def run_stored(self, kind: str, command: dict[str, Any]) -> None:
        """Run a command the ack stored (called by the sender, in whatever process),
        as the ack read it (parsed again when stored without its reading)."""
        assert self._client is not None, "register() the handlers first"
        respond = RespondTo(response_url=command.get("response_url"))
        parsed = command_reading.kept(kind, command)
        self._work(command, self._client, respond, parsed=parsed)

    def _work(
        self,
        command: dict[str, Any],
        client: WebClient,
        respond: Respond,
        *,
        parsed: SmsCommand | None = None,
    ) -> None:
        """The slow part of a command (the ack's reading passed on when in hand)."""
        parsed = parsed or self._parse(command)
        # Looked up (then cached) here, after the ack: the next ack knows it too.
        tr = self.deps.languages.translator_for(command.get("user_id"))
        try:
            if parsed.problems or parsed.action == "help":
                return
            if parsed.action == "form":
                self._open_form(command, client, respond)
            elif parsed.action == "balance":
                respond(
                    response_type="ephemeral",
                    **build_balance_message(
                        self.deps.service.balance(), tr, voice=self._voice_credit()
                    ),
                )
            elif parsed.action == "history":
                limit = int(parsed.argument or 10)
                records = channel_sends(
                    self.deps.service.store,
                    channel_id=command.get("channel_id"),
                    limit=limit,
                )
                named = RecipientNames(self.deps.service.store).of_many(
                    record.id for record in records
                )
                respond(
                    response_type="ephemeral",
                    **build_history_message(records, limit=limit, tr=tr, names=named),
                )
            elif parsed.action == "send":
                self._send_command(parsed, command, respond)
            elif parsed.action == "page":
                if len(parsed.recipients) == 1:
                    self.paging.page_command(parsed, command, respond)
            elif parsed.action == "oncall":
                self.paging.oncall_command(parsed, command, respond)
            elif parsed.action == "cancel":
                self.cancels.command(parsed.argument, command, respond)
        except GatewayError as error:
            hint = sender_hint(tr, error.hint)
            respond(
                response_type="ephemeral",
                text=tr.gettext(
                    "Octopush answered: %(error)s.%(hint)s",
                    error=gateway_error_text(error),
                    hint=" " + hint if hint else "",
                ),
            )
        except Exception:
            logger.exception(
                "/sms %s failed", parsed.action, extra={"user": command.get("user_id")}
            )
            respond(
                response_type="ephemeral",
                **build_error_message(
                    N_("Something went wrong; nothing more was done."), tr
                ),
            )

    def _send_command(
        self, parsed: SmsCommand, command: dict[str, Any], respond: Respond
    ) -> None:
        refused = command.get(command_reading.REFUSED)
        if not isinstance(refused, bool):  # not stored, or stored by an older version
            refused = self._refusal(parsed, command) is not None
        if refused:
            self.sender.record_refusal(_greedy(parsed), command)
        elif not parsed.ambiguous:
            self.sender.send(
                draft_of(_greedy(parsed), command_request_id(command)), command, respond
            )
        # An ambiguous command waits for a button: nothing more to do now.

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


def _sends(parsed: SmsCommand) -> bool:
    """A send the ack judges (the rules that need no lookup) before it answers."""
    return parsed.action == "send" and not parsed.problems


def _greedy(parsed: SmsCommand) -> Reading:
    return Reading(parsed.recipients, parsed.text)


def _choice(
    reading: Reading, parsed: SmsCommand, region: str, value: str | None
) -> Choice:
    """How the question shows ``reading``: numbers that cannot take an SMS flagged.

    Safe (the one primary button) only when it texts recipients that every reading
    texts too, the first ones typed, and none of them is flagged.
    """
    warnings = [
        (shown, warning)
        for token, shown in zip(
            reading.recipients, display_tokens(reading.recipients, region), strict=True
        )
        if (warning := sms_warning(token, region)) is not None
    ]
    common = min(len(other.recipients) for other in parsed.readings)
    safe = (
        reading != parsed.readings[0]
        and len(reading.recipients) == common
        and all(
            other.recipients[:common] == reading.recipients for other in parsed.readings
        )
        and not warnings
    )
    return Choice(
        recipients=display_tokens(reading.recipients, region),
        text=reading.text,
        warnings=warnings,
        value=value,
        safe=safe,
    )


def _answered_in_ack(parsed: SmsCommand) -> bool:
    """The commands whose ack says something (the others answer after a lookup)."""
    return bool(parsed.problems) or parsed.action in ("help", "page", "send")
