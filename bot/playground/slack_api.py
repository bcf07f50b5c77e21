"""The Slack Web API methods the bot calls, and its response URLs, answered locally.

Same shapes as Slack: ``{"ok": true, ...}`` or ``{"ok": false, "error": code}`` with
HTTP 200, the bot token checked on every call, ``x-oauth-scopes`` on ``auth.test``.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Callable
from typing import Any

from bot.playground import workspace
from bot.playground.home_tab import PublishRefused
from bot.playground.slack_world import Message, SlackError, SlackWorld, dm_of

logger = logging.getLogger(__name__)

SCOPES = "chat:write,chat:write.public,commands,usergroups:read,users.profile:read,users:read"

Method = Callable[[dict[str, Any]], dict[str, Any]]
#: ``functions.*`` calls, which carry a step's own token (:mod:`bot.playground.workflow`).
StepCalls = Callable[[str, dict[str, Any], str | None], dict[str, Any]]


class SlackWebApi:
    """``handle(method, args, token)`` for ``/slack-api/<method>``; ``respond`` for hooks."""

    def __init__(self, world: SlackWorld, *, bot_token: str) -> None:
        self.world = world
        self._token = bot_token
        self.calls: list[str] = []
        self.steps: StepCalls | None = None
        self._methods: dict[str, Method] = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._post_message,
            "chat.postEphemeral": self._post_ephemeral,
            "chat.update": self._update,
            "chat.delete": self._delete,
            "views.open": lambda args: self._open(args, push=False),
            "views.push": lambda args: self._open(args, push=True),
            "views.update": self._views_update,
            "views.publish": self._publish,
            "users.profile.get": self._profile,
            "users.info": self._users_info,
            "users.list": self._users_list,
            "usergroups.users.list": self._usergroup_users,
        }

    def handle(
        self, method: str, args: dict[str, Any], token: str | None
    ) -> tuple[dict[str, Any], dict[str, str]]:
        """The JSON answer and extra headers of one Web API call."""
        self.calls.append(method)
        if method.startswith("functions.") and self.steps is not None:
            return self.steps(method, args, token), {}
        if not token or not hmac.compare_digest(token, self._token):
            return {"ok": False, "error": "invalid_auth"}, {}
        found = self._methods.get(method)
        if found is None:
            logger.warning("the playground's Slack does not know %s", method)
            return {"ok": False, "error": "unknown_method"}, {}
        try:
            answer = found(args)
        except SlackError as error:
            return {"ok": False, "error": error.code}, {}
        headers = {"x-oauth-scopes": SCOPES} if method == "auth.test" else {}
        return {"ok": True, **answer}, headers

    # --- response_url -------------------------------------------------------------------

    def respond(self, hook_id: str, payload: dict[str, Any]) -> tuple[int, str]:
        """A post to a response URL: ``(HTTP status, body)`` as Slack's hooks answer."""
        try:
            hook = self.world.use_hook(hook_id)
        except SlackError as error:
            return 404, error.code
        if payload.get("delete_original") and hook.message_ts:
            self.world.delete(hook.channel, hook.message_ts)
            return 200, "ok"
        text = str(payload.get("text") or "")
        blocks = list(payload.get("blocks") or [])
        original = (
            self.world.message(hook.channel, hook.message_ts)
            if hook.message_ts
            else None
        )
        if payload.get("replace_original") and original is not None:
            self.world.update(hook.channel, original.ts, text=text, blocks=blocks)
            return 200, "ok"
        public = payload.get("response_type") == "in_channel"
        self.world.post(
            Message(
                channel=hook.channel,
                ts=self.world.new_ts(),
                user=workspace.BOT_USER_ID,
                text=text,
                blocks=blocks,
                thread_ts=_text(payload.get("thread_ts")),
                ephemeral_to=None if public else hook.user,
            )
        )
        return 200, "ok"

    # --- methods --------------------------------------------------------------------------

    def _auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": f"https://{workspace.TEAM_DOMAIN}.slack.com/",
            "team": "Playground",
            "user": workspace.BOT_NAME,
            "team_id": workspace.TEAM_ID,
            "user_id": workspace.BOT_USER_ID,
            "bot_id": workspace.BOT_ID,
            "is_enterprise_install": False,
        }

    def _channel(self, args: dict[str, Any]) -> str:
        channel = _text(args.get("channel"))
        if channel is None:
            raise SlackError("channel_not_found")
        if channel.startswith(("U", "W")) and workspace.person(channel):
            return dm_of(channel)
        known = {c.id for c in workspace.CHANNELS} | {
            dm_of(p.id) for p in workspace.PEOPLE
        }
        if channel not in known:
            raise SlackError("channel_not_found")
        return channel

    def _post_message(self, args: dict[str, Any]) -> dict[str, Any]:
        message = self._new_message(args, ephemeral_to=None)
        return {
            "channel": message.channel,
            "ts": message.ts,
            "message": message.public(),
        }

    def _post_ephemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        user = _text(args.get("user"))
        if user is None or workspace.person(user) is None:
            raise SlackError("user_not_in_channel")
        return {"message_ts": self._new_message(args, ephemeral_to=user).ts}

    def _new_message(
        self, args: dict[str, Any], *, ephemeral_to: str | None
    ) -> Message:
        text, blocks = _text(args.get("text")) or "", _blocks(args.get("blocks"))
        if not text and not blocks:
            raise SlackError("no_text")
        return self.world.post(
            Message(
                channel=self._channel(args),
                ts=self.world.new_ts(),
                user=workspace.BOT_USER_ID,
                text=text,
                blocks=blocks,
                thread_ts=_text(args.get("thread_ts")),
                ephemeral_to=ephemeral_to,
            )
        )

    def _update(self, args: dict[str, Any]) -> dict[str, Any]:
        channel, ts = self._channel(args), _text(args.get("ts")) or ""
        updated = self.world.update(
            channel,
            ts,
            text=_text(args.get("text")) or "",
            blocks=_blocks(args.get("blocks")),
        )
        return {"channel": channel, "ts": ts, "text": updated.text}

    def _delete(self, args: dict[str, Any]) -> dict[str, Any]:
        channel, ts = self._channel(args), _text(args.get("ts")) or ""
        if self.world.message(channel, ts) is None:
            raise SlackError("message_not_found")
        self.world.delete(channel, ts)
        return {"channel": channel, "ts": ts}

    def _open(self, args: dict[str, Any], *, push: bool) -> dict[str, Any]:
        user = self.world.use_trigger(_text(args.get("trigger_id")) or "")
        return {"view": self.world.open_view(user, _view(args), push=push)}

    def _publish(self, args: dict[str, Any]) -> dict[str, Any]:
        try:
            return self.world.homes.publish(args)
        except PublishRefused as refused:
            raise SlackError(refused.code) from None

    def _views_update(self, args: dict[str, Any]) -> dict[str, Any]:
        view_id = _text(args.get("view_id")) or ""
        view = self.world.update_view(
            view_id, _view(args), hash_=_text(args.get("hash"))
        )
        return {"view": view}

    def _profile(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"profile": _profile_of(_text(args.get("user")) or "")}

    def _users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user_id = _text(args.get("user")) or ""
        _profile_of(user_id)  # user_not_found for a stranger
        found = workspace.person(user_id)
        assert found is not None
        return {"user": _user(found, locale=_wants_locale(args))}

    def _users_list(self, args: dict[str, Any]) -> dict[str, Any]:
        """Everyone in one page: the app reads each member's language from it at start."""
        members = [_user(p, locale=_wants_locale(args)) for p in workspace.PEOPLE]
        return {"members": members, "response_metadata": {"next_cursor": ""}}

    def _usergroup_users(self, args: dict[str, Any]) -> dict[str, Any]:
        group_id = _text(args.get("usergroup"))
        group = next((g for g in workspace.USERGROUPS if g.id == group_id), None)
        if group is None:
            raise SlackError("no_such_subteam")
        return {"users": list(group.members)}


def _user(found: workspace.Person, *, locale: bool) -> dict[str, Any]:
    """A member as ``users.info`` and ``users.list`` give it."""
    user: dict[str, Any] = {
        "id": found.id,
        "team_id": workspace.TEAM_ID,
        "name": found.name,
        "real_name": found.real_name,
        "tz": "Europe/Paris",
        "is_bot": False,
        "profile": _profile_of(found.id),
    }
    if locale:
        user["locale"] = found.locale
    return user


def _wants_locale(args: dict[str, Any]) -> bool:
    return str(args.get("include_locale", "")).lower() in ("true", "1")


def _profile_of(user_id: str) -> dict[str, Any]:
    found = workspace.person(user_id)
    if found is None:
        raise SlackError("user_not_found")
    return {
        "real_name": found.real_name,
        "display_name": found.name,
        "title": found.title,
        "phone": found.phone,
    }


def _text(value: object) -> str | None:
    return str(value) if value not in (None, "") else None


def _blocks(value: object) -> list[dict[str, Any]]:
    """``blocks`` arrive as a list (JSON calls) or a JSON string (form calls)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as error:
            raise SlackError("invalid_blocks") from error
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(b, dict) for b in value):
        raise SlackError("invalid_blocks")
    return value


def _view(args: dict[str, Any]) -> dict[str, Any]:
    view = args.get("view")
    if isinstance(view, str):
        try:
            view = json.loads(view)
        except ValueError as error:
            raise SlackError("invalid_arguments") from error
    if not isinstance(view, dict):
        raise SlackError("invalid_arguments")
    return view
