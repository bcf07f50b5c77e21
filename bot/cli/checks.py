"""``sms-bot check``: are the settings complete, do Octopush, Slack and the store answer?

Each check prints one line, ``ok`` or ``FAIL`` with what to do; the exit status is 0
only when everything passed.
"""

from __future__ import annotations

from collections.abc import Callable

from slack_sdk.errors import SlackApiError

from bot.config import Settings, load_settings
from bot.errors import AuditStoreError, SettingsError
from bot.octopush import OctopushError
from bot.runtime.wiring import OCTOPUSH_REQUIRED, build_octopush, build_store
from bot.slack.api import slack_error_code

#: Bot scopes the code uses; manifest.yml declares exactly these (see its test).
REQUIRED_SCOPES = (
    "chat:write",
    "chat:write.public",
    "commands",
    "usergroups:read",
    "users.profile:read",
)

Printer = Callable[[str], None]


def run_checks(out: Printer) -> int:
    """Run every check, one line each; return 0 when all passed, else 1 (2: bad settings)."""
    try:
        settings = load_settings()
    except SettingsError as error:
        for line in error.problems:
            out(f"FAIL settings: {line}")
        return 2
    failures = 0
    for variable in _missing(settings):
        out(f"FAIL settings: {variable}: missing; set it in the environment or in .env")
        failures += 1
    if not failures:
        mode = (
            "Socket Mode"
            if settings.slack.app_token
            else f"HTTP on port {settings.port}"
        )
        out(
            f"ok   settings ({mode}, "
            f"sender {settings.sms.default_sender or 'account default'})"
        )
    failures += _check_store(settings, out)
    failures += _check_octopush(settings, out)
    failures += _check_slack(settings, out)
    return 0 if failures == 0 else 1


def _missing(settings: Settings) -> list[str]:
    missing = [
        name
        for name in OCTOPUSH_REQUIRED
        if getattr(settings.octopush, name.removeprefix("OCTOPUSH_").lower()) is None
    ]
    if settings.slack.bot_token is None:
        missing.append("SLACK_BOT_TOKEN")
    if settings.slack.app_token is None and settings.slack.signing_secret is None:
        missing.append("SLACK_SIGNING_SECRET")
    return missing


def _check_store(settings: Settings, out: Printer) -> int:
    try:
        store = build_store(settings)
        store.ping()
        store.close()
    except AuditStoreError as error:
        out(f"FAIL audit store: {error}")
        return 1
    out("ok   audit store answers")
    return 0


def _check_octopush(settings: Settings, out: Printer) -> int:
    if settings.octopush.api_login is None or settings.octopush.api_key is None:
        out("skip Octopush: credentials missing")
        return 1
    with build_octopush(settings) as client:
        try:
            balance = client.get_balance()
        except OctopushError as error:
            hint = f" {error.hint}" if error.hint else ""
            out(f"FAIL Octopush ({settings.octopush.base_url}): {error}.{hint}")
            return 1
    simulation = ", simulation mode on" if settings.octopush.simulation else ""
    out(f"ok   Octopush reached: credit {balance.amount:g} {balance.unit}{simulation}")
    return 0


def _check_slack(settings: Settings, out: Printer) -> int:
    if settings.slack.bot_token is None:
        out("skip Slack: SLACK_BOT_TOKEN missing")
        return 1
    from bot.runtime.slack_app import build_slack_client

    client = build_slack_client(settings)
    try:
        response = client.auth_test()
    except SlackApiError as error:
        code = slack_error_code(error)
        out(
            f"FAIL Slack auth.test: {code} "
            "(check SLACK_BOT_TOKEN and reinstall the app)"
        )
        return 1
    except OSError as error:
        out(
            f"FAIL Slack unreachable at {settings.slack.api_url}: "
            f"{type(error).__name__}"
        )
        return 1
    granted = {
        s.strip()
        for s in str(response.headers.get("x-oauth-scopes", "")).split(",")
        if s.strip()
    }
    missing = [scope for scope in REQUIRED_SCOPES if granted and scope not in granted]
    who = f"{response.get('user', '?')} in {response.get('team', '?')}"
    if missing:
        out(
            f"FAIL Slack: connected as {who} but scopes are missing: "
            f"{', '.join(missing)} (update the app from manifest.yml and reinstall)"
        )
        return 1
    scopes = "" if granted else " (Slack did not list the granted scopes)"
    out(f"ok   Slack reached: {who}{scopes}")
    return 0
