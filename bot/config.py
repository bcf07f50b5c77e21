"""Settings, read from the environment and ``.env``; names are those of CONTRACT.md.

Nothing is read at import: the entry point calls :func:`load_settings`, which turns
every problem into one line naming the variable (never its value) in a ``SettingsError``.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from ipaddress import IPv4Network, IPv6Network
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.domain import SENDER_PATTERN, Purpose, RateLimit, SmsType
from bot.errors import SettingsError
from bot.i18n import (
    DEFAULT_LANGUAGE,
    N_,
    Deferred,
    available_languages,
    language_from_environment,
    language_of,
)

CommaList = Annotated[tuple[str, ...], NoDecode]
Network = IPv4Network | IPv6Network
#: Comma-separated addresses or CIDR networks (``203.0.113.0/24, 2001:db8::/32``).
NetworkList = Annotated[tuple[Network, ...], NoDecode]

#: ``SMS_ALERT_REPAGE_AFTER``: a number and a unit.
_DURATION = re.compile(r"^(\d+)\s*([smhd])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _split_commas(value: Any) -> Any:
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return value


def _networks(value: Any) -> Any:
    """Parse each address or network with :mod:`ipaddress`; a bad one names itself."""
    parts = _split_commas(value)
    if not isinstance(parts, tuple):
        return parts
    networks: list[Network] = []
    for part in parts:
        if isinstance(part, IPv4Network | IPv6Network):
            networks.append(part)
            continue
        try:
            networks.append(ipaddress.ip_network(str(part), strict=False))
        except ValueError:
            raise ValueError(
                N_(
                    "%(value)s is not an address or a network such as "
                    "203.0.113.0/24 (separate several with commas)",
                    value=str(part),
                )
            ) from None
    return tuple(networks)


def _check_url(value: str) -> str:
    if not re.match(r"^https?://[^\s/]+", value):
        raise ValueError(N_("must be an http:// or https:// URL"))
    return value


def _token_kind(
    prefix: str, problem: Deferred
) -> Callable[[SecretStr | None], SecretStr | None]:
    """A check that a Slack token is of the kind its prefix names (never shows it)."""

    def check(value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith(prefix):
            raise ValueError(problem)
        return value

    return check


def _config(prefix: str) -> SettingsConfigDict:
    return SettingsConfigDict(
        env_prefix=prefix,
        env_file=".env",
        env_file_encoding="utf-8",
        env_ignore_empty=True,
        extra="ignore",
        frozen=True,
    )


class OctopushSettings(BaseSettings):
    """``OCTOPUSH_*``: the gateway account and how to reach it."""

    model_config = _config("OCTOPUSH_")

    api_login: str | None = None
    api_key: SecretStr | None = None
    base_url: str = "https://api.octopush.com/v1/public"
    simulation: bool = False
    callback_token: SecretStr | None = None
    #: ``OCTOPUSH_CALLBACK_TOKEN_PREVIOUS``: still accepted while a rotation goes round.
    callback_token_previous: SecretStr | None = None
    #: ``OCTOPUSH_CALLBACK_ALLOW``: where callbacks may come from; empty = anywhere.
    callback_allow: NetworkList = ()

    _url = field_validator("base_url")(_check_url)
    _allow = field_validator("callback_allow", mode="before")(_networks)


class SlackSettings(BaseSettings):
    """``SLACK_*``: the Slack app's credentials and Web API address."""

    model_config = _config("SLACK_")

    bot_token: SecretStr | None = None
    signing_secret: SecretStr | None = None
    app_token: SecretStr | None = None
    api_url: str = "https://slack.com/api/"

    _url = field_validator("api_url")(_check_url)

    _bot_token_kind = field_validator("bot_token")(
        _token_kind("xoxb-", N_("must be a bot token starting with xoxb-"))
    )
    _app_token_kind = field_validator("app_token")(
        _token_kind("xapp-", N_("must be an app-level token starting with xapp-"))
    )


class SmsSettings(BaseSettings):
    """``SMS_*``: defaults for a send and the admin's policy."""

    model_config = _config("SMS_")

    default_sender: str | None = None
    default_region: str = "FR"
    default_type: SmsType = SmsType.PREMIUM
    default_purpose: Purpose = Purpose.ALERT
    directory: Path | None = None

    allowed_users: CommaList = ()
    #: ``SMS_ADMINS``: user ids who see the admin part of the App Home and may
    #: cancel anyone's scheduled send.
    admins: CommaList = ()
    allowed_usergroups: CommaList = ()
    allowed_channels: CommaList = ()
    max_recipients: int = Field(default=50, ge=1)
    rate_limit: str = "30/hour"
    daily_budget: float | None = Field(default=None, ge=0)
    confirm_above: int = Field(default=20, ge=0)
    blocked_numbers: CommaList = ()
    low_credit: float | None = Field(default=None, ge=0)
    admin_channel: str | None = None
    audit_retention_days: int | None = Field(default=None, ge=1)
    audit_redact_text: bool = False
    ack_words: CommaList = ("ACK", "OK")
    #: ``SMS_LANGUAGE``: channel posts, bot-written SMS, and the CLI when no locale says.
    language: str = DEFAULT_LANGUAGE
    escalation_check_seconds: float = Field(default=5.0, gt=0)
    escalation_limit: str = "60/hour"
    timezone: str = "Europe/Paris"
    #: Bearer token of ``GET /metrics``; unset, the endpoint answers 404.
    metrics_token: SecretStr | None = None
    #: ``SMS_TRUSTED_PROXIES``: proxies whose ``X-Forwarded-For`` is believed.
    trusted_proxies: NetworkList = ()
    #: ``SMS_RESOLVED_SMS``: text ``RESOLVED`` to everyone a resolved page texted.
    resolved_sms: bool = True
    #: ``SMS_ALERT_REPAGE_AFTER``: at most one new page per alert key in this time
    #: (a flapping alert), e.g. ``5m``, ``30s``, ``1h``.
    alert_repage_after: str = "5m"
    #: ``SMS_SENDER``: who runs a stored ``/sms`` send or page: ``process`` (a sender
    #: process ``serve`` and gunicorn start), ``external`` (``sms-bot sender`` run
    #: apart) or ``inline`` (the process that acked, on its listener pool).
    sender: Literal["process", "external", "inline"] = "process"
    #: ``SMS_SENDER_LEASE_SECONDS``: how long a sender's claim on a command holds
    #: without renewal (a sender killed mid-send: its command waits this long).
    sender_lease_seconds: float = Field(default=60.0, gt=0)
    #: ``SMS_SENDER_NICE``: how much lower the sender's CPU priority is than the web
    #: process's (``nice``, 0–19): on shared cores an ack never waits behind a send.
    sender_nice: int = Field(default=10, ge=0, le=19)

    _lists = field_validator(
        "allowed_users",
        "admins",
        "allowed_usergroups",
        "allowed_channels",
        "blocked_numbers",
        "ack_words",
        mode="before",
    )(_split_commas)
    _proxies = field_validator("trusted_proxies", mode="before")(_networks)

    @field_validator("alert_repage_after")
    @classmethod
    def _repage(cls, value: str) -> str:
        if not _DURATION.match(value.strip().lower()):
            raise ValueError(N_("must be a duration such as 30s, 5m or 1h"))
        return value.strip().lower()

    @property
    def repage_after(self) -> timedelta:
        """``alert_repage_after`` as a time span."""
        found = _DURATION.match(self.alert_repage_after)
        amount, unit = (int(found[1]), found[2]) if found else (5, "m")
        return timedelta(seconds=amount * _UNIT_SECONDS[unit])

    @field_validator("default_sender")
    @classmethod
    def _sender(cls, value: str | None) -> str | None:
        if value is not None and not SENDER_PATTERN.match(value):
            raise ValueError(N_("must be 3 to 11 letters, digits or spaces"))
        return value

    @field_validator("default_type")
    @classmethod
    def _sms_route(cls, value: SmsType) -> SmsType:
        # ``voice`` is the audit type of a rotation's call, never a default for SMS.
        if value is SmsType.VOICE:
            raise ValueError(N_("must be sms_premium or sms_low_cost"))
        return value

    @field_validator("default_region")
    @classmethod
    def _region(cls, value: str) -> str:
        region = value.strip().upper()
        if region not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(
                N_("must be a two-letter region code such as FR, BE or US")
            )
        return region

    @field_validator("language")
    @classmethod
    def _language(cls, value: str) -> str:
        return _checked_language(value)

    @field_validator("rate_limit", "escalation_limit")
    @classmethod
    def _rate(cls, value: str) -> str:
        try:
            RateLimit.parse(value)
        except ValueError:
            raise ValueError(
                N_("must look like 30/hour (N/minute, N/hour or N/day)")
            ) from None
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value.strip())
        except (ZoneInfoNotFoundError, ValueError, OSError):
            raise ValueError("must be an IANA time zone such as Europe/Paris") from None
        return value.strip()

    @property
    def rate(self) -> RateLimit:
        return RateLimit.parse(self.rate_limit)

    @property
    def escalation_rate(self) -> RateLimit:
        return RateLimit.parse(self.escalation_limit)


def _checked_language(value: str) -> str:
    language = language_of(value)
    if language is None:
        raise ValueError(
            N_(
                "must be one of %(languages)s",
                languages=", ".join(available_languages()),
            )
        )
    return language


class LanguageSetting(BaseSettings):
    """``SMS_LANGUAGE`` alone, for the CLI to speak before (or without) full settings."""

    model_config = _config("SMS_")

    language: str = DEFAULT_LANGUAGE


def configured_language(env_file: str | Path | None = ".env") -> str:
    """``SMS_LANGUAGE`` from the environment or ``.env``; English when unset or unknown."""
    try:
        raw = LanguageSetting(_env_file=env_file).language
    except ValidationError:
        return DEFAULT_LANGUAGE
    return language_of(raw) or DEFAULT_LANGUAGE


def terminal_language() -> str:
    """What a person at a terminal reads: ``LC_ALL``/``LC_MESSAGES``/``LANG``, else
    ``SMS_LANGUAGE`` (the CLI, and ``serve``'s settings errors before it logs)."""
    return language_from_environment(os.environ, configured_language())


class AppSettings(BaseSettings):
    """Settings without a prefix: where the audit trail lives, which port to serve."""

    model_config = _config("")

    database_url: str = "sqlite:///sms-bot.db"
    port: int = Field(default=3000, ge=1, le=65535)


@dataclass(frozen=True)
class Settings:
    """Every setting, grouped by prefix; built once by the entry point."""

    octopush: OctopushSettings
    slack: SlackSettings
    sms: SmsSettings
    app: AppSettings

    @property
    def database_url(self) -> str:
        return self.app.database_url

    @property
    def port(self) -> int:
        return self.app.port


_SECTIONS: tuple[tuple[str, type[BaseSettings], str], ...] = (
    ("octopush", OctopushSettings, "OCTOPUSH_"),
    ("slack", SlackSettings, "SLACK_"),
    ("sms", SmsSettings, "SMS_"),
    ("app", AppSettings, ""),
)

#: What each variable that can be required is for, to make the missing line useful.
_WHY = {
    "OCTOPUSH_API_LOGIN": N_("the Octopush account e-mail"),
    "OCTOPUSH_API_KEY": N_("the Octopush API key"),
    "SLACK_BOT_TOKEN": N_("the xoxb- bot token from the Slack app's OAuth page"),
    "SLACK_SIGNING_SECRET": N_(
        "the signing secret from the app's Basic Information page"
    ),
}


def _problem_lines(error: ValidationError, prefix: str) -> list[str]:
    """One line per problem, from ``loc`` and ``msg`` only: ``input`` may hold a secret.

    Lines are English (logs); each is a :class:`Deferred`, so the CLI can show it in
    its reader's language (our own messages are msgids, pydantic's stay English).
    """
    lines: list[str] = []
    for item in error.errors(include_input=False, include_url=False):
        field = str(item["loc"][0]) if item["loc"] else "?"
        name = f"{prefix}{field.upper()}"
        cause = item.get("ctx", {}).get("error")
        message = (
            cause.args[0]
            if isinstance(cause, ValueError) and isinstance(cause.args[0], Deferred)
            else Deferred(str(item["msg"]).removeprefix("Value error, "), {})
        )
        lines.append(N_("%(variable)s: %(problem)s", variable=name, problem=message))
    return lines


def load_settings(
    *, env_file: str | Path | None = ".env", required: Iterable[str] = ()
) -> Settings:
    """Read every setting; raise ``SettingsError`` naming each missing or malformed one.

    ``required`` lists variable names the calling command cannot do without
    (e.g. ``OCTOPUSH_API_KEY`` for ``sms-bot send``).
    """
    built: dict[str, BaseSettings] = {}
    problems: list[str] = []
    for name, cls, prefix in _SECTIONS:
        try:
            built[name] = cls(_env_file=env_file)
        except ValidationError as exc:
            problems.extend(_problem_lines(exc, prefix))
    for variable in required:
        section, _, field = _locate(variable)
        value = getattr(built[section], field) if section in built else "invalid"
        if value is None:
            why = _WHY.get(variable, N_("required"))
            problems.append(
                N_(
                    "%(variable)s: missing (%(why)s); "
                    "set it in the environment or in .env",
                    variable=variable,
                    why=why,
                )
            )
    problems.extend(_combination_problems(built))
    if problems:
        raise SettingsError(problems)
    return Settings(
        octopush=built["octopush"],  # type: ignore[arg-type]
        slack=built["slack"],  # type: ignore[arg-type]
        sms=built["sms"],  # type: ignore[arg-type]
        app=built["app"],  # type: ignore[arg-type]
    )


def _combination_problems(built: dict[str, BaseSettings]) -> list[str]:
    """Settings that are fine alone but not together."""
    octopush = built.get("octopush")
    if (
        isinstance(octopush, OctopushSettings)
        and octopush.callback_token_previous is not None
        and octopush.callback_token is None
    ):
        return [
            N_(
                "%(variable)s: set without %(current)s; set the new token in "
                "%(current)s and keep the old one here until Octopush uses the new URL",
                variable="OCTOPUSH_CALLBACK_TOKEN_PREVIOUS",
                current="OCTOPUSH_CALLBACK_TOKEN",
            )
        ]
    return []


def _locate(variable: str) -> tuple[str, str, str]:
    for name, _cls, prefix in _SECTIONS:
        if prefix and variable.startswith(prefix):
            return name, prefix, variable[len(prefix) :].lower()
    return "app", "", variable.lower()
