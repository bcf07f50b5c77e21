"""Posting a result where people will see it, whatever the bot's channel membership.

Order of attempts: ``chat.postMessage`` (works in public channels without an invite,
thanks to ``chat:write.public``), then the interaction's ``response_url`` in the
channel (works in private channels and DMs), then a private note to the sender.
A result is never dropped silently: the last resort is logged with the audit id.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from bot.audit import AuditStore
from bot.slack.api import slack_error_code

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Posted:
    """Where a post went; ``channel`` and ``ts`` only for a channel post."""

    where: str
    channel: str | None = None
    ts: str | None = None


class ResultPoster:
    """Posts channel messages and remembers their ``ts`` in the audit record."""

    def __init__(self, client: WebClient, store: AuditStore) -> None:
        self._client = client
        self._store = store

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
        problem = "no channel"
        if channel_id:
            try:
                response = self._client.chat_postMessage(
                    channel=channel_id, unfurl_links=False, **message
                )
            except SlackApiError as error:
                problem = slack_error_code(error)
                logger.info(
                    "chat.postMessage to %s failed (%s); trying the response_url",
                    channel_id,
                    problem,
                )
            else:
                if audit_id is not None and response.get("ts"):
                    self._store.set_slack_message(
                        audit_id,
                        channel=str(response["channel"]),
                        ts=str(response["ts"]),
                    )
                return Posted("channel", str(response["channel"]), str(response["ts"]))
        if response_url and self._respond(
            response_url, {**message, "response_type": "in_channel"}
        ):
            return Posted("response_url")
        note = {
            **message,
            "text": f"I could not post this in the channel ({problem}); "
            f"here it is for you. {message.get('text', '')}",
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

    def update(self, message: dict[str, Any], *, channel: str, ts: str) -> bool:
        """Replace a post in place (delivery receipts, acknowledgements)."""
        try:
            self._client.chat_update(channel=channel, ts=ts, **message)
        except SlackApiError as error:
            logger.warning("chat.update of %s failed: %s", ts, slack_error_code(error))
            return False
        return True

    def thread(self, message: dict[str, Any], *, channel: str, ts: str) -> bool:
        """Post under a message (replies, escalations)."""
        try:
            self._client.chat_postMessage(
                channel=channel, thread_ts=ts, unfurl_links=False, **message
            )
        except SlackApiError as error:
            logger.warning(
                "thread reply under %s failed: %s", ts, slack_error_code(error)
            )
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
            except SlackApiError as error:
                logger.info(
                    "chat.postEphemeral failed (%s); sending a DM",
                    slack_error_code(error),
                )
        try:
            self._client.chat_postMessage(
                channel=user_id, unfurl_links=False, **message
            )
            return True
        except SlackApiError as error:
            logger.warning("could not DM %s: %s", user_id, slack_error_code(error))
            return False

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
