"""The escalation loop, and how every move of a page is told in Slack.

A move is a :class:`~bot.paging.pager.PageRun`: the page started, escalated after
silence, or failed over after a refusal or a failed receipt. Its thread says who could
not be reached and why, and who is paged now; when nobody could be reached at all, the
channel and ``SMS_ADMIN_CHANNEL`` are told plainly.
"""

from __future__ import annotations

import logging
import threading

from bot.audit.pages import PageState
from bot.i18n import N_, translator
from bot.paging.pager import Pager, PageRun
from bot.slack.listeners.page_posts import PagePosts
from bot.slack.views.blocks import escape, message, section
from bot.slack.views.page_messages import page_problems_text

logger = logging.getLogger(__name__)


class SlackEscalations:
    """Runs due escalations and reports every page move in the page's thread."""

    def __init__(self, posts: PagePosts) -> None:
        self.posts = posts
        self._stop = threading.Event()

    @property
    def pager(self) -> Pager:
        return self.posts.pager

    def run_escalations(self) -> list[PageRun]:
        """One pass over due timers; posts what happened in each page's thread."""
        calls = self.pager.call_due(resolve=self.posts.deps.resolve)
        for call in calls:
            self.report_call(call)
        done = self.pager.escalate_due(resolve=self.posts.deps.resolve)
        for run in done:
            self.report(run)
        return calls + done

    def report_call(self, run: PageRun) -> None:
        """Tell the page's thread that its member on call is being called (or why not).

        In ``SMS_LANGUAGE``, like every thread note."""
        _ = translator().gettext
        for attempt in run.attempts:
            member = escape(attempt.member)
            if attempt.reached:
                text = "📞 " + _(
                    "calling *%(member)s* (%(numbers)s): the page SMS was not "
                    "acknowledged",
                    member=member,
                    numbers=self.posts.label(attempt.member),
                )
            else:
                text = "⚠️ " + _(
                    "*%(member)s* could not be called: %(why)s",
                    member=member,
                    why=escape(_(attempt.why)),
                )
            _say(self.posts, run, text)

    def report(self, run: PageRun) -> None:
        """Tell the thread (and, when nobody could be reached, everyone) about ``run``.

        In ``SMS_LANGUAGE``: a thread and a channel are read by many people.
        """
        page = run.page
        posts = self.posts
        posts.refresh(page)
        tr = translator()
        _ = tr.gettext
        lines = []
        previous = escape(run.previous or "?")
        if run.cause == "escalation" and run.attempts:
            lines.append("⏫ " + _("%(member)s did not acknowledge", member=previous))
        elif run.cause == "failover":
            lines.append(
                "⏩ "
                + _(
                    "%(member)s cannot be reached (%(reason)s)",
                    member=previous,
                    reason=escape(_(run.reason or "?")),
                )
            )
        for attempt in run.failed:
            lines.append(
                "⚠️ "
                + _(
                    "*%(member)s* could not be reached: %(why)s",
                    member=escape(attempt.member),
                    why=escape(_(attempt.why)),
                )
            )
        reached = run.reached
        if reached is not None and lines:
            paging = _(
                "paging *%(member)s* (%(numbers)s)",
                member=escape(reached.member),
                numbers=posts.label(reached.member),
            )
            if len(lines) == 1 and not run.failed:
                lines[0] = _("%(news)s: %(paging)s", news=lines[0], paging=paging)
            else:
                lines.append(f"📟 {paging}")
        if run.problems:
            lines.append(page_problems_text(run.problems, page, tr))
        if lines:
            _say(posts, run, "\n".join(lines))
        if page.state is not PageState.EXHAUSTED:
            return
        target = escape(page.target)
        if run.everyone_failed:
            who = ", ".join(escape(m) for m in page.members)
            text = "🚨 " + _(
                "The page for %(target)s reached nobody: every member (%(members)s) "
                "could not be texted.",
                target=target,
                members=who,
            )
            _say(posts, run, f"{text} <!here>")
            posts.channel(page, f"{text} <!here>")
            channel = f"<#{page.slack_channel_id}>"
            posts.admin(
                N_(
                    "The page for %(target)s in %(channel)s reached nobody: every "
                    "member (%(members)s) could not be texted.",
                    target=target,
                    channel=channel,
                    members=who,
                ),
                icon="🚨",
            )
            return
        text = "🚨 " + _("Nobody acknowledged the page for %(target)s.", target=target)
        _say(posts, run, f"{text} <!here>")
        posts.channel(page, f"{text} <!here>")

    def start_escalation_loop(self, interval: float) -> threading.Thread:
        """Check due escalations every ``interval`` seconds until :meth:`stop`."""

        def loop() -> None:
            while not self._stop.wait(interval):
                try:
                    self.run_escalations()
                except Exception:
                    logger.exception(
                        "escalation pass failed; retrying in %s s", interval
                    )

        thread = threading.Thread(target=loop, name="sms-bot-escalations", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self._stop.set()


def _say(posts: PagePosts, run: PageRun, text: str) -> None:
    posts.thread(run.page, message(text, [section(text)]))
