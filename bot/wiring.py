"""The composition root: turns settings into clients, the audit store and the service.

Entry points (CLI, ``serve``, gunicorn) call these once; nothing here runs at import.
"""

from __future__ import annotations

from bot.audit import AuditStore
from bot.config import Settings
from bot.errors import SettingsError
from bot.octopush import OctopushClient
from bot.rules import SendDefaults
from bot.service import SmsService

OCTOPUSH_REQUIRED = ("OCTOPUSH_API_LOGIN", "OCTOPUSH_API_KEY")


def build_octopush(settings: Settings) -> OctopushClient:
    """The Octopush client for these settings (``load_settings`` checked the credentials)."""
    login, key = settings.octopush.api_login, settings.octopush.api_key
    if login is None or key is None:
        raise SettingsError(
            [
                f"{name}: missing; set it in the environment or in .env"
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


def send_defaults(settings: Settings) -> SendDefaults:
    return SendDefaults(
        region=settings.sms.default_region,
        sender=settings.sms.default_sender,
        sms_type=settings.sms.default_type,
        purpose=settings.sms.default_purpose,
    )


def build_service(settings: Settings, *, store: AuditStore | None = None) -> SmsService:
    """The send service wired to Octopush and the audit store."""
    return SmsService(
        octopush=build_octopush(settings),
        store=store or build_store(settings),
        defaults=send_defaults(settings),
        force_simulation=settings.octopush.simulation,
    )


def secrets_of(settings: Settings) -> list[str]:
    """Every secret value, for the log redaction filter."""
    candidates = (
        settings.octopush.api_key,
        settings.octopush.callback_token,
        settings.slack.bot_token,
        settings.slack.signing_secret,
        settings.slack.app_token,
    )
    return [secret.get_secret_value() for secret in candidates if secret is not None]
