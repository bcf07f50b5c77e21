"""Building the Bolt ``App``: one Slack client, the service, every listener.

``process_before_response=True`` with lazy listeners: Bolt answers Slack as soon as the
ack function returns (no 10 ms ack polling), and the slow work runs on a thread after.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
)

from bot.config import Settings
from bot.errors import SettingsError
from bot.service import SmsService
from bot.slack.deps import SlackDeps
from bot.slack.listeners import register_listeners
from bot.slack.people import ProfilePhones, UsergroupMembers
from bot.slack.posting import ResultPoster
from bot.wiring import build_service

logger = logging.getLogger(__name__)

SLACK_TIMEOUT_SECONDS = 10


def build_slack_client(settings: Settings) -> WebClient:
    """The Web API client, pointed at ``SLACK_API_URL`` (tests use a local fake)."""
    token = settings.slack.bot_token
    if token is None:
        raise SettingsError(
            ["SLACK_BOT_TOKEN: missing; set it in the environment or in .env"]
        )
    return WebClient(
        token=token.get_secret_value(),
        base_url=settings.slack.api_url,
        timeout=SLACK_TIMEOUT_SECONDS,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=1),
            RateLimitErrorRetryHandler(max_retry_count=1),
        ],
        logger=logging.getLogger("bot.slack.web"),
    )


@dataclass(frozen=True)
class Stack:
    """What ``serve`` runs: the Bolt app, the service, and the admin-channel notifier."""

    app: App
    service: SmsService
    announce: Callable[[str], None]


def build_stack(settings: Settings) -> Stack:
    """The app and its service for ``serve``: one Slack client shared by both.

    The service gets Slack-backed user-group checks (``SMS_ALLOWED_USERGROUPS``) and
    posts operational notices to ``SMS_ADMIN_CHANNEL`` (logged when it is unset).
    """
    client = build_slack_client(settings)
    groups = UsergroupMembers(client)
    admin_channel = settings.sms.admin_channel

    def announce(text: str) -> None:
        if admin_channel:
            client.chat_postMessage(channel=admin_channel, text=text)
        else:
            logger.warning(
                "notice (set SMS_ADMIN_CHANNEL to get it in Slack): %s", text
            )

    service = build_service(settings, usergroups_of=groups.groups_of, announce=announce)
    return Stack(build_app(settings, service, client=client), service, announce)


def build_app(
    settings: Settings,
    service: SmsService,
    *,
    client: WebClient | None = None,
    token_verification_enabled: bool = True,
) -> App:
    """The Bolt app with every listener registered; HTTP or Socket Mode alike."""
    client = client or build_slack_client(settings)
    socket_mode = settings.slack.app_token is not None
    secret = settings.slack.signing_secret
    if not socket_mode and secret is None:
        raise SettingsError(
            ["SLACK_SIGNING_SECRET: missing (HTTP mode verifies every request with it)"]
        )
    bolt_logger = logging.getLogger("bot.slack.bolt")
    bolt_logger.addFilter(_drop_token_skipped_warning)
    app = App(
        name="sms-bot",
        client=client,
        signing_secret=secret.get_secret_value() if secret else None,
        request_verification_enabled=not socket_mode,
        process_before_response=True,
        token_verification_enabled=token_verification_enabled,
        logger=bolt_logger,
    )
    phones = ProfilePhones(client)

    def resolve(token: str) -> Sequence[str] | None:
        return phones.resolve(token)

    deps = SlackDeps(
        service=service,
        settings=settings,
        phones=phones,
        poster=ResultPoster(client, service.store),
        resolve=resolve,
        is_name=lambda _word: False,
    )
    register_listeners(app, deps)
    return app


def _drop_token_skipped_warning(record: logging.LogRecord) -> bool:
    """Bolt reads SLACK_BOT_TOKEN from the environment itself and then warns that our
    client (which carries that same token) wins; the warning only confuses operators."""
    return not str(record.msg).startswith("As you gave `client` as well")
