"""The App Home: ``app_home_opened``, and its buttons (*Send an SMS*, *Cover*, *Hand back*).

The event only asks the :class:`~bot.slack.home_publisher.HomePublisher` for a publish;
reading the audit trail and calling ``views.publish`` happen on its worker thread.
*Acknowledge* in the Home is the page post's own button (``ids.ACK_PAGE``).

*Page on-call*'s form, once submitted, is stored before its ack
(:mod:`bot.slack.listeners.stored_runs`) and a sender pages, as for ``/sms page``: a
restart right after the ack loses nothing. No Bolt lazy listener: the ack hands what
is left to the listener pool (a copy, ``inline`` mode); a stored page leaves nothing.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime
from functools import partial
from typing import Any, cast

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.domain import Actor, Source
from bot.errors import InputError, PolicyError
from bot.paging.open_pages import open_pages
from bot.sending.home_facts import admin_facts, user_sends
from bot.slack import ids
from bot.slack.api import slack_error_code
from bot.slack.deps import interaction_request_id
from bot.slack.grammar import SmsCommand
from bot.slack.home_publisher import PUBLISH_INTERVAL, HomePublisher, slack_publisher
from bot.slack.listeners.form_opening import open_sms_form
from bot.slack.listeners.pages import SlackPaging
from bot.slack.listeners.stored_runs import (
    NOT_STORED,
    NOTHING_STORED,
    Work,
    hand_over,
    left_after_store,
    queue_key,
    store_action,
)
from bot.slack.modal_reader import ERROR_MAX
from bot.slack.views.blocks import truncate
from bot.slack.views.home import (
    PAGES_SHOWN,
    HomeFacts,
    MyShift,
    build_home_refusal,
    build_home_view,
    build_page_modal,
)
from bot.slack.views.modals import ModalContext

logger = logging.getLogger(__name__)

#: Seconds a ``users.info`` answer about a workspace admin is trusted.
ADMIN_CACHE_SECONDS = 600.0
#: How many sends the Home lists.
SENDS_SHOWN = 5
#: The kind a submitted *Page on-call* form is stored under.
STORED_KIND = "home-page"


class SlackHome:
    """Builds each person's Home and handles its buttons."""

    def __init__(
        self,
        paging: SlackPaging,
        client: WebClient,
        publisher_client: WebClient | None = None,
        *,
        interval: float | None = None,
    ) -> None:
        self.paging = paging
        self.posts = posts = paging.posts
        self.client = client
        self.publisher = HomePublisher(
            slack_publisher(publisher_client or client),
            self.view_for,
            interval=PUBLISH_INTERVAL if interval is None else interval,
        )
        posts.watchers.append(self.publisher.changed)
        self._admins: dict[str, tuple[bool, float]] = {}
        self._lock = threading.Lock()
        #: Who was on call for each rotation at the last look (hand-overs).
        self._on_call: dict[str, str] = {}
        self._stop = threading.Event()

    def register(self, app: App) -> None:
        app.event("app_home_opened")(self.home_opened)
        app.action(ids.HOME_SEND_FORM)(self.send_form)
        app.action(ids.HOME_COVER)(ack=self.ack_only, lazy=[self.cover])
        app.action(ids.HOME_HAND_BACK)(ack=self.ack_only, lazy=[self.hand_back])
        app.action(ids.HOME_PAGE)(self.page_form)
        app.view(ids.HOME_PAGE_MODAL)(self.page_and_hand_over)

    def ack_only(self, ack: Ack) -> None:
        ack()

    def home_opened(self, event: dict[str, Any]) -> None:
        """Only the Home tab (the Messages tab sends the same event)."""
        user_id = event.get("user")
        if event.get("tab", "home") == "home" and user_id:
            self.publisher.opened(str(user_id))

    def check_handovers(self) -> list[str]:
        """Republish the Homes of each rotation whose member on call changed since the
        last look (a hand-over by the schedule); the rotations that changed."""
        now = self.posts.pager.now()
        changed = []
        for summary in self.posts.deps.directory.current().oncall_summary(now):
            name, member = summary.rotation.name, summary.now.member
            before = self._on_call.get(name)
            self._on_call[name] = member
            if before is not None and before != member:
                changed.append(name)
                self.posts.rotation_changed(name)
        return changed

    def start_handover_watch(self, seconds: float) -> threading.Thread:
        """Look for hand-overs every ``seconds`` on a thread, until :meth:`stop`."""

        def watch() -> None:
            while not self._stop.wait(seconds):
                try:
                    self.check_handovers()
                except Exception:  # a Home is never worth stopping the watch for
                    logger.exception("hand-over watch failed")

        self.check_handovers()
        thread = threading.Thread(
            target=watch, name="sms-bot-home-handovers", daemon=True
        )
        thread.start()
        return thread

    def stop(self) -> None:
        self._stop.set()
        self.publisher.stop()

    # --- buttons -----------------------------------------------------------------------

    def send_form(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        """Open the send form in the ack: its ``trigger_id`` lasts 3 seconds."""
        ack()
        user_id = (body.get("user") or {}).get("id")
        problem = open_sms_form(
            client,
            self.posts.deps,
            trigger_id=body.get("trigger_id"),
            context=ModalContext(user_id=user_id),
        )
        if problem is not None:
            logger.warning("the Home's send form did not open for %s", user_id)

    def page_form(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        """Open the small page form in the ack (its ``trigger_id`` lasts 3 seconds)."""
        ack()
        user_id = (body.get("user") or {}).get("id")
        tr = self.posts.deps.languages.translator_for(user_id)
        rotations = list(self.posts.deps.directory.current().rotations)
        try:
            client.views_open(
                trigger_id=body.get("trigger_id"), view=build_page_modal(rotations, tr)
            )
        except SlackApiError as error:
            logger.warning(
                "the Home's page form did not open: %s", slack_error_code(error)
            )

    def page_and_hand_over(self, ack: Ack, body: dict[str, Any]) -> None:
        """Bolt's listener for the page form: :meth:`ack_page`, then what is left runs
        on the listener pool."""
        hand_over(self.posts.deps, self.ack_page(ack, body), "the Home's page form")

    def ack_page(self, ack: Ack, body: dict[str, Any]) -> Work | None:
        """Store the page for the sender, then close the form; when it cannot be
        stored, the form stays open saying nothing was sent. What is left after the
        answer: None when a sender pages (or nothing may be paged)."""
        view = body.get("view") or {}
        team_id = (body.get("team") or {}).get("id")
        user_id = (body.get("user") or {}).get("id")
        # The page's own request id (one submission, one page): see _page_submitted.
        request_id = interaction_request_id("page", team_id, view.get("id"))
        payload = {
            "team": {"id": team_id},
            "user": {"id": user_id},
            "view": {"id": view.get("id"), "state": view.get("state") or {}},
        }
        key = queue_key(STORED_KIND, request_id)
        row = store_action(self.posts.deps, STORED_KIND, key, payload)
        if row == NOTHING_STORED:
            tr = self.posts.deps.languages.without_lookup(user_id)
            text = truncate(tr.gettext(NOT_STORED), ERROR_MAX)
            ack(response_action="errors", errors={ids.HOME_PAGE_TEXT_BLOCK: text})
            return None
        ack()
        # Not stored (a copy, or no queue): paged here, as a sender would.
        run_here = partial(self._page_submitted, body)
        return left_after_store(self.posts.deps, row, run_here)

    def run_stored(self, kind: str, body: dict[str, Any]) -> None:
        """Run a page form its ack stored (called by the sender)."""
        self._page_submitted(body)

    def _page_submitted(self, body: dict[str, Any]) -> None:
        """The same page as ``/sms page ROTATION TEXT`` typed in the chosen channel."""
        values = (body.get("view") or {}).get("state", {}).get("values", {})
        rotation = _value(
            values, ids.HOME_PAGE_ROTATION_BLOCK, ids.HOME_PAGE_ROTATION_SELECT
        )
        text = _value(values, ids.HOME_PAGE_TEXT_BLOCK, ids.HOME_PAGE_TEXT_INPUT)
        channel = _value(
            values, ids.HOME_PAGE_CHANNEL_BLOCK, ids.HOME_PAGE_CHANNEL_SELECT
        )
        user_id = str((body.get("user") or {}).get("id") or "")
        command = {
            "team_id": (body.get("team") or {}).get("id"),
            "user_id": user_id,
            "channel_id": channel,
            # One submission, one page: a retried delivery gives the same request id.
            "trigger_id": (body.get("view") or {}).get("id"),
        }

        def respond(**answer: Any) -> None:
            """A refusal: only its author sees it, in the chosen channel."""
            try:
                self.client.chat_postEphemeral(
                    channel=channel,
                    user=user_id,
                    text=answer.get("text") or "",
                    blocks=answer.get("blocks"),
                )
            except SlackApiError as error:
                logger.warning(
                    "a Home page refusal was not shown: %s", slack_error_code(error)
                )

        parsed = SmsCommand("page", recipients=(rotation,), text=text)
        # Only ``respond(**answer)`` is used by page_command: an ephemeral refusal.
        self.paging.page_command(parsed, command, cast(Respond, respond))

    def cover(self, body: dict[str, Any]) -> None:
        """Cover the rotation until its current shift's hand-over (``oncall set``)."""
        user_id, rotation = _who_and_value(body)
        directory = self.posts.deps.directory.current()
        found = directory.rotations.get(rotation)
        if found is None:
            return
        handover = found.shift(self.posts.pager.now()).ends_at
        self._override(body, user_id, "set", rotation, until=handover)

    def hand_back(self, body: dict[str, Any]) -> None:
        """End the override the person holds on the rotation (``oncall clear``)."""
        user_id, rotation = _who_and_value(body)
        me = self.posts.deps.directory.current().person_by_slack_id(user_id)
        overrides = self.posts.pager.overrides
        covering = overrides.covering(rotation, self.posts.pager.now())
        if me is None or covering != me.name:
            self.publisher.request([user_id])  # the Home was stale: redraw it
            return
        self._override(body, user_id, "clear", rotation)

    def _override(
        self,
        body: dict[str, Any],
        user_id: str,
        verb: str,
        rotation: str,
        until: datetime | None = None,
    ) -> None:
        overrides = self.posts.pager.overrides
        actor = Actor(
            source=Source.PAGE,
            slack_team_id=(body.get("team") or {}).get("id"),
            slack_user_id=user_id,
        )
        try:
            request = overrides.request(
                self.posts.deps.directory.current(),
                verb=verb,
                rotation=rotation,
                person=f"<@{user_id}>",
                until=until,
            )
            overrides.apply(request, actor)
        except (InputError, PolicyError) as refusal:
            self._tell(body, user_id, refusal)
            return
        self.posts.rotation_changed(rotation)
        self.publisher.request([user_id])

    def _tell(
        self, body: dict[str, Any], user_id: str, refusal: InputError | PolicyError
    ) -> None:
        """A refusal in a small window (the Home has no thread to answer in)."""
        tr = self.posts.deps.languages.translator_for(user_id)
        view = build_home_refusal(refusal.message, tr)
        try:
            self.client.views_open(trigger_id=body.get("trigger_id"), view=view)
        except SlackApiError as error:
            logger.warning(
                "the Home's refusal did not open: %s", slack_error_code(error)
            )

    # --- the view ----------------------------------------------------------------------

    def view_for(self, user_id: str) -> dict[str, Any]:
        """Read everything ``user_id``'s Home shows (on the publisher's worker)."""
        return build_home_view(
            self.facts_for(user_id),
            self.posts.deps.languages.translator_for(user_id),
        )

    def facts_for(self, user_id: str) -> HomeFacts:
        deps, pager = self.posts.deps, self.posts.pager
        directory = deps.directory.current()
        now = pager.now()
        overrides = pager.overrides.active(now)
        summaries = directory.oncall_summary(now)
        me = directory.person_by_slack_id(user_id)
        shifts: list[MyShift] = []
        coverable: list[str] = []
        for summary in summaries:
            if me is None:
                break
            name = summary.rotation.name
            cover = overrides.get(name)
            if cover is not None and cover.person == me.name:
                shifts.append(MyShift(name, cover.ends_at, covering=True))
            elif cover is None and summary.now.member == me.name:
                shifts.append(MyShift(name, summary.handover, covering=False))
            elif me.name in summary.rotation.members:
                coverable.append(name)
        store = deps.service.store
        pages, total = open_pages(store, pager.pages, limit=PAGES_SHOWN)
        admin = admin_facts(store, now=now) if self.is_admin(user_id) else None
        return HomeFacts(
            user_id=user_id,
            shifts=shifts,
            coverable=coverable,
            summaries=summaries,
            overrides=overrides,
            pages=pages,
            pages_total=total,
            alert_sources={
                page.id: alert.integration
                for page in pages
                if (alert := self.posts.alerts.detail(page.id)) is not None
            },
            sends=user_sends(store, user_id, limit=SENDS_SHOWN),
            admin=admin,
            daily_budget=deps.settings.sms.daily_budget,
        )

    def is_admin(self, user_id: str) -> bool:
        """In ``SMS_ADMINS``, or a workspace admin or owner (``users.info``, cached)."""
        if user_id in self.posts.deps.settings.sms.admins:
            return True
        now = time.monotonic()
        with self._lock:
            known = self._admins.get(user_id)
        if known is not None and now - known[1] < ADMIN_CACHE_SECONDS:
            return known[0]
        try:
            user = self.client.users_info(user=user_id).get("user") or {}
        except SlackApiError as error:
            logger.warning("users.info failed: %s", slack_error_code(error))
            return False  # not shown rather than shown to the wrong person
        admin = bool(user.get("is_admin") or user.get("is_owner"))
        with self._lock:
            self._admins[user_id] = (admin, now)
        return admin


def _value(values: dict[str, Any], block: str, action: str) -> str:
    """A submitted input's value (text, selected option or conversation)."""
    element = (values.get(block) or {}).get(action) or {}
    selected = element.get("selected_option") or {}
    return str(
        element.get("value")
        or selected.get("value")
        or element.get("selected_conversation")
        or ""
    )


def _who_and_value(body: dict[str, Any]) -> tuple[str, str]:
    action = (body.get("actions") or [{}])[0]
    return str((body.get("user") or {}).get("id") or ""), str(action.get("value") or "")
