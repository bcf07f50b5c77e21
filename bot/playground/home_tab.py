"""The local Slack's App Home tabs: ``views.publish`` keeps each person's Home view.

The page shows the view of whoever you are (its *Home* entry) and redraws it when the
bot publishes again; opening it and pressing its buttons reach the bot as Slack sends
them (:meth:`bot.playground.slack_client.SlackClient.home_opened`, ``home_action``).
"""

from __future__ import annotations

import json
import threading
from typing import Any

from bot.playground.changes import Changes

#: Slack's limits of a Home view (``views.publish`` refuses more).
BLOCKS_MAX = 100
BYTES_MAX = 250_000


class PublishRefused(ValueError):
    """What Slack answers a bad ``views.publish`` with (``view_too_large``, …)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class HomeViews:
    """The last Home view published for each user."""

    def __init__(self, changes: Changes) -> None:
        self._changes = changes
        self._views: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def publish(self, args: dict[str, Any]) -> dict[str, Any]:
        """``views.publish``: checks what Slack checks, keeps the view, shows it."""
        user = str(args.get("user_id") or "")
        view = args.get("view")
        if isinstance(view, str):
            try:
                view = json.loads(view)
            except ValueError:
                raise PublishRefused("invalid_arguments") from None
        if not user or not isinstance(view, dict) or view.get("type") != "home":
            raise PublishRefused("invalid_arguments")
        if len(view.get("blocks") or []) > BLOCKS_MAX:
            raise PublishRefused("invalid_blocks")
        if len(json.dumps(view).encode()) > BYTES_MAX:
            raise PublishRefused("view_too_large")
        published = {**view, "id": f"VHOME{user}", "hash": f"h{id(view)}"}
        with self._lock:
            self._views[user] = published
        self._changes.bump()
        return {"view": published}

    def view_for(self, user: str) -> dict[str, Any] | None:
        with self._lock:
            return self._views.get(user)
