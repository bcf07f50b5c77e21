"""Building the Bolt ``App`` and everything ``serve`` runs beside it.

``process_before_response=True``: Bolt answers Slack as soon as the listener returns
(no 10 ms ack polling), and the slow work runs on the listener pool after: a lazy
listener's, or what an ack hands over itself (``SlackDeps.after_ack``: ``/sms`` and
the acks that store an action, which leave nothing when a sender runs it).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.http_retry import RetryHandler
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
)

from bot.alerts.handler import AlertHandler
from bot.audit.commands import open_command_queue
from bot.audit.optouts import OptOutList
from bot.config import Settings
from bot.directory.source import open_directory
from bot.errors import SettingsError
from bot.i18n import N_, set_default_language, translator
from bot.paging.inbound import InboundProcessor
from bot.paging.life import PageLife
from bot.runtime import metrics
from bot.runtime.housekeeping import Housekeeping
from bot.runtime.listener_pool import ListenerPool
from bot.runtime.metrics import MeteredPager
from bot.runtime.sender import Sender, SenderMode
from bot.runtime.wiring import build_drafts, build_service
from bot.sending.service import SmsService
from bot.slack.deps import SlackDeps
from bot.slack.listeners import register_listeners
from bot.slack.listeners.alerts import SlackAlerts
from bot.slack.listeners.escalations import SlackEscalations
from bot.slack.listeners.home import SlackHome
from bot.slack.listeners.page_posts import PagePosts
from bot.slack.listeners.pages import SlackPaging
from bot.slack.listeners.receipts import SlackReceipts
from bot.slack.locales import ReaderLanguages
from bot.slack.people import ProfilePhones, UsergroupMembers
from bot.slack.posting import ResultPoster
from bot.slack.recipients import SlackRecipients
from bot.slack.update_queue import UpdateQueue, slack_sender

logger = logging.getLogger(__name__)

SLACK_TIMEOUT_SECONDS = 10
#: Listener work (sends) that may run at once; see BENCHMARKS.md (burst of pages).
LISTENER_THREADS = 32
#: Seconds between two ``chat.update`` of one post (tier 3: about 50 a minute).
UPDATE_INTERVAL_SECONDS = 3.0
#: Seconds between two looks for rotation hand-overs (the App Homes show who is on call).
HANDOVER_CHECK_SECONDS = 30.0

#: How Slack reaches the app: ``http`` (``POST /slack/events``, every request signed)
#: or ``socket`` (a Socket Mode connection the app opened with ``SLACK_APP_TOKEN``);
#: ``none`` for ``sms-bot sender``, which runs stored commands and serves nothing.
Transport = Literal["http", "socket", "none"]


def build_slack_client(
    settings: Settings, *, retry_rate_limits: bool = True
) -> WebClient:
    """The Web API client, pointed at ``SLACK_API_URL`` (tests use a local fake).

    ``retry_rate_limits=False`` leaves 429s to the caller (the update queue waits
    for ``Retry-After`` itself instead of sleeping inside the call).
    """
    token = settings.slack.bot_token
    if token is None:
        raise SettingsError(
            [
                N_(
                    "%(variable)s: missing; set it in the environment or in .env",
                    variable="SLACK_BOT_TOKEN",
                )
            ]
        )
    retries: list[RetryHandler] = [ConnectionErrorRetryHandler(max_retry_count=1)]
    if retry_rate_limits:
        retries.append(RateLimitErrorRetryHandler(max_retry_count=1))
    return WebClient(
        token=token.get_secret_value(),
        base_url=settings.slack.api_url,
        timeout=SLACK_TIMEOUT_SECONDS,
        retry_handlers=retries,
        logger=logging.getLogger("bot.slack.web"),
    )


@dataclass(frozen=True)
class Stack:
    """What ``serve`` runs: the Bolt app, its service, paging and callback handling."""

    app: App
    service: SmsService
    paging: SlackPaging
    escalations: SlackEscalations
    receipts: SlackReceipts
    inbound: InboundProcessor
    announce: Callable[[str], None]
    #: Runs the lazy listeners and what acks left (the sends); shut it down to wait for
    #: sends in flight.
    executor: ListenerPool
    #: Coalesced post updates; its worker runs once :meth:`start_workers` is called.
    updates: UpdateQueue
    #: The daily purge, when ``SMS_AUDIT_RETENTION_DAYS`` is set.
    housekeeping: Housekeeping | None = None
    #: Each reader's language; its locales are read once when the workers start.
    languages: ReaderLanguages | None = None
    #: The App Home; its publisher's worker starts with the first publish.
    home: SlackHome | None = None
    #: What a stored alert event does (``/hooks``); its worker runs in the web app.
    alerts: AlertHandler | None = None
    #: Stores ``/sms`` sends and pages in the ack; runs them where ``SMS_SENDER`` says.
    sender: Sender | None = None

    def start_workers(self, *, escalation_check_seconds: float) -> None:
        """The threads ``serve`` runs beside the app: updates, escalations, purge,
        and reading everyone's Slack locale (so acks answer in it from the start)."""
        if self.languages is not None:
            self.languages.start_warming()
        self.updates.start()
        self.escalations.start_escalation_loop(escalation_check_seconds)
        if self.home is not None:
            self.home.start_handover_watch(HANDOVER_CHECK_SECONDS)
        if self.housekeeping is not None:
            self.housekeeping.start()
        if self.sender is not None and self.sender.mode == "inline":
            # Takes the commands a crash left stored (fresh ones run on the listener pool).
            self.sender.start()

    def stop_workers(self) -> None:
        if self.sender is not None and self.sender.mode == "inline":
            self.sender.stop()
        self.escalations.stop()
        if self.housekeeping is not None:
            self.housekeeping.stop()
        self.updates.stop()
        if self.home is not None:
            self.home.stop()


def build_stack(
    settings: Settings,
    *,
    transport: Transport = "http",
    token_verification_enabled: bool = True,
    sender_mode: SenderMode | None = None,
) -> Stack:
    """Every long-lived object of ``serve``, sharing one Slack client.

    ``transport`` is how the caller serves the app, never guessed from the settings:
    over HTTP every request's signature is checked, even with ``SLACK_APP_TOKEN`` set
    (a token left in ``.env`` must not open ``/slack/events`` to unsigned requests).
    The default is HTTP, so a caller that does not say gets the check.

    Raises ``SettingsError`` for missing Slack settings (``SLACK_SIGNING_SECRET`` over
    HTTP) or a bad ``SMS_DIRECTORY`` (one line per problem, with its line in the file).
    ``sender_mode`` overrides ``SMS_SENDER`` (``sms-bot sender`` runs every command).
    """
    check_transport(settings, transport)
    client = build_slack_client(settings)
    groups = UsergroupMembers(client)
    languages = ReaderLanguages(client, default=settings.sms.language)
    # One cached users.info call gives a person's language and time zone.
    phones = ProfilePhones(client, time_zones=languages.time_zone_of)
    admin_channel = settings.sms.admin_channel

    def announce(text: str) -> None:
        if admin_channel:
            # A channel post: the workspace's language (a marked text is translated).
            client.chat_postMessage(
                channel=admin_channel, text=translator().gettext(text)
            )
        else:
            logger.warning(
                "notice (set SMS_ADMIN_CHANNEL to get it in Slack): %s", text
            )

    directory = open_directory(settings, announce=announce)
    service = build_service(settings, usergroups_of=groups.groups_of, announce=announce)
    sender = Sender(
        open_command_queue(
            service.store,
            lease=timedelta(seconds=settings.sms.sender_lease_seconds),
        ),
        mode=sender_mode or settings.sms.sender,
    )
    recipients = SlackRecipients(
        directory=directory,
        phones=phones,
        groups=groups,
        opted_out=OptOutList(service.store).among,
    )
    updates = UpdateQueue(
        slack_sender(build_slack_client(settings, retry_rate_limits=False)),
        interval=UPDATE_INTERVAL_SECONDS,
    )
    # Posts built without an explicit translator (receipt updates, paging) are read
    # by the whole channel: SMS_LANGUAGE.
    set_default_language(settings.sms.language)
    # Bolt's default of 5 threads lets a burst of pages queue behind a slow gateway.
    executor = ListenerPool(LISTENER_THREADS, thread_name_prefix="sms-bot-lazy")
    deps = SlackDeps(
        service=service,
        settings=settings,
        phones=phones,
        poster=ResultPoster(
            client, service.remember_post, reader=languages.translator_for
        ),
        resolve=recipients.resolve,
        is_name=recipients.is_name,
        directory=directory,
        updates=updates,
        languages=languages,
        unreachable=recipients.unreachable,
        drafts=build_drafts(service.store),
        commands=sender,
        after_ack=executor.submit,
    )
    service.observers.append(metrics.outcome_observer(service.store))
    service.refusal_observers.append(metrics.record_refusal)
    pager = MeteredPager(
        service=service,
        directory=directory,
        store=service.store,
        allowed_users=settings.sms.allowed_users,
        language=settings.sms.language,
    )
    posts = PagePosts(deps, pager)
    escalations = SlackEscalations(posts)
    receipts = SlackReceipts(posts, escalations)
    service.post_observers.append(receipts.post_remembered)
    life = PageLife(pager, service.store, resolved_sms=settings.sms.resolved_sms)
    paging = SlackPaging(posts, escalations, life)
    home = SlackHome(
        paging, client, build_slack_client(settings, retry_rate_limits=False)
    )
    app = _bolt_app(
        settings,
        client,
        transport=transport,
        executor=executor,
        token_verification_enabled=token_verification_enabled,
    )
    sender.bind(register_listeners(app, deps, paging, home).run)
    inbound = InboundProcessor(
        store=service.store,
        directory=directory,
        listener=receipts,
        pager=pager,
        ack_words=settings.sms.ack_words,
        resolve=deps.resolve,
        life=life,
    )
    alerts = AlertHandler(
        store=service.store,
        directory=directory,
        life=life,
        listener=SlackAlerts(posts, escalations),
        resolve=deps.resolve,
        repage_after=settings.sms.repage_after,
    )
    days = settings.sms.audit_retention_days
    housekeeping = (
        Housekeeping(service.store, retention_days=days, announce=announce)
        if days is not None
        else None
    )
    return Stack(
        app,
        service,
        paging,
        escalations,
        receipts,
        inbound,
        announce,
        executor,
        updates,
        housekeeping,
        languages,
        home,
        alerts,
        sender,
    )


def check_transport(settings: Settings, transport: Transport) -> None:
    """Raise ``SettingsError`` when ``transport`` lacks its credential: HTTP verifies
    every request with ``SLACK_SIGNING_SECRET``, Socket Mode connects with
    ``SLACK_APP_TOKEN``. Checked before anything is built (no client, no store)."""
    if transport == "http" and settings.slack.signing_secret is None:
        raise SettingsError(
            [
                N_(
                    "%(variable)s: missing (HTTP mode verifies every request with it)",
                    variable="SLACK_SIGNING_SECRET",
                )
            ]
        )
    if transport == "socket" and settings.slack.app_token is None:
        raise SettingsError(
            [
                N_(
                    "%(variable)s: missing; set it in the environment or in .env",
                    variable="SLACK_APP_TOKEN",
                )
            ]
        )


def _bolt_app(
    settings: Settings,
    client: WebClient,
    *,
    transport: Transport,
    executor: ThreadPoolExecutor,
    token_verification_enabled: bool,
) -> App:
    """Over HTTP, Bolt's signature check is on with our secret; over Socket Mode Slack
    signs nothing (the connection itself is authenticated), so the check is off."""
    check_transport(settings, transport)
    secret = settings.slack.signing_secret
    over_http = transport == "http"
    bolt_logger = logging.getLogger("bot.slack.bolt")
    bolt_logger.addFilter(_drop_token_skipped_warning)
    return App(
        name="sms-bot",
        client=client,
        # Never None over HTTP (checked above): Bolt would read the environment.
        signing_secret=secret.get_secret_value() if secret else "",
        request_verification_enabled=over_http,
        process_before_response=True,
        token_verification_enabled=token_verification_enabled,
        logger=bolt_logger,
        listener_executor=executor,
    )


def _drop_token_skipped_warning(record: logging.LogRecord) -> bool:
    """Bolt reads SLACK_BOT_TOKEN from the environment itself and then warns that our
    client (which carries that same token) wins; the warning only confuses operators."""
    return not str(record.msg).startswith("As you gave `client` as well")
