"""The Slack client and servers in front of the bot: what a person does becomes a signed
request to ``/slack/events``, exactly as Slack sends it, and the bot's answer is shown.

Signing: ``v0=`` + hex HMAC-SHA256 of ``v0:{timestamp}:{raw body}`` with the signing
secret, in ``X-Slack-Signature`` beside ``X-Slack-Request-Timestamp``; the bot's own
Bolt verification (production's) checks it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from typing import Any
from urllib.parse import urlencode

import requests

from bot.playground import workspace
from bot.playground.mentions import escape_typed
from bot.playground.slack_world import Message, SlackError, SlackWorld

logger = logging.getLogger(__name__)

#: Slack gives up on an ack after 3 s and shows the person an error.
ACK_TIMEOUT_SECONDS = 3.0
COMMAND = "/sms"


def sign(secret: str, timestamp: str, body: str) -> str:
    """Slack's request signature of ``body`` sent at ``timestamp``."""
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


class SlackClient:
    """Turns the page's clicks and keystrokes into Slack's payloads, signed."""

    def __init__(
        self,
        world: SlackWorld,
        *,
        events_url: str,
        hooks_url: str,
        signing_secret: str,
        ack_timeout: float = ACK_TIMEOUT_SECONDS,
    ) -> None:
        self.world = world
        self._events_url = events_url
        self._hooks_url = hooks_url.rstrip("/")
        self._secret = signing_secret
        self._ack_timeout = ack_timeout
        self._session = requests.Session()
        self._session.trust_env = False  # 127.0.0.1 only: never through a proxy

    def close(self) -> None:
        self._session.close()

    # --- what a person does ------------------------------------------------------------

    def type_message(
        self, user: str, channel: str, text: str, thread_ts: str | None = None
    ) -> None:
        """The composer: ``/sms …`` is a slash command, anything else a message."""
        stripped = text.strip()
        if stripped == COMMAND or stripped.startswith(COMMAND + " "):
            self.slash_command(user, channel, stripped[len(COMMAND) :].strip())
            return
        if not stripped:
            return
        self.world.post(
            Message(
                channel=channel,
                ts=self.world.new_ts(),
                user=user,
                text=escape_typed(text, label_mentions=False),
                thread_ts=thread_ts,
            )
        )

    def slash_command(self, user: str, channel: str, text: str) -> None:
        form = {
            "token": "playground-deprecated-verification-token",
            "team_id": workspace.TEAM_ID,
            "team_domain": workspace.TEAM_DOMAIN,
            "channel_id": channel,
            "channel_name": _channel_name(channel),
            "user_id": user,
            "user_name": _user_name(user),
            "command": COMMAND,
            "text": escape_typed(text, label_mentions=True),
            "api_app_id": workspace.APP_ID,
            "is_enterprise_install": "false",
            "response_url": self._hook(channel, user),
            "trigger_id": self.world.new_trigger(user),
        }
        status, answer = self._send(urlencode(form))
        if status is None or status != 200:
            self._note(user, channel, _failure(status))
            return
        if not answer.strip():
            return
        try:
            data = json.loads(answer)
        except ValueError:
            self._note(user, channel, answer)
            return
        public = data.get("response_type") == "in_channel"
        if public:
            self.world.post(
                Message(channel, self.world.new_ts(), user, f"{COMMAND} {form['text']}")
            )
        self.world.post(
            Message(
                channel=channel,
                ts=self.world.new_ts(),
                user=workspace.BOT_USER_ID,
                text=str(data.get("text") or ""),
                blocks=list(data.get("blocks") or []),
                ephemeral_to=None if public else user,
            )
        )

    def global_shortcut(self, user: str, callback_id: str) -> None:
        self._interact(
            {
                "type": "shortcut",
                "callback_id": callback_id,
                "trigger_id": self.world.new_trigger(user),
                "action_ts": _action_ts(),
                **self._who(user),
            },
            user=user,
            channel=None,
        )

    def message_shortcut(
        self, user: str, channel: str, ts: str, callback_id: str
    ) -> None:
        message = self._message(channel, ts)
        self._interact(
            {
                "type": "message_action",
                "callback_id": callback_id,
                "trigger_id": self.world.new_trigger(user),
                "action_ts": _action_ts(),
                "message_ts": ts,
                "message": message,
                "channel": {"id": channel, "name": _channel_name(channel)},
                "response_url": self._hook(channel, user),
                **self._who(user),
            },
            user=user,
            channel=channel,
        )

    def message_action(
        self, user: str, channel: str, ts: str, action: dict[str, Any]
    ) -> None:
        """A button in a message: ``block_actions`` with a response URL for that message."""
        message = self._message(channel, ts)
        self._interact(
            {
                "type": "block_actions",
                "container": {
                    "type": "message",
                    "message_ts": ts,
                    "channel_id": channel,
                    "is_ephemeral": message.get("ephemeral", False),
                },
                "trigger_id": self.world.new_trigger(user),
                "channel": {"id": channel, "name": _channel_name(channel)},
                "message": message,
                "state": {"values": {}},
                "response_url": self._hook(channel, user, ts),
                "actions": [{**action, "action_ts": _action_ts()}],
                **self._who(user),
            },
            user=user,
            channel=channel,
        )

    def view_action(
        self, user: str, view_id: str, action: dict[str, Any], values: dict[str, Any]
    ) -> None:
        """An element inside a modal (``dispatch_action`` inputs, buttons)."""
        self.world.set_state(view_id, values)
        view = self._view(view_id)
        self._interact(
            {
                "type": "block_actions",
                "container": {"type": "view", "view_id": view_id},
                "trigger_id": self.world.new_trigger(user),
                "view": view,
                "actions": [{**action, "action_ts": _action_ts()}],
                **self._who(user),
            },
            user=user,
            channel=None,
        )

    def submit_view(self, user: str, view_id: str, values: dict[str, Any]) -> None:
        self.world.set_state(view_id, values)
        view = self._view(view_id)
        payload = {
            "type": "view_submission",
            "trigger_id": self.world.new_trigger(user),
            "view": view,
            "response_urls": self._response_urls(view, values, user),
            **self._who(user),
        }
        status, answer = self._send(urlencode({"payload": json.dumps(payload)}))
        if status != 200:
            self.world.show_errors(view_id, {"": _failure(status)})
            return
        data: dict[str, Any] = {}
        if answer.strip():
            try:
                data = json.loads(answer)
            except ValueError:
                data = {}
        action = data.get("response_action")
        try:
            if action == "errors":
                self.world.show_errors(view_id, dict(data.get("errors") or {}))
            elif action == "update":
                self.world.update_view(
                    view_id, dict(data.get("view") or {}), hash_=None
                )
            elif action == "push":
                self.world.open_view(user, dict(data.get("view") or {}), push=True)
            elif action == "clear":
                self.world.close_view(user, everything=True)
            else:
                self.world.close_view(user)
        except SlackError as error:
            self.world.show_errors(
                view_id, {"": f"Slack refused the answer: {error.code}"}
            )

    def close_view(self, user: str, view_id: str) -> None:
        found = self.world.view(view_id)
        self.world.close_view(user)
        if found is not None and found[1].get("notify_on_close"):
            payload = {"type": "view_closed", "view": found[1], "is_cleared": False}
            self._interact({**payload, **self._who(user)}, user=user, channel=None)

    def home_opened(self, user: str) -> None:
        """The person opened the app's Home tab: an ``app_home_opened`` event (JSON)."""
        event = {
            "type": "app_home_opened",
            "user": user,
            "channel": f"D{user}",
            "tab": "home",
            "event_ts": _action_ts(),
        }
        body = {
            "token": "playground-deprecated-verification-token",
            "team_id": workspace.TEAM_ID,
            "api_app_id": workspace.APP_ID,
            "type": "event_callback",
            "event_id": f"Ev{_action_ts().replace('.', '')}",
            "event_time": int(time.time()),
            "event": event,
        }
        self._send(json.dumps(body), content_type="application/json")

    def home_action(self, user: str, action: dict[str, Any]) -> None:
        """A button in the Home view: ``block_actions`` without a response URL."""
        view = self.world.homes.view_for(user) or {"type": "home", "blocks": []}
        self._interact(
            {
                "type": "block_actions",
                "container": {"type": "view", "view_id": view.get("id", "")},
                "trigger_id": self.world.new_trigger(user),
                "view": view,
                "actions": [{**action, "action_ts": _action_ts()}],
                **self._who(user),
            },
            user=user,
            channel=None,
        )

    # --- plumbing -------------------------------------------------------------------------

    def _interact(
        self, payload: dict[str, Any], *, user: str, channel: str | None
    ) -> None:
        status, _answer = self._send(urlencode({"payload": json.dumps(payload)}))
        if status != 200:
            self._note(user, channel or workspace.DEFAULT_CHANNEL, _failure(status))

    def _send(
        self, body: str, *, content_type: str = "application/x-www-form-urlencoded"
    ) -> tuple[int | None, str]:
        """POST ``body`` to ``/slack/events``, signed; ``(None, "")`` after 3 s."""
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": content_type,
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": sign(self._secret, timestamp, body),
        }
        try:
            response = self._session.post(
                self._events_url,
                data=body.encode(),
                headers=headers,
                timeout=self._ack_timeout,
            )
        except requests.Timeout:
            return None, ""
        except requests.RequestException as error:
            logger.warning("the bot could not be reached: %s", type(error).__name__)
            return 0, ""
        return response.status_code, response.text

    def _note(self, user: str, channel: str, text: str) -> None:
        """What Slack itself tells a person (errors), only to them."""
        self.world.post(
            Message(channel, self.world.new_ts(), "USLACKBOT", text, ephemeral_to=user)
        )

    def _hook(self, channel: str, user: str, message_ts: str | None = None) -> str:
        return f"{self._hooks_url}/{self.world.new_hook(channel, user, message_ts)}"

    def _message(self, channel: str, ts: str) -> dict[str, Any]:
        found = self.world.message(channel, ts)
        if found is None:
            raise SlackError("message_not_found")
        return found.public()

    def _view(self, view_id: str) -> dict[str, Any]:
        found = self.world.view(view_id)
        if found is None:
            raise SlackError("view_not_found")
        return found[1]

    def _response_urls(
        self, view: dict[str, Any], values: dict[str, Any], user: str
    ) -> list[dict[str, str]]:
        """One response URL per conversation picker with ``response_url_enabled``."""
        urls = []
        for block in view.get("blocks") or []:
            element = block.get("element") or {}
            if block.get("type") != "input" or not element.get("response_url_enabled"):
                continue
            block_id, action_id = block.get("block_id"), element.get("action_id")
            state = (values.get(block_id) or {}).get(action_id) or {}
            channel = state.get("selected_conversation") or state.get(
                "selected_channel"
            )
            if channel:
                urls.append(
                    {
                        "block_id": str(block_id),
                        "action_id": str(action_id),
                        "channel_id": str(channel),
                        "response_url": self._hook(str(channel), user),
                    }
                )
        return urls

    def _who(self, user: str) -> dict[str, Any]:
        name = _user_name(user)
        return {
            "token": "playground-deprecated-verification-token",
            "api_app_id": workspace.APP_ID,
            "is_enterprise_install": False,
            "enterprise": None,
            "team": {"id": workspace.TEAM_ID, "domain": workspace.TEAM_DOMAIN},
            "user": {
                "id": user,
                "username": name,
                "name": name,
                "team_id": workspace.TEAM_ID,
            },
        }


def _failure(status: int | None) -> str:
    """What Slack shows when the app does not answer in time, or answers an error."""
    code = "operation_timeout" if status is None else "dispatch_failed"
    suffix = "" if status in (None, 0) else f" (HTTP {status})"
    return f'{COMMAND} failed with the error "{code}"{suffix}'


def _action_ts() -> str:
    return f"{time.time():.6f}"


def _user_name(user: str) -> str:
    found = workspace.person(user)
    return found.name if found else user


def _channel_name(channel: str) -> str:
    found = next((c for c in workspace.CHANNELS if c.id == channel), None)
    return found.name if found else "directmessage"
