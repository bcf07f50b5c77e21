"""What the local Slack knows: messages per channel, open modals, triggers, response URLs.

One lock guards it all; every change bumps :class:`Changes` so the page redraws. The
rules Slack enforces that the bot relies on are kept: triggers live 3 s and are single
use, a response URL takes 5 posts in 30 minutes, ``views.update`` checks the hash,
``views.push`` stops at three views.
"""

from __future__ import annotations

import copy
import itertools
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from bot.playground import workspace
from bot.playground.changes import Changes
from bot.playground.home_tab import HomeViews

TRIGGER_SECONDS = 3.0
HOOK_USES = 5
HOOK_SECONDS = 30 * 60
VIEW_STACK_MAX = 3


class SlackError(Exception):
    """A Slack API error code, answered as ``{"ok": false, "error": code}``."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass
class Message:
    channel: str
    ts: str
    user: str
    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)
    thread_ts: str | None = None
    ephemeral_to: str | None = None
    edited: bool = False

    def public(self) -> dict[str, Any]:
        data = {
            "type": "message",
            "channel": self.channel,
            "ts": self.ts,
            "user": self.user,
            "text": self.text,
            "blocks": copy.deepcopy(self.blocks),
            "thread_ts": self.thread_ts,
            "ephemeral": self.ephemeral_to is not None,
            "edited": self.edited,
        }
        if self.user == workspace.BOT_USER_ID:
            data["bot_id"] = workspace.BOT_ID
        return data


@dataclass
class Hook:
    """A response URL: where a post through it lands, and what it may replace."""

    channel: str
    user: str
    message_ts: str | None
    created: float
    uses: int = 0


@dataclass
class OpenView:
    view: dict[str, Any]
    errors: dict[str, str] = field(default_factory=dict)


class SlackWorld:
    """The workspace's live state; thread-safe."""

    def __init__(self, changes: Changes) -> None:
        self.changes = changes
        self._lock = threading.RLock()
        self._messages: list[Message] = []
        self._clock = itertools.count(1)
        self._triggers: dict[str, tuple[str, float, bool]] = {}
        self._hooks: dict[str, Hook] = {}
        self._views: dict[str, list[OpenView]] = {}  # user -> stack
        #: Each person's App Home view (``views.publish``).
        self.homes = HomeViews(changes)

    # --- messages ------------------------------------------------------------------------

    def new_ts(self) -> str:
        return f"{int(time.time())}.{next(self._clock):06d}"

    def post(self, message: Message) -> Message:
        with self._lock:
            if (
                message.thread_ts
                and self._find(message.channel, message.thread_ts) is None
            ):
                raise SlackError("thread_not_found")
            self._messages.append(message)
        self.changes.bump()
        return message

    def update(self, channel: str, ts: str, *, text: str, blocks: Any) -> Message:
        with self._lock:
            found = self._find(channel, ts)
            if found is None:
                raise SlackError("message_not_found")
            if found.user != workspace.BOT_USER_ID:
                raise SlackError("cant_update_message")
            found.text = text
            found.blocks = list(blocks or [])
            found.edited = True
        self.changes.bump()
        return found

    def delete(self, channel: str, ts: str) -> None:
        with self._lock:
            self._messages = [
                m for m in self._messages if not (m.channel == channel and m.ts == ts)
            ]
        self.changes.bump()

    def message(self, channel: str, ts: str) -> Message | None:
        with self._lock:
            return self._find(channel, ts)

    def messages_for(self, user: str) -> list[dict[str, Any]]:
        """Everything ``user`` sees: public messages and their own ephemeral ones."""
        with self._lock:
            return [
                m.public()
                for m in self._messages
                if m.ephemeral_to in (None, user)
                and (not m.channel.startswith("D") or m.channel == dm_of(user))
            ]

    def _find(self, channel: str, ts: str) -> Message | None:
        return next(
            (m for m in self._messages if m.channel == channel and m.ts == ts), None
        )

    # --- triggers and response URLs ---------------------------------------------------------

    def new_trigger(self, user: str) -> str:
        trigger = f"{next(self._clock)}.{secrets.token_hex(6)}"
        with self._lock:
            self._triggers[trigger] = (user, time.monotonic(), False)
        return trigger

    def use_trigger(self, trigger: str) -> str:
        """The user of a fresh trigger, which is then spent."""
        with self._lock:
            found = self._triggers.get(trigger)
            if found is None:
                raise SlackError("invalid_trigger_id")
            user, created, used = found
            if used:
                raise SlackError("exchanged_trigger_id")
            if time.monotonic() - created > TRIGGER_SECONDS:
                raise SlackError("expired_trigger_id")
            self._triggers[trigger] = (user, created, True)
            return user

    def new_hook(self, channel: str, user: str, message_ts: str | None = None) -> str:
        hook = secrets.token_urlsafe(12)
        with self._lock:
            self._hooks[hook] = Hook(channel, user, message_ts, time.monotonic())
        return hook

    def use_hook(self, hook: str) -> Hook:
        with self._lock:
            found = self._hooks.get(hook)
            if found is None or time.monotonic() - found.created > HOOK_SECONDS:
                raise SlackError("no_active_hooks")
            if found.uses >= HOOK_USES:
                raise SlackError("used_url")
            found.uses += 1
            return found

    # --- modals ----------------------------------------------------------------------------

    def open_view(
        self, user: str, view: dict[str, Any], *, push: bool
    ) -> dict[str, Any]:
        with self._lock:
            stack = self._views.setdefault(user, [])
            if push and not stack:
                raise SlackError("not_found")
            if push and len(stack) >= VIEW_STACK_MAX:
                raise SlackError("push_limit_reached")
            if not push:
                stack.clear()
            root = stack[0].view["id"] if stack else None
            previous = stack[-1].view["id"] if stack else None
            opened = self._complete(view, view_id=None, root=root, previous=previous)
            stack.append(OpenView(opened))
        self.changes.bump()
        return copy.deepcopy(opened)

    def update_view(
        self, view_id: str, view: dict[str, Any], *, hash_: str | None
    ) -> dict[str, Any]:
        with self._lock:
            for stack in self._views.values():
                for index, item in enumerate(stack):
                    if item.view["id"] != view_id:
                        continue
                    if hash_ and hash_ != item.view["hash"]:
                        raise SlackError("hash_conflict")
                    updated = self._complete(
                        view,
                        view_id=view_id,
                        root=item.view["root_view_id"],
                        previous=item.view.get("previous_view_id"),
                        state=item.view["state"],
                    )
                    # Errors shown by a submission stay until the next submission.
                    stack[index] = OpenView(updated, errors=item.errors)
                    self.changes.bump()
                    return copy.deepcopy(updated)
        raise SlackError("not_found")

    def view(self, view_id: str) -> tuple[str, dict[str, Any]] | None:
        """The owner and a copy of an open view."""
        with self._lock:
            for user, stack in self._views.items():
                for item in stack:
                    if item.view["id"] == view_id:
                        return user, copy.deepcopy(item.view)
        return None

    def set_state(self, view_id: str, values: dict[str, Any]) -> None:
        with self._lock:
            for stack in self._views.values():
                for item in stack:
                    if item.view["id"] == view_id:
                        item.view["state"] = {"values": copy.deepcopy(values)}

    def show_errors(self, view_id: str, errors: dict[str, str]) -> None:
        with self._lock:
            for stack in self._views.values():
                for item in stack:
                    if item.view["id"] == view_id:
                        item.errors = dict(errors)
        self.changes.bump()

    def close_view(self, user: str, *, everything: bool = False) -> None:
        with self._lock:
            stack = self._views.get(user, [])
            if everything:
                stack.clear()
            elif stack:
                stack.pop()
        self.changes.bump()

    def views_for(self, user: str) -> list[dict[str, Any]]:
        with self._lock:
            return [
                {"view": copy.deepcopy(item.view), "errors": dict(item.errors)}
                for item in self._views.get(user, [])
            ]

    def _complete(
        self,
        view: dict[str, Any],
        *,
        view_id: str | None,
        root: str | None,
        previous: str | None,
        state: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The view as Slack returns it: ids, hash, state and the app's fields."""
        if not isinstance(view, dict) or view.get("type") != "modal":
            raise SlackError("invalid_arguments")
        view_id = view_id or f"V{secrets.token_hex(5).upper()}"
        return {
            **copy.deepcopy(view),
            "id": view_id,
            "team_id": workspace.TEAM_ID,
            "app_id": workspace.APP_ID,
            "bot_id": workspace.BOT_ID,
            "hash": f"{int(time.time())}.{secrets.token_hex(4)}",
            "state": copy.deepcopy(state) if state else {"values": {}},
            "root_view_id": root or view_id,
            "previous_view_id": previous,
            "private_metadata": str(view.get("private_metadata") or ""),
            "callback_id": str(view.get("callback_id") or ""),
            "external_id": str(view.get("external_id") or ""),
        }


def dm_of(user: str) -> str:
    """The id of the direct-message channel between the app and ``user``."""
    return "D" + user.removeprefix("U")
