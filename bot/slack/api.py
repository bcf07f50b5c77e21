"""Small helpers for Slack Web API failures, shared by every listener."""

from __future__ import annotations

from slack_sdk.errors import SlackApiError


def slack_error_code(error: SlackApiError) -> str:
    """The ``error`` field of a Slack API failure (``not_in_channel``, …)."""
    response = error.response
    return (
        str(response.get("error", "unknown_error"))
        if response is not None
        else "unknown_error"
    )
