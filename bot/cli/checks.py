"""``sms-bot check``: are the settings complete, do Octopush, Slack and the store answer?

Each check prints one line, ``ok`` or ``FAIL`` with what to do; the exit status is 0
only when everything passed.
"""

from __future__ import annotations

from collections.abc import Callable

from slack_sdk.errors import SlackApiError

from bot.audit import AuditStore
from bot.cli.support import reason_of
from bot.config import Settings, load_settings
from bot.errors import AuditStoreError, SettingsError
from bot.i18n import Translator, translator
from bot.i18n.octopush_hints import localized_hint
from bot.octopush import OctopushError
from bot.runtime.wiring import OCTOPUSH_REQUIRED, build_octopush, build_store
from bot.sending.gateway import gateway_error_text
from bot.slack.api import slack_error_code

#: Bot scopes the code uses; manifest.yml declares exactly these (see its test).
REQUIRED_SCOPES = (
    "chat:write",
    "chat:write.public",
    "commands",
    "usergroups:read",
    "users.profile:read",
    "users:read",
)

Printer = Callable[[str], None]


def run_checks(out: Printer, tr: Translator | None = None) -> int:
    """Run every check, one line each; return 0 when all passed, else 1 (2: bad settings).

    The ``ok``/``FAIL``/``skip`` markers stay as they are in every language (scripts
    grep them); the words after them are the reader's.
    """
    tr = tr or translator()
    _ = tr.gettext
    try:
        settings = load_settings()
    except SettingsError as error:
        for line in error.problems:
            out("FAIL " + _("settings: %(problem)s", problem=_(line)))
        return 2
    failures = 0
    for variable in _missing(settings):
        out(
            "FAIL "
            + _(
                "settings: %(variable)s: missing; set it in the environment or in .env",
                variable=variable,
            )
        )
        failures += 1
    if not failures:
        mode = (
            _("Socket Mode")
            if settings.slack.app_token
            else _("HTTP on port %(port)s", port=settings.port)
        )
        out(
            "ok   "
            + _(
                "settings (%(mode)s, sender %(sender)s)",
                mode=mode,
                sender=settings.sms.default_sender or _("account default"),
            )
        )
        if settings.slack.app_token and settings.slack.signing_secret is None:
            # serve picks Socket Mode from the token, but the Procfile and gunicorn
            # always serve HTTP, which verifies every request and so needs the secret.
            out(
                "skip "
                + _(
                    "HTTP mode (Procfile, gunicorn): %(variable)s is missing, so only "
                    "Socket Mode (sms-bot serve) can run",
                    variable="SLACK_SIGNING_SECRET",
                )
            )
    failures += _check_store(settings, out, tr)
    failures += _check_octopush(settings, out, tr)
    failures += _check_slack(settings, out, tr)
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


def _check_store(settings: Settings, out: Printer, tr: Translator) -> int:
    try:
        store = build_store(settings)
        store.ping()
    except AuditStoreError as error:
        out("FAIL " + tr.gettext("audit store: %(error)s", error=reason_of(error)))
        return 1
    out("ok   " + tr.gettext("audit store answers"))
    try:
        return _check_sender(store, out, tr)
    finally:
        store.close()


def _check_sender(store: AuditStore, out: Printer, tr: Translator) -> int:
    """Whether a sender runs the stored ``/sms`` commands (``SMS_SENDER``)."""
    from bot.audit.commands import open_command_queue
    from bot.runtime.sender import sender_health

    try:
        queue = open_command_queue(store)
    except AuditStoreError as error:
        out("FAIL " + tr.gettext("command queue: %(error)s", error=reason_of(error)))
        return 1
    try:
        state = sender_health(queue)
    except AuditStoreError as error:
        out("FAIL " + tr.gettext("command queue: %(error)s", error=reason_of(error)))
        return 1
    finally:
        queue.close()
    if state.stalled:
        waited = round(state.waiting.total_seconds()) if state.waiting else 0
        out(
            "FAIL "
            + tr.ngettext(
                "sender process: a stored /sms command has waited %(n)s second and "
                "none is alive; start `sms-bot sender` (or `sms-bot serve`)",
                "sender process: a stored /sms command has waited %(n)s seconds and "
                "none is alive; start `sms-bot sender` (or `sms-bot serve`)",
                waited,
            )
        )
        return 1
    if state.alive and state.last_seen is not None:
        ago = round((store.now() - state.last_seen).total_seconds())
        out(
            "ok   "
            + tr.ngettext(
                "sender process alive (last heartbeat %(n)s second ago)",
                "sender process alive (last heartbeat %(n)s seconds ago)",
                ago,
            )
        )
        return 0
    out(
        "skip "
        + tr.gettext(
            "sender process: none running now; `sms-bot serve` starts one "
            "(sends and pages wait for it)"
        )
    )
    return 0


def _check_octopush(settings: Settings, out: Printer, tr: Translator) -> int:
    from bot.cli.output import format_balance

    if settings.octopush.api_login is None or settings.octopush.api_key is None:
        out("skip " + tr.gettext("Octopush: credentials missing"))
        return 1
    with build_octopush(settings) as client:
        try:
            balance = client.get_balance()
        except OctopushError as error:
            hint = localized_hint(tr, error.hint)
            out(
                "FAIL "
                + tr.gettext(
                    "Octopush (%(url)s): %(error)s.",
                    url=settings.octopush.base_url,
                    error=gateway_error_text(error),
                )
                + (f" {hint}" if hint else "")
            )
            return 1
    credit = format_balance(balance.amount, balance.unit, tr)
    out(
        "ok   "
        + (
            tr.gettext(
                "Octopush reached: credit %(credit)s, simulation mode on", credit=credit
            )
            if settings.octopush.simulation
            else tr.gettext("Octopush reached: credit %(credit)s", credit=credit)
        )
    )
    _check_voice(settings, out, tr)
    return 0


def _check_voice(settings: Settings, out: Printer, tr: Translator) -> None:
    """Whether the account can make calls (a rotation's ``call_after``): its voice
    credit for the default region. Never a failure: many accounts text only."""
    from bot.cli.output import format_balance

    region = settings.sms.default_region
    with build_octopush(settings) as client:
        try:
            voice = client.get_voice_balance(region)
        except OctopushError as error:
            out(
                "skip "
                + tr.gettext(
                    "voice calls: not enabled on this Octopush account, or its voice "
                    "credit cannot be read (%(error)s); rotations cannot call",
                    error=gateway_error_text(error),
                )
            )
            return
    if voice.amount <= 0:
        out(
            "skip "
            + tr.gettext(
                "voice calls: no voice credit for %(region)s; rotations cannot call",
                region=region,
            )
        )
        return
    out(
        "ok   "
        + tr.gettext(
            "voice calls enabled: credit %(credit)s for %(region)s",
            credit=format_balance(voice.amount, voice.unit, tr),
            region=region,
        )
    )


def _check_slack(settings: Settings, out: Printer, tr: Translator) -> int:
    _ = tr.gettext
    if settings.slack.bot_token is None:
        out("skip " + _("Slack: SLACK_BOT_TOKEN missing"))
        return 1
    from bot.runtime.slack_app import build_slack_client

    client = build_slack_client(settings)
    try:
        response = client.auth_test()
    except SlackApiError as error:
        code = slack_error_code(error)
        out(
            "FAIL "
            + _(
                "Slack auth.test: %(code)s "
                "(check SLACK_BOT_TOKEN and reinstall the app)",
                code=code,
            )
        )
        return 1
    except OSError as error:
        out(
            "FAIL "
            + _(
                "Slack unreachable at %(url)s: %(error)s",
                url=settings.slack.api_url,
                error=type(error).__name__,
            )
        )
        return 1
    granted = {
        s.strip()
        for s in str(response.headers.get("x-oauth-scopes", "")).split(",")
        if s.strip()
    }
    missing = [scope for scope in REQUIRED_SCOPES if granted and scope not in granted]
    who = _(
        "%(user)s in %(team)s",
        user=response.get("user", "?"),
        team=response.get("team", "?"),
    )
    if missing:
        out(
            "FAIL "
            + _(
                "Slack: connected as %(who)s but scopes are missing: %(scopes)s "
                "(update the app from manifest.yml and reinstall)",
                who=who,
                scopes=", ".join(missing),
            )
        )
        return 1
    scopes = "" if granted else " " + _("(Slack did not list the granted scopes)")
    out("ok   " + _("Slack reached: %(who)s", who=who) + scopes)
    return 0
