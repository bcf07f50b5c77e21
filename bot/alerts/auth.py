"""Who may post alerts: a bearer token per integration, and Grafana's HMAC signature.

Tokens and secrets live in environment variables the directory file names; they are
compared in constant time and never logged or echoed.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time
from collections.abc import Callable, Mapping
from typing import Any

from bot.directory.model import Integration

#: Grafana's signature header: the code's default and the documented one (alerts.md).
SIGNATURE_HEADERS = (
    "HTTP_X_GRAFANA_ALERT_SIGNATURE",
    "HTTP_X_GRAFANA_ALERTING_SIGNATURE",
)
TIMESTAMP_HEADERS = (
    "HTTP_X_GRAFANA_ALERT_TIMESTAMP",
    "HTTP_X_GRAFANA_ALERTING_TIMESTAMP",
)
#: How far a signed timestamp may be from now (replays outside it are refused).
WINDOW_S = 300


def bearer(environ: Mapping[str, Any]) -> str | None:
    header = str(environ.get("HTTP_AUTHORIZATION") or "")
    scheme, _, token = header.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def token_matches(
    integration: Integration, given: str | None, env: Mapping[str, str] = os.environ
) -> bool:
    """Constant-time; an unset or empty variable lets nobody in."""
    expected = env.get(integration.token_env) or ""
    if not expected or given is None:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


def find_by_token(
    integrations: Mapping[str, Integration],
    given: str,
    env: Mapping[str, str] = os.environ,
) -> Integration | None:
    """The integration whose token is ``given`` (Events v2's ``routing_key``)."""
    found = None
    for integration in integrations.values():  # every one compared: no timing hint
        if token_matches(integration, given, env) and found is None:
            found = integration
    return found


def signature_ok(
    integration: Integration,
    environ: Mapping[str, Any],
    body: bytes,
    *,
    env: Mapping[str, str] = os.environ,
    now: Callable[[], float] = time.time,
) -> bool:
    """Grafana's HMAC-SHA256 header, required when ``hmac_secret_env`` is set.

    Over ``timestamp + ":" + body`` when a timestamp header came (then within
    :data:`WINDOW_S` of now), else over the body alone.
    """
    if integration.hmac_secret_env is None:
        return True
    secret = env.get(integration.hmac_secret_env) or ""
    signature = next((str(environ[h]) for h in SIGNATURE_HEADERS if environ.get(h)), "")
    if not secret or not signature:
        return False
    stamp = next((str(environ[h]) for h in TIMESTAMP_HEADERS if environ.get(h)), None)
    signed = body
    if stamp is not None:
        try:
            seconds = float(stamp)
        except ValueError:
            return False
        if seconds > 1e11:  # milliseconds
            seconds /= 1000
        if abs(now() - seconds) > WINDOW_S:
            return False
        signed = stamp.encode() + b":" + body
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature.strip().lower())
