from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import RateLimit, load_settings
from bot.domain import Purpose, SmsType
from bot.errors import SettingsError

ALL_VARIABLES = (
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "SLACK_API_URL",
    "OCTOPUSH_API_LOGIN",
    "OCTOPUSH_API_KEY",
    "OCTOPUSH_BASE_URL",
    "OCTOPUSH_SIMULATION",
    "OCTOPUSH_CALLBACK_TOKEN",
    "SMS_DEFAULT_SENDER",
    "SMS_DEFAULT_REGION",
    "SMS_DEFAULT_TYPE",
    "SMS_DEFAULT_PURPOSE",
    "DATABASE_URL",
    "PORT",
    "SMS_DIRECTORY",
    "SMS_ALLOWED_USERS",
    "SMS_ALLOWED_USERGROUPS",
    "SMS_ALLOWED_CHANNELS",
    "SMS_MAX_RECIPIENTS",
    "SMS_RATE_LIMIT",
    "SMS_DAILY_BUDGET",
    "SMS_CONFIRM_ABOVE",
    "SMS_BLOCKED_NUMBERS",
    "SMS_LOW_CREDIT",
    "SMS_ADMIN_CHANNEL",
    "SMS_AUDIT_RETENTION_DAYS",
    "SMS_AUDIT_REDACT_TEXT",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ALL_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def test_defaults_match_the_contract() -> None:
    settings = load_settings(env_file=None)
    assert settings.octopush.base_url == "https://api.octopush.com/v1/public"
    assert settings.octopush.simulation is False
    assert settings.slack.api_url == "https://slack.com/api/"
    assert settings.sms.default_region == "FR"
    assert settings.sms.default_type is SmsType.PREMIUM
    assert settings.sms.default_purpose is Purpose.ALERT
    assert settings.database_url == "sqlite:///sms-bot.db"
    assert settings.port == 3000
    assert settings.sms.max_recipients == 50
    assert settings.sms.rate == RateLimit(30, 3600, "30/hour")
    assert settings.sms.confirm_above == 20
    assert settings.sms.allowed_users == ()
    assert settings.sms.audit_redact_text is False


def test_reads_every_prefix_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OCTOPUSH_API_LOGIN", "ops@example.com")
    monkeypatch.setenv("OCTOPUSH_API_KEY", "key-123456")
    monkeypatch.setenv("OCTOPUSH_SIMULATION", "true")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1-2")
    monkeypatch.setenv("SMS_DEFAULT_SENDER", "Ops Team")
    monkeypatch.setenv("SMS_DEFAULT_REGION", "be")
    monkeypatch.setenv("SMS_ALLOWED_USERS", "U1, U2,,U3")
    monkeypatch.setenv("SMS_RATE_LIMIT", "5/minute")
    monkeypatch.setenv("DATABASE_URL", "sqlite:///x.db")
    monkeypatch.setenv("PORT", "8080")
    settings = load_settings(
        env_file=None, required=["OCTOPUSH_API_LOGIN", "OCTOPUSH_API_KEY"]
    )
    assert settings.octopush.api_login == "ops@example.com"
    assert settings.octopush.api_key is not None
    assert settings.octopush.api_key.get_secret_value() == "key-123456"
    assert settings.octopush.simulation is True
    assert settings.sms.default_sender == "Ops Team"
    assert settings.sms.default_region == "BE"
    assert settings.sms.allowed_users == ("U1", "U2", "U3")
    assert settings.sms.rate == RateLimit(5, 60, "5/minute")
    assert settings.database_url == "sqlite:///x.db"
    assert settings.port == 8080


def test_reads_a_dotenv_file(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text(
        "OCTOPUSH_API_LOGIN=ops@example.com\nOCTOPUSH_API_KEY=from-dotenv\nPORT=4000\n"
    )
    settings = load_settings(env_file=env, required=["OCTOPUSH_API_KEY"])
    assert settings.octopush.api_key is not None
    assert settings.octopush.api_key.get_secret_value() == "from-dotenv"
    assert settings.port == 4000


def test_missing_required_settings_give_one_line_each() -> None:
    with pytest.raises(SettingsError) as exc_info:
        load_settings(
            env_file=None,
            required=["OCTOPUSH_API_LOGIN", "OCTOPUSH_API_KEY", "SLACK_BOT_TOKEN"],
        )
    problems = exc_info.value.problems
    assert len(problems) == 3
    assert problems[0].startswith("OCTOPUSH_API_LOGIN: missing")
    assert problems[1].startswith("OCTOPUSH_API_KEY: missing")
    assert problems[2].startswith("SLACK_BOT_TOKEN: missing")


def test_malformed_settings_name_the_variable_and_never_the_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "not-a-bot-token-SECRET")
    monkeypatch.setenv("SMS_RATE_LIMIT", "lots")
    monkeypatch.setenv("SMS_DEFAULT_SENDER", "way too long sender")
    monkeypatch.setenv("SMS_DEFAULT_REGION", "XX")
    monkeypatch.setenv("PORT", "http")
    monkeypatch.setenv("OCTOPUSH_BASE_URL", "ftp://nowhere")
    with pytest.raises(SettingsError) as exc_info:
        load_settings(env_file=None)
    text = str(exc_info.value)
    assert "SECRET" not in text
    names = sorted(line.split(":")[0] for line in exc_info.value.problems)
    assert names == [
        "OCTOPUSH_BASE_URL",
        "PORT",
        "SLACK_BOT_TOKEN",
        "SMS_DEFAULT_REGION",
        "SMS_DEFAULT_SENDER",
        "SMS_RATE_LIMIT",
    ]
    assert "SMS_RATE_LIMIT: must look like 30/hour" in text


def test_empty_values_count_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMS_DEFAULT_SENDER", "")
    monkeypatch.setenv("OCTOPUSH_API_KEY", "")
    settings = load_settings(env_file=None)
    assert settings.sms.default_sender is None
    assert settings.octopush.api_key is None


def test_secrets_are_masked_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OCTOPUSH_API_KEY", "very-secret-key")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "signing-secret-value")
    settings = load_settings(env_file=None)
    assert "very-secret-key" not in repr(settings)
    assert "signing-secret-value" not in repr(settings)


def test_sms_timezone_defaults_to_paris_and_refuses_unknown_zones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert load_settings(env_file=None).sms.timezone == "Europe/Paris"
    monkeypatch.setenv("SMS_TIMEZONE", "America/New_York")
    assert load_settings(env_file=None).sms.timezone == "America/New_York"
    monkeypatch.setenv("SMS_TIMEZONE", "Mars/Olympus")
    monkeypatch.setenv("SMS_ESCALATION_LIMIT", "many")
    with pytest.raises(SettingsError) as exc_info:
        load_settings(env_file=None)
    names = sorted(line.split(":")[0] for line in exc_info.value.problems)
    assert names == ["SMS_ESCALATION_LIMIT", "SMS_TIMEZONE"]
