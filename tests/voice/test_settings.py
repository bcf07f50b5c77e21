"""Issue 22: ``voice`` is the audit type of a call, never a default SMS route."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import load_settings
from bot.errors import SettingsError


def test_voice_is_not_a_default_sms_type(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SMS_DEFAULT_TYPE", "voice")
    with pytest.raises(SettingsError) as raised:
        load_settings(env_file=None)
    assert any("SMS_DEFAULT_TYPE" in p for p in raised.value.problems)
    assert any("sms_premium or sms_low_cost" in p for p in raised.value.problems)
