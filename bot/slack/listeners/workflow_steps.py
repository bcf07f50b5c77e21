"""The Workflow Builder steps ``send_sms`` and ``page_oncall`` (``function_executed``).

Each step runs as the person the workflow names (``requested_by``) through the path a
``/sms`` takes: the same recipient grammar, rules, policy, limits and audit trail (its
records say ``workflow``), and the same result post, in the step's ``channel``. Then
the step is completed with its outputs or failed with the reason, in the requester's
language.

The ack stores the step (its inputs, its run's id and the run's own
``bot_access_token``, which completing it needs) in the sender's queue
(:mod:`bot.slack.listeners.stored_runs`, one insert) and answers; a sender runs it
(:meth:`WorkflowSteps.run_stored`), so a restart right after the ack loses nothing and
the send's CPU is not the acking process's. The token goes only into the
``functions.complete*`` calls (:mod:`bot.slack.listeners.workflow_ending`); the queue
drops the row's body once it has run. A step that cannot be stored is failed saying
nothing was sent. A redelivered event is stored once and its copy runs nothing (the
stored run ends the step); without a queue the lazy listener runs the step.

An SMS cannot be taken back: once Octopush was called the step never says nothing
happened, and a send larger than ``SMS_CONFIRM_ABOVE`` (which ``/sms`` would ask about)
is refused, since nobody is there to answer. A run again has the same request id,
so it never texts twice.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.domain import Actor, SendDraft, SendOutcome, Source
from bot.errors import InputError, PolicyError
from bot.i18n import N_, Translator
from bot.paging.overrides import no_such_rotation
from bot.paging.runs import PageRun
from bot.sending.segments import analyse
from bot.slack import ids
from bot.slack.deps import SlackDeps, interaction_request_id
from bot.slack.listeners.pages import SlackPaging
from bot.slack.listeners.stored_runs import (
    NOT_STORED,
    NOTHING_STORED,
    queue_key,
    store_action,
)
from bot.slack.listeners.workflow_ending import EXECUTION, TOKEN, StoredStepEnding
from bot.slack.recipient_labels import remember_names
from bot.slack.views.messages import build_rejection_message, build_result_message
from bot.slack.workflow_inputs import read_recipients, step_text

logger = logging.getLogger(__name__)

#: Said when something of ours failed before Octopush was called.
NOTHING_DONE = N_("Something went wrong; nothing was sent.")
#: A step runs as a person: with nobody named, it does not run at all.
NO_REQUESTER = N_(
    "the step names nobody in Requested by: it runs as that person, so nothing was sent"
)
_USER_ID = re.compile(r"^[UW][A-Z0-9]+$")
#: The kinds a step's run is stored under, for the sender.
SEND_KIND = "workflow-send"
PAGE_KIND = "workflow-page"
STORED_KINDS = (SEND_KIND, PAGE_KIND)

#: The context key where a step's ack leaves what its store returned, for its lazy
#: listener (:func:`bot.slack.listeners.stored_runs.store_action`).
_STORED_STEP = "sms_bot_stored_step"

#: How a step tells Slack it ended: ``complete(outputs=…)`` and ``fail(error)``.
Done = Callable[..., object]
#: A step's run: its inputs, team, execution id, ``complete`` and ``fail``.
StepRun = Callable[[dict[str, Any], str | None, str | None, Done, Done], None]


class WorkflowSteps:
    """The listeners of the opt-in manifest's ``functions``."""

    def __init__(self, deps: SlackDeps, paging: SlackPaging) -> None:
        self.deps = deps
        self.paging = paging
        #: The app's client: a stored step's end copies its settings, not its token.
        self._client: WebClient | None = None

    def register(self, app: App) -> None:
        self._client = app.client
        app.function(ids.STEP_SEND_SMS)(ack=self.ack_send, lazy=[self.send_sms])
        app.function(ids.STEP_PAGE_ONCALL)(ack=self.ack_page, lazy=[self.page_oncall])
        # Dynamic options are answered before the ack (Slack's synchronous mode).
        app.function(ids.STEP_LIST_ROTATIONS, auto_acknowledge=False)(
            self.list_rotations
        )

    # --- the ack: store the step for the sender --------------------------------------

    def ack_send(
        self,
        ack: Ack,
        event: dict[str, Any],
        body: dict[str, Any],
        context: BoltContext,
    ) -> None:
        self._store(SEND_KIND, _request_id(event, body), event, body, context)
        ack()

    def ack_page(
        self,
        ack: Ack,
        event: dict[str, Any],
        body: dict[str, Any],
        context: BoltContext,
    ) -> None:
        request_id = _request_id(event, body, kind="page")
        self._store(PAGE_KIND, request_id, event, body, context)
        ack()

    def _store(
        self,
        kind: str,
        request_id: str,
        event: dict[str, Any],
        body: dict[str, Any],
        context: BoltContext,
    ) -> None:
        """One insert: what the run needs, and the run's token to complete it (the
        queue drops it with the row's body once the step has run)."""
        payload = {
            "team_id": body.get("team_id"),
            EXECUTION: event.get(EXECUTION),
            "inputs": event.get("inputs") or {},
            TOKEN: event.get(TOKEN),
        }
        key = queue_key(kind, request_id)
        context[_STORED_STEP] = store_action(self.deps, kind, key, payload)

    def _after_ack(
        self, context: BoltContext, inputs: dict[str, Any], fail: Done
    ) -> bool:
        """True when the lazy listener must run the step itself (no queue). Stored:
        the sender runs it (``inline``: this thread, now); not stored: the step
        fails, nothing sent; a copy of a stored step: the first's run ends the step.

        The steps keep a Bolt lazy listener (the other stored actions hand their
        work to the listener pool): without a queue, only it has the run's
        ``complete`` and ``fail``."""
        row = context.get(_STORED_STEP)
        if row == NOTHING_STORED:
            tr = self.deps.languages.translator_for(_requester(inputs))
            _call(fail, tr.gettext(NOT_STORED))
            return False
        commands = self.deps.commands
        if row is not None and commands is not None and commands.inline:
            commands.run_here(row)
        return commands is None

    def _run_lazily(
        self,
        run: StepRun,
        event: dict[str, Any],
        body: dict[str, Any],
        context: BoltContext,
        complete: Done,
        fail: Done,
    ) -> None:
        """A step's lazy listener: run it here only when nothing was stored."""
        inputs = event.get("inputs") or {}
        if self._after_ack(context, inputs, fail):
            run(inputs, body.get("team_id"), event.get(EXECUTION), complete, fail)

    def run_stored(self, kind: str, payload: dict[str, Any]) -> None:
        """Run a step its ack stored (called by the sender), and end it with the
        run's own token.

        Raises:
            StepNotEnded: Slack refused the end (the token expired): the step ran,
                the sender marks the stored step failed.
        """
        assert self._client is not None, "register() the steps first"
        run = {SEND_KIND: self._send_sms, PAGE_KIND: self._page_oncall}[kind]
        ending = StoredStepEnding(self._client, payload)
        run(
            payload.get("inputs") or {},
            payload.get("team_id"),
            ending.execution_id,
            ending.complete,
            ending.fail,
        )
        ending.raise_if_refused()

    # --- send_sms ------------------------------------------------------------------

    def send_sms(
        self,
        event: dict[str, Any],
        body: dict[str, Any],
        context: BoltContext,
        complete: Done,
        fail: Done,
    ) -> None:
        """After the ack: the sender sends (or nothing was stored, or no queue)."""
        self._run_lazily(self._send_sms, event, body, context, complete, fail)

    def _send_sms(
        self,
        inputs: dict[str, Any],
        team_id: str | None,
        execution: str | None,
        complete: Done,
        fail: Done,
    ) -> None:
        user = _requester(inputs)
        tr = self.deps.languages.translator_for(user)
        actor = _actor(team_id, user, _text(inputs.get("channel")) or None)
        typed = SendDraft(
            recipients=(_text(inputs.get("to")),),
            text=step_text(_text(inputs.get("text"))),
            request_id=_request_id_of(team_id, execution),
        )
        try:
            draft = self._draft(typed, actor)
            outcome = self.deps.service.send(draft, actor, resolve=self.deps.resolve)
        except (InputError, PolicyError) as refusal:
            if refusal.audit_id is None:  # refused here, before the send path
                self._record_refusal(typed, actor, refusal)
            _call(fail, build_rejection_message(refusal, tr)["text"])
            return
        except Exception:
            logger.exception("workflow step send_sms failed before sending")
            _call(fail, tr.gettext(NOTHING_DONE))
            return
        with self.deps.poster.after_send(
            outcome, user_id=user, channel_id=actor.slack_channel_id
        ):
            if not outcome.duplicate:
                self.deps.poster.post(
                    build_result_message(
                        outcome,
                        user_id=user or "",
                        tr=self.deps.languages.workspace(),
                        names=remember_names(self.deps, draft.recipients, outcome),
                    ),
                    channel_id=actor.slack_channel_id,
                    user_id=user,
                    audit_id=outcome.audit_id,
                )
        _finish(outcome, complete, fail, tr)

    def _draft(self, typed: SendDraft, actor: Actor) -> SendDraft:
        """The draft ``/sms`` would have sent; raises ``InputError`` when the step
        cannot say whom to text, or would need a confirmation nobody can give (after
        the requester's own refusals, which the send path records)."""
        if actor.slack_user_id is None:
            raise InputError("requested_by", NO_REQUESTER)
        read = read_recipients(
            typed.recipients[0],
            region=self.deps.settings.sms.default_region,
            is_name=self.deps.is_name,
        )
        if read.problem is not None:
            raise InputError("recipients", read.problem)
        draft = typed.model_copy(update={"recipients": read.tokens})
        try:
            self.deps.service.check_actor(actor)
            request = self.deps.service.validate(draft, resolve=self.deps.resolve)
        except (InputError, PolicyError):
            return draft  # the send path refuses it and records why
        total = analyse(request.text).parts * len(request.recipients)
        limit = self.deps.settings.sms.confirm_above
        if total > limit:
            raise InputError(
                "recipients",
                N_(
                    "this send is %(count)s SMS, more than the %(limit)s that need a "
                    "confirmation, and a workflow cannot confirm; send it with /sms",
                    count=total,
                    limit=limit,
                ),
            )
        return draft

    def _record_refusal(
        self, typed: SendDraft, actor: Actor, refusal: InputError | PolicyError
    ) -> None:
        """Every send attempt has an audit record: a step refused here gets one too."""
        try:
            self.deps.service.record_refusal(typed, actor, refusal)
        except Exception:
            logger.exception("recording a refused workflow step failed")

    # --- page_oncall ---------------------------------------------------------------

    def page_oncall(
        self,
        event: dict[str, Any],
        body: dict[str, Any],
        context: BoltContext,
        complete: Done,
        fail: Done,
    ) -> None:
        """After the ack: the sender pages (or nothing was stored, or no queue)."""
        self._run_lazily(self._page_oncall, event, body, context, complete, fail)

    def _page_oncall(
        self,
        inputs: dict[str, Any],
        team_id: str | None,
        execution: str | None,
        complete: Done,
        fail: Done,
    ) -> None:
        user = _requester(inputs)
        tr = self.deps.languages.translator_for(user)
        channel = (
            _text(inputs.get("channel")) or self.deps.settings.sms.admin_channel or None
        )
        actor = _actor(team_id, user, channel)
        if user is None:
            _call(fail, tr.gettext(NO_REQUESTER))
            return
        rotation = _text(inputs.get("rotation")).strip()
        directory = self.deps.directory.current()
        if rotation.lower() not in directory.rotations:
            _call(fail, tr.gettext(no_such_rotation(rotation, directory)))
            return
        try:
            run = self.paging.pager.page(
                rotation,
                step_text(_text(inputs.get("text"))),
                actor,
                resolve=self.deps.resolve,
                request_id=_request_id_of(team_id, execution, kind="page"),
            )
        except (InputError, PolicyError) as refusal:
            _call(fail, build_rejection_message(refusal, tr)["text"])
            return
        except Exception:
            logger.exception("workflow step page_oncall failed before paging")
            _call(fail, tr.gettext(NOTHING_DONE))
            return
        if not run.duplicate:
            self._post_page(run, actor)
        _finish_page(run, complete, fail, tr)

    def _post_page(self, run: PageRun, actor: Actor) -> None:
        sent = (run.reached or run.attempts[0]).outcome
        guard = (
            self.deps.poster.after_send(
                sent,
                user_id=actor.slack_user_id,
                channel_id=actor.slack_channel_id,
                what=N_("posting the page"),
            )
            if sent is not None
            else contextlib.nullcontext()
        )
        with guard:
            self.paging.post_page(run, {"user_id": actor.slack_user_id})

    # --- list_rotations (dynamic options) ------------------------------------------

    def list_rotations(self, ack: Ack, complete: Done, fail: Done) -> None:
        try:
            names = sorted(self.deps.directory.current().rotations)
            complete(
                outputs={
                    "options": [
                        {"text": {"type": "plain_text", "text": name}, "value": name}
                        for name in names
                    ]
                }
            )
        except Exception:
            logger.exception("listing the rotations for Workflow Builder failed")
            fail(
                self.deps.languages.workspace().gettext(
                    "The rotations could not be read."
                )
            )
        finally:
            ack()


def _finish(outcome: SendOutcome, complete: Done, fail: Done, tr: Translator) -> None:
    """Complete with the outputs when Octopush took the SMS; otherwise fail, saying
    truthfully what happened (it may have gone out)."""
    if outcome.ok:
        _call(
            complete,
            outputs={
                "ticket": outcome.sms_ticket or "",
                "sms_count": outcome.number_of_sms_needed or 0,
                "cost": outcome.total_cost or 0,
                "status": outcome.status.value,
            },
        )
        return
    if outcome.maybe_sent:
        reason = N_(
            "The SMS may have gone out (see the Octopush dashboard, audit "
            "#%(audit_id)s): do not run this step again without checking.",
            audit_id=outcome.audit_id,
        )
    else:
        reason = N_(
            "The SMS was not sent: %(error)s (audit #%(audit_id)s).",
            error=outcome.error_message or outcome.error_code or N_("Octopush refused"),
            audit_id=outcome.audit_id,
        )
    _call(fail, tr.gettext(reason))


def _finish_page(run: PageRun, complete: Done, fail: Done, tr: Translator) -> None:
    reached = run.reached
    if reached is not None:
        _call(complete, outputs={"page": run.page.id, "paged": reached.member})
        return
    first = run.attempts[0] if run.attempts else None
    why = first.why if first is not None else ""
    _call(
        fail,
        tr.gettext(
            N_(
                "Page #%(page)s started, but nobody could be texted yet: %(why)s",
                page=run.page.id,
                why=why or N_("unknown"),
            )
        ),
    )


def _call(done: Done, *args: Any, **kwargs: Any) -> None:
    """Tell Slack how the step ended; a failure here is logged (the work is done)."""
    try:
        done(*args, **kwargs)
    except Exception:
        logger.exception("telling Slack how the workflow step ended failed")


def _actor(team_id: str | None, user: str | None, channel: str | None) -> Actor:
    return Actor(
        source=Source.WORKFLOW,
        slack_team_id=team_id,
        slack_user_id=user,
        slack_channel_id=channel,
    )


def _request_id(
    event: dict[str, Any], body: dict[str, Any], *, kind: str = "workflow"
) -> str:
    """One id per step run: a retried event never sends twice."""
    return _request_id_of(body.get("team_id"), event.get(EXECUTION), kind=kind)


def _request_id_of(
    team_id: str | None, execution: str | None, *, kind: str = "workflow"
) -> str:
    return interaction_request_id(kind, team_id, execution)


def _requester(inputs: dict[str, Any]) -> str | None:
    """The ``requested_by`` user id, or None when it is missing or not a user id."""
    user = _text(inputs.get("requested_by")).strip()
    return user if _USER_ID.match(user) else None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""
