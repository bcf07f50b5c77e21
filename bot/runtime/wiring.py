"""The composition root: turns settings into clients, the audit store and the service.

Entry points (CLI, ``serve``, gunicorn) call these once; nothing here runs at import.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.audit import AuditStore
from bot.audit.drafts import DraftStore
from bot.config import Settings
from bot.errors import SettingsError
from bot.i18n import N_
from bot.octopush import OctopushClient
from bot.sending.credit import LowCreditWatch
from bot.sending.guard import Guard, UsergroupLookup, policy_from
from bot.sending.rules import SendDefaults
from bot.sending.service import OutcomeObserver, SmsService

OCTOPUSH_REQUIRED = ("OCTOPUSH_API_LOGIN", "OCTOPUSH_API_KEY")


def build_octopush(settings: Settings) -> OctopushClient:
    """The Octopush client for these settings (``load_settings`` checked the credentials)."""
    login, key = settings.octopush.api_login, settings.octopush.api_key
    if login is None or key is None:
        raise SettingsError(
            [
                N_(
                    "%(variable)s: missing; set it in the environment or in .env",
                    variable=name,
                )
                for name in OCTOPUSH_REQUIRED
            ]
        )
    return OctopushClient(
        api_login=login,
        api_key=key.get_secret_value(),
        base_url=settings.octopush.base_url,
    )


def build_store(settings: Settings) -> AuditStore:
    """The audit store at ``DATABASE_URL``, its schema created or migrated."""
    return AuditStore.from_url(
        settings.database_url, redact_text=settings.sms.audit_redact_text
    )


def build_drafts(store: AuditStore) -> DraftStore:
    """Where the send form keeps a draft too large for Slack's view metadata."""
    return DraftStore(store)


def send_defaults(settings: Settings) -> SendDefaults:
    return SendDefaults(
        region=settings.sms.default_region,
        sender=settings.sms.default_sender,
        sms_type=settings.sms.default_type,
        purpose=settings.sms.default_purpose,
        language=settings.sms.language,
    )


def build_service(
    settings: Settings,
    *,
    store: AuditStore | None = None,
    usergroups_of: UsergroupLookup | None = None,
    announce: Callable[[str], None] | None = None,
) -> SmsService:
    """The send service wired to Octopush, the audit store and the admin's policy.

    ``usergroups_of`` answers ``SMS_ALLOWED_USERGROUPS`` checks (Slack); ``announce``
    posts operational notices such as low credit (to ``SMS_ADMIN_CHANNEL``).
    """
    store = store or build_store(settings)
    observers: list[OutcomeObserver] = []
    if settings.sms.low_credit is not None and announce is not None:
        observers.append(
            LowCreditWatch(
                store=store,
                threshold=settings.sms.low_credit,
                announce=announce,
                language=settings.sms.language,
            )
        )
    return SmsService(
        octopush=build_octopush(settings),
        store=store,
        defaults=send_defaults(settings),
        force_simulation=settings.octopush.simulation,
        policy=Guard(
            policy=policy_from(settings), store=store, usergroups_of=usergroups_of
        ),
        observers=observers,
    )


def admin_announcer(settings: Settings) -> Callable[[str], None] | None:
    """Posts operational notices to ``SMS_ADMIN_CHANNEL`` from the CLI (None if unset)."""
    channel, token = settings.sms.admin_channel, settings.slack.bot_token
    if not channel or token is None:
        return None
    from slack_sdk import WebClient

    client = WebClient(
        token=token.get_secret_value(), base_url=settings.slack.api_url, timeout=10
    )

    def announce(text: str) -> None:
        client.chat_postMessage(channel=channel, text=text)

    return announce


def secrets_of(settings: Settings) -> list[str]:
    """Every secret value, for the log redaction filter."""
    candidates = (
        settings.octopush.api_key,
        settings.octopush.callback_token,
        settings.octopush.callback_token_previous,
        settings.slack.bot_token,
        settings.slack.signing_secret,
        settings.slack.app_token,
        settings.sms.metrics_token,
    )
    return [secret.get_secret_value() for secret in candidates if secret is not None]
