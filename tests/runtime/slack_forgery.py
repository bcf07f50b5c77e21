"""Requests to ``/slack/events`` that Slack did not sign, and one that it did.

Each forged request is a slash command from an allowed user that would text a number
if the app believed it: unsigned, signed with another secret, and correctly signed but
stale (Slack's signatures are good for five minutes).
"""

from __future__ import annotations

import time
from urllib.parse import urlencode

import requests
from slack_sdk.signature import SignatureVerifier

#: The one user ``SMS_ALLOWED_USERS`` lets send: the forger claims to be them.
ALLOWED_USER = "UOPS"
NUMBER = "+33612345678"
STALE_SECONDS = 6 * 60


def command_body(
    text: str, *, response_url: str, user: str = ALLOWED_USER, channel: str = "C1"
) -> str:
    return urlencode(
        {
            "token": "legacy",
            "team_id": "T1",
            "team_domain": "test",
            "channel_id": channel,
            "channel_name": "ops",
            "user_id": user,
            "user_name": "ops",
            "command": "/sms",
            "text": text,
            "api_app_id": "A1",
            "response_url": response_url,
            "trigger_id": "trigger-1",
        }
    )


def signed_headers(secret: str, body: str, *, age: int = 0) -> dict[str, str]:
    timestamp = str(int(time.time()) - age)
    signature = SignatureVerifier(secret).generate_signature(
        timestamp=timestamp, body=body
    )
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": signature,
    }


def forgeries(secret: str, body: str) -> dict[str, dict[str, str]]:
    """Headers of each forged variant of ``body``, by name."""
    return {
        "unsigned": {"Content-Type": "application/x-www-form-urlencoded"},
        "wrongly signed": signed_headers("not-" + secret, body),
        "stale": signed_headers(secret, body, age=STALE_SECONDS),
    }


def post_forgeries(events_url: str, secret: str, body: str) -> dict[str, int]:
    """POST every forgery; the status each one got, by name."""
    return {
        name: requests.post(
            events_url, data=body.encode(), headers=headers, timeout=30
        ).status_code
        for name, headers in forgeries(secret, body).items()
    }


def post_signed(events_url: str, secret: str, body: str) -> requests.Response:
    return requests.post(
        events_url,
        data=body.encode(),
        headers=signed_headers(secret, body),
        timeout=30,
    )
