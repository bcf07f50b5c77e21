"""Which language: Slack locale tags, the CLI's locale variables, SMS_LANGUAGE."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import SmsSettings, configured_language, load_settings
from bot.errors import SettingsError
from bot.i18n import available_languages, language_from_environment, language_of


@pytest.mark.parametrize(
    ("tag", "language"),
    [
        ("fr-FR", "fr"),
        ("fr_FR.UTF-8", "fr"),
        ("fr_CA", "fr"),
        ("FR", "fr"),
        ("en-US", "en"),
        ("en_GB.UTF-8", "en"),
        ("de-DE", None),
        ("C.UTF-8", None),
        ("POSIX", None),
        ("", None),
        (None, None),
    ],
)
def test_locale_tags_name_an_available_language(
    tag: str | None, language: str | None
) -> None:
    assert language_of(tag) == language


def test_available_languages_come_from_the_catalogs() -> None:
    assert available_languages() == ("en", "fr")


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, "fr"),
        ({"LANG": "C.UTF-8"}, "fr"),
        ({"LANG": "en_US.UTF-8"}, "en"),
        ({"LANG": "de_DE.UTF-8"}, "fr"),
        ({"LANG": "en_US.UTF-8", "LC_MESSAGES": "fr_FR.UTF-8"}, "fr"),
        ({"LC_MESSAGES": "fr_FR.UTF-8", "LC_ALL": "en_US.UTF-8"}, "en"),
        ({"LANG": "", "LC_MESSAGES": ""}, "fr"),
    ],
)
def test_cli_follows_locale_variables_then_the_setting(
    environ: dict[str, str], expected: str
) -> None:
    assert language_from_environment(environ, fallback="fr") == expected


def test_sms_language_defaults_to_english_and_accepts_tags(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SMS_LANGUAGE", raising=False)
    assert SmsSettings(_env_file=None).language == "en"  # type: ignore[call-arg]
    monkeypatch.setenv("SMS_LANGUAGE", "fr-FR")
    assert SmsSettings(_env_file=None).language == "fr"  # type: ignore[call-arg]


def test_unknown_sms_language_is_one_line_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SMS_LANGUAGE", "klingon")
    with pytest.raises(SettingsError) as raised:
        load_settings(env_file=None)
    assert raised.value.problems == ["SMS_LANGUAGE: must be one of en, fr"]


def test_configured_language_reads_env_file_and_survives_bad_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SMS_LANGUAGE", raising=False)
    env_file = tmp_path / ".env"
    env_file.write_text("SMS_LANGUAGE=fr\n")
    assert configured_language(env_file) == "fr"
    monkeypatch.setenv("SMS_LANGUAGE", "klingon")
    assert configured_language(env_file) == "en"
    assert configured_language(None) == "en"
