"""``/sms page``, ``/sms oncall`` and the Acknowledge button.

Receipts, replies and opt-outs are :mod:`bot.slack.listeners.receipts`' job; the
escalation loop and the posts about page moves are :mod:`~.escalations`'.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import re
from typing import Any

from slack_bolt import Ack, App, Respond

from bot.audit.pages import Page
from bot.directory.model import Directory
from bot.domain import Actor, Source
from bot.errors import AuditStoreError, InputError, PolicyError
from bot.i18n import N_, Translator
from bot.paging.life import PageLife
from bot.paging.overrides import no_such_rotation
from bot.paging.page_text import page_sms
from bot.paging.pager import Pager, PageRun
from bot.slack import ids
from bot.slack.deps import SlackDeps, interaction_request_id
from bot.slack.grammar import SmsCommand
from bot.slack.listeners.escalations import SlackEscalations
from bot.slack.listeners.page_posts import PagePosts
from bot.slack.oncall_grammar import OncallRequest
from bot.slack.views.blocks import message, section
from bot.slack.views.messages import build_rejection_message, build_result_message
from bot.slack.views.page_messages import (
    acknowledged_note,
    build_oncall_message,
    build_override_message,
    page_problems_text,
    resolved_note,
)

logger = logging.getLogger(__name__)


class SlackPaging:
    """The page commands and the Acknowledge button."""

    def __init__(
        self,
        posts: PagePosts,
        escalations: SlackEscalations,
        life: PageLife | None = None,
    ) -> None:
        self.posts = posts
        self.escalations = escalations
        #: Resolve and Escalate (the buttons beside Acknowledge).
        self.life = life or PageLife(posts.pager, posts.deps.service.store)

    @property
    def deps(self) -> SlackDeps:
        return self.posts.deps

    @property
    def pager(self) -> Pager:
        return self.posts.pager

    def register(self, app: App) -> None:
        app.action(ids.ACK_PAGE)(ack=self.ack_only, lazy=[self.acknowledge_button])
        app.action(ids.RESOLVE_PAGE)(ack=self.ack_only, lazy=[self.resolve_button])
        app.action(ids.ESCALATE_PAGE)(ack=self.ack_only, lazy=[self.escalate_button])
        app.action(re.compile(f"^{ids.ALERT_LINK_PREFIX}"))(self.ack_only)

    def ack_only(self, ack: Ack) -> None:
        ack()

    def reader(self, user_id: str | None) -> Translator:
        """The translator of an ephemeral answer: its reader's Slack language."""
        return self.deps.languages.translator_for(user_id)

    def page_command(
        self, parsed: SmsCommand, command: dict[str, Any], respond: Respond
    ) -> None:
        who, text = parsed.recipients[0], parsed.text
        actor = Actor(
            source=Source.PAGE,
            slack_team_id=command.get("team_id"),
            slack_user_id=command.get("user_id"),
            slack_channel_id=command.get("channel_id"),
        )
        request_id = interaction_request_id(
            "page", command.get("team_id"), command.get("trigger_id")
        )
        try:
            words = self.pager.sms_words
            run = self.pager.page(
                who,
                text,
                actor,
                resolve=self.deps.resolve,
                request_id=request_id,
                # The SMS says its page number and how to answer (ACK/RES/ESC 12).
                text_for=lambda page_id: page_sms(words, page_id, text),
            )
        except (InputError, PolicyError) as refusal:
            tr = self.reader(command.get("user_id"))
            respond(response_type="ephemeral", **build_rejection_message(refusal, tr))
            return
        if run.duplicate:
            return
        page = run.page
        sent = (run.reached or run.attempts[0]).outcome
        guard = (
            self.deps.poster.after_send(
                sent,
                user_id=page.slack_user_id,
                channel_id=page.slack_channel_id,
                response_url=command.get("response_url"),
                what=N_("posting the page"),
            )
            if sent is not None
            else contextlib.nullcontext()
        )
        with guard:
            self._post_page(run, command)

    def post_page(self, run: PageRun, command: dict[str, Any]) -> None:
        """The posts of a page started elsewhere (a Workflow Builder step)."""
        self._post_page(run, command)

    def _post_page(self, run: PageRun, command: dict[str, Any]) -> None:
        """The page's channel post, then in its thread what failed after the SMS and
        whoever could not be reached.

        The post goes out even when the audit database failed after the SMS left:
        the SMS cannot be taken back, so the page must show, with its button.
        """
        page = run.page
        posted = self.deps.poster.post(
            self.posts.page_message(page),
            channel_id=page.slack_channel_id,
            user_id=page.slack_user_id,
            response_url=command.get("response_url"),
            audit_id=run.attempts[0].audit_id,
        )
        problems = list(run.problems)
        if posted.channel and posted.ts:
            problem = self.pager.remember_post(
                page.id, channel=posted.channel, ts=posted.ts
            )
            problems += [problem] if problem else []
        try:
            page = self.pager.pages.get(page.id)
        except AuditStoreError as error:
            logger.warning("page #%s could not be read again: %s", page.id, error)
        if posted.channel and posted.ts:
            page = dataclasses.replace(
                page, slack_channel_id=posted.channel, slack_message_ts=posted.ts
            )
        self.posts.changed(page)
        if problems:
            self._tell_problems(run, page, problems, command)
        first = run.attempts[0].outcome
        if len(run.attempts) == 1 and first is not None and not first.ok:
            failure = build_result_message(first, user_id=command.get("user_id") or "")
            self.posts.thread(page, failure)
            return
        if run.failed:
            self.escalations.report(dataclasses.replace(run, page=page))

    def _tell_problems(
        self, run: PageRun, page: Page, problems: list[str], command: dict[str, Any]
    ) -> None:
        """In the page's thread (read by many: ``SMS_LANGUAGE``); with no post, to the
        person who paged."""
        if page.slack_message_ts:
            text = page_problems_text(problems, page)
            self.posts.thread(page, message(text, [section(text)]))
            return
        sent = (run.reached or run.attempts[0]).outcome
        if sent is not None:
            self.deps.poster.tell_sent(
                sent,
                problems[0],
                user_id=page.slack_user_id,
                channel_id=page.slack_channel_id,
                response_url=command.get("response_url"),
            )

    def oncall_command(
        self, parsed: SmsCommand, command: dict[str, Any], respond: Respond
    ) -> None:
        """``/sms oncall [ROTATION]``, and the overrides ``set`` and ``clear``."""
        directory = self.deps.directory.current()
        request = parsed.oncall
        if request is not None and request.verb in ("set", "clear"):
            self._override(request, directory, command, respond)
            return
        tr = self.reader(command.get("user_id"))
        now = self.pager.now()
        name = request.rotation if request is not None else ""
        if name:
            if name not in directory.rotations:
                respond(
                    response_type="ephemeral",
                    text=tr.gettext(no_such_rotation(name, directory)),
                )
                return
            summaries = [directory.oncall(name, at=now)]
        else:
            summaries = directory.oncall_summary(now)
        overrides = self.pager.overrides.active(now)
        respond(
            response_type="ephemeral",
            **build_oncall_message(summaries, at=now, overrides=overrides, tr=tr),
        )

    def _override(
        self,
        typed: OncallRequest,
        directory: Directory,
        command: dict[str, Any],
        respond: Respond,
    ) -> None:
        actor = Actor(
            source=Source.PAGE,
            slack_team_id=command.get("team_id"),
            slack_user_id=command.get("user_id"),
            slack_channel_id=command.get("channel_id"),
        )
        overrides = self.pager.overrides
        try:
            request = overrides.request(
                directory,
                verb=typed.verb,
                rotation=typed.rotation,
                person=typed.person,
                duration=typed.duration,
                until=typed.until,
            )
            done = overrides.apply(request, actor)
        except (InputError, PolicyError) as refusal:
            tr = self.reader(command.get("user_id"))
            respond(response_type="ephemeral", **build_rejection_message(refusal, tr))
            return
        self.posts.rotation_changed(request.rotation)
        user = command.get("user_id") or ""
        respond(
            response_type="in_channel",
            **build_override_message(request.rotation, done, by=user),
        )

    def acknowledge_button(self, body: dict[str, Any], respond: Respond) -> None:
        action = (body.get("actions") or [{}])[0]
        user_id = (body.get("user") or {}).get("id")
        try:
            page_id = int(action.get("value") or "")
        except ValueError:
            return
        page = self.pager.acknowledge(page_id, by=f"<@{user_id}>")
        if page is None:
            if not body.get("response_url"):  # pressed in the App Home: redraw it
                self.posts.changed(self.pager.pages.get(page_id))
                return
            respond(
                response_type="ephemeral",
                replace_original=False,
                text=self.reader(user_id).gettext(
                    "This page was already acknowledged."
                ),
            )
            return
        self.posts.refresh(page)
        self.posts.thread(page, acknowledged_note(page))

    def resolve_button(self, body: dict[str, Any], respond: Respond) -> None:
        """Close the page (and its alert); RESOLVED is texted to whom it texted."""
        page_id, user_id = _page_action(body)
        if page_id is None:
            return
        resolution = self.life.resolve(
            page_id, by=f"<@{user_id}>", resolve=self.deps.resolve
        )
        if resolution is None:
            if not body.get("response_url"):  # pressed in the App Home: redraw it
                self.posts.changed(self.pager.pages.get(page_id))
                return
            respond(
                response_type="ephemeral",
                replace_original=False,
                text=self.reader(user_id).gettext("This page was already resolved."),
            )
            return
        texted = (
            len(resolution.sms.request.recipients)
            if resolution.sms is not None and resolution.sms.ok
            else 0
        )
        self.posts.refresh(resolution.page)
        self.posts.thread(resolution.page, resolved_note(resolution.page, texted))

    def escalate_button(self, body: dict[str, Any], respond: Respond) -> None:
        """Pass the page on now: the escalation loop texts the next member, once."""
        page_id, user_id = _page_action(body)
        if page_id is None:
            return
        page = self.life.escalate(page_id)
        tr = self.reader(user_id)
        if page is None:
            respond(
                response_type="ephemeral",
                replace_original=False,
                text=tr.gettext("This page cannot be passed on: it is closed."),
            )
            return
        passed_on = tr.gettext("Passed on by %(who)s", who="<@" + str(user_id) + ">")
        self.posts.thread(page, message(passed_on, [section("⏭️ " + passed_on)]))
        self.escalations.run_escalations()


def _page_action(body: dict[str, Any]) -> tuple[int | None, str | None]:
    """The page id a page button carries, and who pressed it."""
    action = (body.get("actions") or [{}])[0]
    user_id = (body.get("user") or {}).get("id")
    try:
        return int(action.get("value") or ""), user_id
    except ValueError:
        return None, user_id
