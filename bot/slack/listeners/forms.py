"""The send form submitted: checked, confirmed when large, sent.

The submission's ack does no I/O but one insert. Problems that need no lookup go back
on their own field with ``response_action: errors``; otherwise the form becomes
"checking…" at once, and a sender looks people up, runs the guard, and updates the
view to the confirmation, to "sending", or back to the form with the problems on top.
Opening the form and its live preview are :mod:`bot.slack.listeners.form_opening`'s
job.

The confirmation carries the draft in its ``private_metadata``, or only the id of the
draft kept server-side when it is too long (:mod:`bot.slack.confirm_metadata`).

A submission that passed the ack's checks, and a confirmed large send, are stored by
their ack (one insert, :mod:`bot.slack.listeners.stored_runs`) and run by a sender:
a restart right after the ack loses nothing. When the store fails the person is told
nothing was sent, and nothing is. No Bolt lazy listener: the ack hands what is left to
the listener pool (a copy, ``inline`` mode), and a stored one leaves nothing here.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.domain import Actor, SendDraft, SendRequest, Source
from bot.errors import InputError, PolicyError
from bot.i18n import N_, Translator
from bot.sending.guard import policy_from
from bot.sending.segments import analyse
from bot.slack import ids
from bot.slack.api import slack_error_code
from bot.slack.command_checks import precheck
from bot.slack.confirm_metadata import ConfirmMetadata
from bot.slack.deps import SlackDeps, interaction_request_id
from bot.slack.listeners.form_opening import FormOpening
from bot.slack.listeners.stored_runs import (
    NOT_STORED,
    NOTHING_STORED,
    Work,
    hand_over,
    left_after_store,
    queue_key,
    store_action,
)
from bot.slack.modal_reader import (
    ERROR_MAX,
    ModalSubmission,
    errors_for_modal,
    read_sms_modal,
)
from bot.slack.recipient_labels import remember_names
from bot.slack.views.blocks import escape, plain, section, truncate
from bot.slack.views.command_questions import (
    describe_estimate,
)
from bot.slack.views.form_states import (
    build_checking_view,
    build_sending_view,
    refill_form,
)
from bot.slack.views.messages import (
    build_error_message,
    build_rejection_message,
    build_result_message,
)
from bot.slack.views.modals import (
    VIEW_UPDATE_KEYS,
    ModalContext,
    build_confirm_modal,
)
from bot.slack.views.skipped_note import build_unreachable_note

logger = logging.getLogger(__name__)

#: The kinds a submitted form and a confirmed large send are stored under.
SUBMITTED = "form"
CONFIRMED = "form-confirm"
#: What a stored submission keeps of its view: what the checks, the refilled form
#: and the confirmation read (not Slack's app, bot and team ids).
_STORED_VIEW_KEYS = (
    ("id", "hash", "root_view_id") + VIEW_UPDATE_KEYS + ("state", "blocks")
)


class SmsFormHandlers:
    """Listeners for the form's submission and its confirmation step."""

    def __init__(self, deps: SlackDeps) -> None:
        self.deps = deps
        self._policy = policy_from(deps.settings)
        self._metadata = ConfirmMetadata(deps.drafts)
        #: The app's Web API client, for the submissions a sender runs (register).
        self._client: WebClient | None = None

    def register(self, app: App) -> None:
        self._client = app.client
        FormOpening(self.deps).register(app)
        # No Bolt lazy listener: each ack hands what is left to the listener pool
        # (nothing when a sender runs the stored action), as ``/sms`` does.
        app.view(ids.SMS_MODAL)(self.submission_and_hand_over)
        app.view(ids.CONFIRM_MODAL)(self.confirmation_and_hand_over)

    def submission_and_hand_over(
        self, ack: Ack, body: dict[str, Any], view: dict[str, Any]
    ) -> None:
        """Bolt's listener for the submitted form: :meth:`ack_submission`, then what
        is left runs on the listener pool."""
        hand_over(self.deps, self.ack_submission(ack, body, view), "the submitted form")

    def ack_submission(
        self, ack: Ack, body: dict[str, Any], view: dict[str, Any]
    ) -> Work | None:
        """Answer at once, with no I/O but one insert: problems that need no lookup on
        their fields, else "checking…" while a sender looks people up, runs the guard
        and sends (the submission is stored first; when it cannot be, the form stays
        open saying nothing was sent). What is left after the answer: None when a
        sender runs it, or the form's problems or the failed store were the answer."""
        # An ack makes no Slack call: the reader's language is known from opening
        # the form (cached), else the workspace's.
        tr = self.deps.languages.without_lookup(_user_id(body))
        submission = read_sms_modal(view, response_urls=body.get("response_urls") or ())
        if not isinstance(submission, ModalSubmission):
            errors = {block: tr.gettext(text) for block, text in submission.items()}
            ack(response_action="errors", errors=errors)
            return None
        problem = precheck(
            submission.draft,
            actor=self._actor(body, submission.channel_id),
            policy=self._policy,
            defaults=self.deps.service.defaults,
            is_name=self.deps.is_name,
        )
        if problem is not None:
            ack(response_action="errors", errors=_inline_errors(problem, tr))
            return None
        row = self._store_submission(body, view)
        if row == NOTHING_STORED:
            ack(
                response_action="errors",
                errors={ids.TEXT_BLOCK: truncate(tr.gettext(NOT_STORED), ERROR_MAX)},
            )
            return None
        metadata = str(view.get("private_metadata") or "")
        ack(response_action="update", view=build_checking_view(metadata, tr))
        # Not stored (a copy, or no queue): run here what a sender would.
        run_here = partial(self.run_stored, SUBMITTED, body)
        return left_after_store(self.deps, row, run_here)

    def _store_submission(
        self, body: dict[str, Any], view: dict[str, Any]
    ) -> int | None:
        """Store a checked submission for the sender (:func:`store_action`'s answer).

        Kept under the send's request id (the form's view) and the view's hash: a
        double-clicked submit is stored once, and the form submitted again after its
        problems were shown (same view, new hash) is stored again.
        """
        team_id = (body.get("team") or {}).get("id")
        request_id = interaction_request_id("modal", team_id, str(view.get("id") or ""))
        payload = {
            "team": {"id": team_id},
            "user": {"id": _user_id(body)},
            "response_urls": body.get("response_urls") or [],
            "view": {key: view[key] for key in _STORED_VIEW_KEYS if key in view},
        }
        return store_action(
            self.deps,
            SUBMITTED,
            queue_key(SUBMITTED, request_id, str(view.get("hash") or "")),
            payload,
        )

    def run_stored(self, kind: str, body: dict[str, Any]) -> None:
        """Run a submission or a confirmation its ack stored (called by the sender)."""
        view = body.get("view") or {}
        if kind == CONFIRMED:
            self._confirmed(body, view)
            return
        assert self._client is not None, "register() the handlers first"
        self._submitted(body, view, self._client)

    def _submitted(
        self, body: dict[str, Any], view: dict[str, Any], client: WebClient
    ) -> None:
        """Resolve and check the form, then show the confirmation, the problems, or send."""
        submission = read_sms_modal(view, response_urls=body.get("response_urls") or ())
        if not isinstance(submission, ModalSubmission):
            return  # the ack showed the problems
        actor = self._actor(body, submission.channel_id)
        if (
            precheck(
                submission.draft,
                actor=actor,
                policy=self._policy,
                defaults=self.deps.service.defaults,
                is_name=self.deps.is_name,
            )
            is not None
        ):
            return  # the ack showed them on the form
        view_id = str(view.get("id") or "")
        context = ModalContext.from_metadata(str(view.get("private_metadata") or ""))
        channel_id = submission.channel_id or context.channel_id
        tr = self.deps.languages.translator_for(actor.slack_user_id)
        try:
            request = self.deps.service.validate(
                submission.draft, resolve=self.deps.resolve
            )
            self.deps.service.check_policy(request, actor)
        except (InputError, PolicyError) as problem:
            if not self._show(client, view_id, refill_form(view, problem, tr)):
                self._tell(actor, build_rejection_message(problem, tr), channel_id)
            return
        confirm = self._confirmation(
            request, submission, view, tr, user_id=actor.slack_user_id
        )
        if confirm is not None:
            if not self._show(client, view_id, confirm):
                self._tell(
                    actor,
                    build_error_message(
                        N_(
                            "The form was closed before the send could be confirmed; "
                            "nothing was sent."
                        ),
                        tr,
                    ),
                    channel_id,
                )
            return
        sending = build_sending_view(
            recipients=len(request.recipients), channel_id=channel_id, tr=tr
        )
        self._show(client, view_id, sending)
        self._send(
            body,
            submission.draft,
            channel_id=channel_id,
            response_url=submission.response_url or context.response_url,
            view_id=view_id,
        )

    def _show(self, client: WebClient, view_id: str, view: dict[str, Any]) -> bool:
        """Replace the submitted form's view; False when Slack refuses (e.g. closed)."""
        try:
            client.views_update(view_id=view_id, view=view)
        except SlackApiError as error:
            logger.info("views.update after submit failed: %s", slack_error_code(error))
            return False
        return True

    def _tell(
        self, actor: Actor, message: dict[str, Any], channel_id: str | None
    ) -> None:
        if actor.slack_user_id:
            self.deps.poster.tell_user(
                actor.slack_user_id, message, channel_id=channel_id
            )

    def confirmation_and_hand_over(
        self, ack: Ack, body: dict[str, Any], view: dict[str, Any]
    ) -> None:
        """Bolt's listener for the large send's confirmation: :meth:`ack_confirmation`,
        then what is left runs on the listener pool."""
        work = self.ack_confirmation(ack, body, view)
        hand_over(self.deps, work, "the confirmed large send")

    def ack_confirmation(
        self, ack: Ack, body: dict[str, Any], view: dict[str, Any]
    ) -> Work | None:
        """Store the confirmed send for the sender, then close the form; when it
        cannot be stored, say in the form that nothing was sent. What is left after
        the answer: None when a sender sends it (or nothing may be sent)."""
        team_id = (body.get("team") or {}).get("id")
        # The send's request id: the form's view, which the confirmation replaced.
        view_id = str(view.get("root_view_id") or view.get("id") or "")
        payload = {
            "team": {"id": team_id},
            "user": {"id": _user_id(body)},
            "view": {
                key: view[key]
                for key in ("id", "root_view_id", "private_metadata")
                if key in view
            },
        }
        key = queue_key(CONFIRMED, interaction_request_id("modal", team_id, view_id))
        row = store_action(self.deps, CONFIRMED, key, payload)
        if row == NOTHING_STORED:
            tr = self.deps.languages.without_lookup(_user_id(body))
            ack(response_action="update", view=_not_stored_view(tr))
            return None
        ack(response_action="clear")
        run_here = partial(self.run_stored, CONFIRMED, body)
        return left_after_store(self.deps, row, run_here)

    def _confirmed(self, body: dict[str, Any], view: dict[str, Any]) -> None:
        """The person confirmed a large send: send what the form held."""
        user_id = _user_id(body)
        saved = self._metadata.read(str(view.get("private_metadata") or ""), user_id)
        try:
            draft = SendDraft.model_validate(saved["draft"])
        except (ValueError, KeyError, TypeError):
            logger.warning(
                "confirmation without a usable draft (used, expired or another "
                "person's); nothing sent",
                extra={"user": user_id},
            )
            self._tell(
                self._actor(body, None),
                build_error_message(
                    _DRAFT_GONE, self.deps.languages.translator_for(user_id)
                ),
                None,
            )
            return
        self._send(
            body,
            draft,
            channel_id=saved.get("channel_id"),
            response_url=saved.get("response_url"),
            view_id=str(saved.get("view_id") or view.get("root_view_id") or ""),
        )

    def _confirmation(
        self,
        request: SendRequest,
        submission: ModalSubmission,
        view: dict[str, Any],
        tr: Translator,
        *,
        user_id: str | None,
    ) -> dict[str, Any] | None:
        parts = analyse(request.text).parts
        total = parts * len(request.recipients)
        if total <= self.deps.settings.sms.confirm_above:
            return None
        saved = self._metadata.write(
            {
                "draft": submission.draft.model_dump(mode="json"),
                "channel_id": submission.channel_id,
                "response_url": submission.response_url,
                "view_id": view.get("id"),
            },
            user_id,
        )
        if saved is None:
            return refill_form(view, InputError("text", _CANNOT_KEEP), tr)
        summary = tr.ngettext(
            "%(n)s recipient, %(parts)s SMS each (more than %(limit)s SMS).",
            "%(n)s recipients, %(parts)s SMS each (more than %(limit)s SMS).",
            len(request.recipients),
            parts=tr.number(parts),
            limit=self.deps.settings.sms.confirm_above,
        )
        estimate = describe_estimate(
            recipients=len(request.recipients), parts=parts, tr=tr
        )
        return build_confirm_modal(
            draft_metadata=saved, summary=summary, estimate=estimate, tr=tr
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
        reader = self.deps.languages.translator_for(user_id)
        try:
            outcome = self.deps.service.send(draft, actor, resolve=self.deps.resolve)
        except (InputError, PolicyError) as refusal:
            if user_id:
                poster.tell_user(
                    user_id,
                    build_rejection_message(refusal, reader),
                    channel_id=channel_id,
                )
            return
        except Exception:
            logger.exception("modal send failed", extra={"user": user_id})
            if user_id:
                poster.tell_user(
                    user_id,
                    build_error_message(
                        N_("Something went wrong sending your SMS."), reader
                    ),
                    channel_id=channel_id,
                )
            return
        if outcome.duplicate:
            return  # a double-clicked submit: the first one posts the result
        with poster.after_send(
            outcome, user_id=user_id, channel_id=channel_id, response_url=response_url
        ):
            poster.post(
                build_result_message(
                    outcome,
                    user_id=user_id or "",
                    tr=self.deps.languages.workspace(),
                    names=remember_names(self.deps, draft.recipients, outcome),
                ),
                channel_id=channel_id,
                user_id=user_id,
                response_url=response_url,
                audit_id=outcome.audit_id,
            )
            missing = self.deps.unreachable(draft.recipients)
            if missing and user_id:
                poster.tell_user(
                    user_id,
                    build_unreachable_note(missing, reader),
                    channel_id=channel_id,
                )


_RECIPIENT_RULES = {"SMS_MAX_RECIPIENTS", "SMS_BLOCKED_NUMBERS", "OPT_OUT"}
_DRAFT_GONE = N_(
    "This confirmation has expired or was already used, so nothing was sent. "
    "Open the form again (`/sms`) to send it."
)
_CANNOT_KEEP = N_(
    "This form is too large to keep for confirmation right now; nothing was sent. "
    "Try again in a moment."
)


def _not_stored_view(tr: Translator) -> dict[str, Any]:
    """What the confirmation becomes when its send cannot be stored."""
    return {
        "type": "modal",
        "title": plain(tr.gettext("Confirm the send"), 24),
        "close": plain(tr.gettext("Close"), 24),
        "blocks": [section("🚫 " + escape(tr.gettext(NOT_STORED)))],
    }


def _inline_errors(problem: InputError | PolicyError, tr: Translator) -> dict[str, str]:
    """``ack(response_action="errors")`` keys: each problem under its form field."""
    if isinstance(problem, InputError):
        return errors_for_modal(problem, tr)
    return {_policy_block(problem): truncate(tr.gettext(problem.message), ERROR_MAX)}


def _policy_block(refusal: PolicyError) -> str:
    """Show a refusal under the field it is about (recipients), else under the message."""
    return ids.RECIPIENTS_BLOCK if refusal.rule in _RECIPIENT_RULES else ids.TEXT_BLOCK


def _user_id(body: dict[str, Any]) -> str | None:
    user = body.get("user") or {}
    return str(user["id"]) if user.get("id") else None
