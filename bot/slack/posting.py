"""Posting a result where people will see it, whatever the bot's channel membership.

Order of attempts: ``chat.postMessage`` (works in public channels without an invite,
thanks to ``chat:write.public``), then the interaction's ``response_url`` in the
channel (works in private channels and DMs), then a private note to the sender
(``response_url`` ephemeral, ``chat.postEphemeral``, then a DM). Any failure of a step
(a Slack error, a timeout, a dropped connection) moves on to the next: once an SMS went
out, nothing here raises, and the last resort is logged with the audit id.

:meth:`ResultPoster.after_send` wraps whatever a listener does after the send: if it
fails, the person is still told that the SMS went out (ticket, audit #) and what failed.

A private note goes to one person, so it is in that person's language (``reader``,
their Slack locale); the channel post it carries stays in the workspace's language.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from bot.domain import SendOutcome
from bot.i18n import N_, Translator, translator
from bot.slack.api import slack_error_code

logger = logging.getLogger(__name__)

#: ``remember(audit_id, channel=..., ts=...)``: where an attempt's result was posted.
RememberPost = Callable[..., None]
#: The translator of one person's private notes (their Slack locale), by user id.
ReaderTranslator = Callable[[str | None], Translator]


def _workspace_reader(_user_id: str | None) -> Translator:
    return translator()


@dataclass(frozen=True)
class Posted:
    """Where a post went; ``channel`` and ``ts`` only for a channel post."""

    where: str
    channel: str | None = None
    ts: str | None = None


def _problem(error: Exception) -> str:
    """A Slack error code, or the kind of failure (``TimeoutError``, ``URLError``)."""
    if isinstance(error, SlackApiError):
        return slack_error_code(error)
    return type(error).__name__


def _sent_note(outcome: SendOutcome, failed: str) -> str:
    """What the send did and what failed after it, still translatable."""
    if outcome.ok:
        return N_(
            "✅ The SMS went out (ticket `%(ticket)s`, audit #%(audit_id)s), but "
            "%(failed)s. Do not send it again without checking.",
            ticket=outcome.sms_ticket or N_("unknown"),
            audit_id=outcome.audit_id,
            failed=failed,
        )
    if outcome.maybe_sent:
        return N_(
            "⚠️ The SMS may have gone out (see the Octopush dashboard, audit "
            "#%(audit_id)s), but %(failed)s. Do not send it again without checking.",
            audit_id=outcome.audit_id,
            failed=failed,
        )
    return N_(
        "❌ The SMS was not sent (%(reason)s, audit #%(audit_id)s), but "
        "%(failed)s. Do not send it again without checking.",
        reason=outcome.error_message or N_("failed"),
        audit_id=outcome.audit_id,
        failed=failed,
    )


class ResultPoster:
    """Posts channel messages and has the send path remember their ``ts``."""

    def __init__(
        self,
        client: WebClient,
        remember: RememberPost,
        *,
        reader: ReaderTranslator = _workspace_reader,
    ) -> None:
        self._client = client
        self._remember = remember
        #: Without it, private notes use the workspace's language (``SMS_LANGUAGE``).
        self._reader = reader

    def post(
        self,
        message: dict[str, Any],
        *,
        channel_id: str | None,
        user_id: str | None,
        response_url: str | None = None,
        audit_id: int | None = None,
    ) -> Posted:
        """Post ``message``; say where it went (``channel``, ``response_url``,
        ``private`` or ``lost``) and, for a channel post, its channel and ``ts``."""
        problem: str = N_("no channel")
        if channel_id:
            try:
                response = self._client.chat_postMessage(
                    channel=channel_id, unfurl_links=False, **message
                )
                posted = Posted(
                    "channel", str(response["channel"]), str(response["ts"])
                )
            except Exception as error:  # Slack error, timeout, dropped connection
                problem = _problem(error)
                logger.info(
                    "chat.postMessage to %s failed (%s); trying the response_url",
                    channel_id,
                    problem,
                )
            else:
                if audit_id is not None:
                    self._remember_post(audit_id, posted)
                return posted
        if response_url and self._respond(
            response_url, {**message, "response_type": "in_channel"}
        ):
            return Posted("response_url")
        note = {
            **message,
            "text": self._reader(user_id).gettext(
                "I could not post this in the channel (%(problem)s); "
                "here it is for you. %(text)s",
                problem=problem,
                text=message.get("text", ""),
            ),
        }
        if response_url and self._respond(
            response_url, {**note, "response_type": "ephemeral"}
        ):
            return Posted("private")
        if user_id and self.tell_user(user_id, note, channel_id=channel_id):
            return Posted("private")
        logger.error(
            "result of audit #%s could not be posted anywhere (%s)", audit_id, problem
        )
        return Posted("lost")

    @contextmanager
    def after_send(
        self,
        outcome: SendOutcome,
        *,
        user_id: str | None,
        channel_id: str | None,
        response_url: str | None = None,
        what: str = N_("posting the result"),
    ) -> Iterator[None]:
        """Run the steps after a send; if one fails, tell the person what went out.

        ``what`` names the steps for that person: mark it with ``N_`` to translate it.

        The exception is logged and not raised: the SMS is out, so the caller's
        catch-all ("nothing more was done") would be untrue.
        """
        try:
            yield
        except Exception as error:
            logger.exception("after the send of audit #%s", outcome.audit_id)
            self.tell_sent(
                outcome,
                N_("%(what)s failed (%(problem)s)", what=what, problem=_problem(error)),
                user_id=user_id,
                channel_id=channel_id,
                response_url=response_url,
            )

    def tell_sent(
        self,
        outcome: SendOutcome,
        failed: str,
        *,
        user_id: str | None,
        channel_id: str | None,
        response_url: str | None = None,
    ) -> bool:
        """A private note: what the send did (ticket, audit #) and what failed after it.

        ``failed`` is English (or marked with ``N_``): the note is in the person's
        language, the log line in English.
        """
        said = _sent_note(outcome, failed)
        text = self._reader(user_id).gettext(said)
        note: dict[str, Any] = {"text": text}
        if response_url and self._respond(
            response_url, {**note, "response_type": "ephemeral"}
        ):
            return True
        if user_id and self.tell_user(user_id, note, channel_id=channel_id):
            return True
        logger.error("audit #%s: %s (nobody could be told)", outcome.audit_id, said)
        return False

    def update(self, message: dict[str, Any], *, channel: str, ts: str) -> bool:
        """Replace a post in place (delivery receipts, acknowledgements)."""
        try:
            self._client.chat_update(channel=channel, ts=ts, **message)
        except Exception as error:
            logger.warning("chat.update of %s failed: %s", ts, _problem(error))
            return False
        return True

    def thread(self, message: dict[str, Any], *, channel: str, ts: str) -> bool:
        """Post under a message (replies, escalations)."""
        try:
            self._client.chat_postMessage(
                channel=channel, thread_ts=ts, unfurl_links=False, **message
            )
        except Exception as error:
            logger.warning("thread reply under %s failed: %s", ts, _problem(error))
            return False
        return True

    def tell_user(
        self, user_id: str, message: dict[str, Any], *, channel_id: str | None = None
    ) -> bool:
        """An ephemeral note in the channel, else a DM from the app; False if both fail."""
        if channel_id:
            try:
                self._client.chat_postEphemeral(
                    channel=channel_id, user=user_id, **message
                )
                return True
            except Exception as error:
                logger.info(
                    "chat.postEphemeral failed (%s); sending a DM", _problem(error)
                )
        try:
            self._client.chat_postMessage(
                channel=user_id, unfurl_links=False, **message
            )
            return True
        except Exception as error:
            logger.warning("could not DM %s: %s", user_id, _problem(error))
            return False

    def _remember_post(self, audit_id: int, posted: Posted) -> None:
        """Store where the result is, so receipts can update it; a failure only costs that."""
        try:
            self._remember(audit_id, channel=posted.channel, ts=posted.ts)
        except Exception:
            logger.exception(
                "could not remember the post of audit #%s: receipts will not update it",
                audit_id,
            )

    def _respond(self, response_url: str, payload: dict[str, Any]) -> bool:
        try:
            response = WebhookClient(response_url, timeout=10).send_dict(payload)
        except Exception as error:  # network errors from urllib; the caller falls back
            logger.warning("response_url post failed: %s", type(error).__name__)
            return False
        if response.status_code != 200:
            logger.warning("response_url answered %s", response.status_code)
            return False
        return True
