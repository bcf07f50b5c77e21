"""``sms-bot serve`` picks Socket Mode when SLACK_APP_TOKEN is set, HTTP otherwise."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import pytest
from slack_bolt import App

from bot.config import SlackSettings
from bot.errors import SettingsError
from bot.i18n import translator
from bot.runtime.server import serve
from tests.conftest import SIGNING_SECRET, SLACK_BOT_TOKEN, make_settings
from tests.fakes.slack import FakeSlack


@pytest.fixture
def socket_mode_starts(monkeypatch: pytest.MonkeyPatch) -> list[tuple[App, str]]:
    """Replaces Socket Mode's handler; each test gets its own list of starts."""
    import slack_bolt.adapter.socket_mode as socket_mode

    started: list[tuple[App, str]] = []
    closed: list[str] = []

    class FakeSocketModeHandler:
        def __init__(self, app: App, app_token: str) -> None:
            self.app, self.app_token = app, app_token

        def connect(self) -> None:
            started.append((self.app, self.app_token))
            # What a platform does to stop it: serve stops cleanly and returns.
            signal.raise_signal(signal.SIGTERM)

        def close(self) -> None:
            closed.append(self.app_token)

    monkeypatch.setattr(socket_mode, "SocketModeHandler", FakeSocketModeHandler)
    return started


def test_serve_connects_in_socket_mode_with_the_app_token(
    tmp_path: Path, fake_slack: FakeSlack, socket_mode_starts: list[tuple[App, str]]
) -> None:
    settings = make_settings(tmp_path, slack_url=fake_slack.api_url)
    slack: Any = SlackSettings(
        _env_file=None,  # type: ignore[call-arg]
        bot_token=SLACK_BOT_TOKEN,
        app_token="xapp-1-socket",
        api_url=fake_slack.api_url,
    )
    settings = settings.__class__(
        octopush=settings.octopush, slack=slack, sms=settings.sms, app=settings.app
    )
    assert serve(settings) == 0
    ((app, token),) = socket_mode_starts
    assert token == "xapp-1-socket"
    assert isinstance(app, App)
    assert fake_slack.calls("auth.test")  # the bot token was checked at start


def test_http_mode_needs_the_signing_secret(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    settings = make_settings(tmp_path, slack_url=fake_slack.api_url)
    slack: Any = SlackSettings(
        _env_file=None,  # type: ignore[call-arg]
        bot_token=SLACK_BOT_TOKEN,
        api_url=fake_slack.api_url,
    )
    settings = settings.__class__(
        octopush=settings.octopush, slack=slack, sms=settings.sms, app=settings.app
    )
    with pytest.raises(SettingsError) as exc_info:
        serve(settings)
    assert exc_info.value.problems[0].startswith("SLACK_SIGNING_SECRET: missing")
    assert SIGNING_SECRET not in str(exc_info.value)
    french = exc_info.value.report(translator("fr")).splitlines()
    assert french[1] == (
        "  SLACK_SIGNING_SECRET : manquant (le mode HTTP vérifie chaque requête avec)"
    )


def test_http_mode_runs_gunicorn_with_the_shared_config_on_the_settings_port(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gunicorn.app.base import BaseApplication

    from bot.runtime import gunicorn_conf

    runs: list[dict[str, Any]] = []

    def run(self: Any) -> None:
        runs.append(
            {name: setting.value for name, setting in self.cfg.settings.items()}
        )

    monkeypatch.setattr(BaseApplication, "run", run)
    settings = make_settings(tmp_path)
    app = settings.app.model_copy(update={"port": 8765})
    settings = settings.__class__(
        octopush=settings.octopush, slack=settings.slack, sms=settings.sms, app=app
    )
    assert serve(settings) == 0
    (config,) = runs
    assert config["bind"] == ["0.0.0.0:8765"]
    for name, value in gunicorn_conf.OPTIONS.items():
        assert config[name] == value, name
