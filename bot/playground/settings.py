"""The playground's settings: its own, whatever the environment or ``.env`` say.

Every ``SLACK_*``, ``OCTOPUSH_*`` and ``SMS_*`` variable, ``DATABASE_URL``, ``PORT`` and
the proxy variables are taken out of this process's environment while the playground
runs (Bolt and the HTTP clients read some of them themselves) and ``.env`` is not read,
so real credentials can never be used here. :func:`ignored_names` says which were set.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bot.config import Settings, load_settings
from bot.playground import alerts, workspace

_PREFIXES = ("SLACK_", "OCTOPUSH_", "SMS_")
_NAMES = frozenset(
    {"DATABASE_URL", "PORT", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"}
    | {"http_proxy", "https_proxy", "all_proxy"}
)
AUDIT_FILE = "sms-bot.db"


@dataclass(frozen=True)
class Secrets:
    """Fresh per run: the stand-ins accept only these, and they never leave the process."""

    bot_token: str
    signing_secret: str
    octopush_login: str
    octopush_key: str
    callback_token: str
    #: The sample directory's alert integration (*Fire an alert* sends it).
    hook_token: str

    @classmethod
    def generate(cls) -> Secrets:
        return cls(
            bot_token=f"xoxb-playground-{secrets.token_hex(12)}",
            signing_secret=secrets.token_hex(16),
            octopush_login="playground@example.invalid",
            octopush_key=secrets.token_hex(16),
            callback_token=secrets.token_urlsafe(16),
            hook_token=secrets.token_urlsafe(16),
        )


def _overridden(name: str) -> bool:
    return name.startswith(_PREFIXES) or name in _NAMES


def ignored_names(environ: Mapping[str, str], workdir: Path) -> list[str]:
    """Names of the settings the playground ignores, from the environment and ``.env``."""
    found = {name for name, value in environ.items() if value and _overridden(name)}
    dotenv = workdir / ".env"
    if dotenv.is_file():
        for line in dotenv.read_text(encoding="utf-8", errors="replace").splitlines():
            name, sep, value = line.strip().removeprefix("export ").partition("=")
            if sep and value.strip() and _overridden(name.strip()):
                found.add(name.strip())
    return sorted(found)


def playground_environment(
    *, base_url: str, keys: Secrets, workdir: Path, directory: Path
) -> dict[str, str]:
    """Every variable the playground sets: stand-ins, sample directory, demo policy."""
    allowed = ",".join(p.id for p in workspace.PEOPLE if p.may_send)
    return {
        "SLACK_BOT_TOKEN": keys.bot_token,
        "SLACK_SIGNING_SECRET": keys.signing_secret,
        "SLACK_API_URL": f"{base_url}/slack-api/",
        "OCTOPUSH_API_LOGIN": keys.octopush_login,
        "OCTOPUSH_API_KEY": keys.octopush_key,
        "OCTOPUSH_BASE_URL": f"{base_url}/octopush-sim/v1/public",
        "OCTOPUSH_CALLBACK_TOKEN": keys.callback_token,
        alerts.TOKEN_ENV: keys.hook_token,
        "DATABASE_URL": f"sqlite:///{workdir / AUDIT_FILE}",
        "SMS_DIRECTORY": str(directory),
        "SMS_DEFAULT_SENDER": "Playground",
        "SMS_ALLOWED_USERS": allowed,
        "SMS_RATE_LIMIT": "60/hour",
        "SMS_CONFIRM_ABOVE": "3",
        "SMS_LOW_CREDIT": "5",
        "SMS_ADMIN_CHANNEL": workspace.DEFAULT_CHANNEL,
        "SMS_ESCALATION_CHECK_SECONDS": "2",
        # *Fire an alert* again soon after *Resolve it* pages again (default 5m).
        "SMS_ALERT_REPAGE_AFTER": "20s",
        # One process: the sends run on its listener pool (no sender process to start).
        "SMS_SENDER": "inline",
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }


@contextmanager
def isolated_environment(values: Mapping[str, str]) -> Iterator[None]:
    """Replace every overridden variable by ``values`` for the block, then restore."""
    saved = dict(os.environ)
    try:
        for name in [n for n in os.environ if _overridden(n)]:
            del os.environ[name]
        os.environ.update(values)
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def load_playground_settings() -> Settings:
    """Settings from the (isolated) environment only: ``.env`` is never read."""
    return load_settings(env_file=None)
