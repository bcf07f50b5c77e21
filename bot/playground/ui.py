"""What the page calls (``/ui/…``): the state to draw, and what a person just did."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.playground import workspace
from bot.playground.changes import Changes
from bot.playground.octopush_sim import TRIGGERABLE, OctopushSimulator
from bot.playground.slack_client import SlackClient
from bot.playground.slack_world import SlackError, dm_of
from bot.playground.voice_sim import ANSWERS
from bot.playground.workflow import WorkflowRuns

#: How long ``GET /ui/state?since=N`` waits for a change before answering anyway.
LONG_POLL_SECONDS = 15.0
_RECEIPTS = ("DELIVERED", "NOT_DELIVERED")


class UiError(ValueError):
    """A request from the page that cannot be done; its text is shown."""


class UiApi:
    def __init__(
        self,
        *,
        client: SlackClient,
        octopush: OctopushSimulator,
        changes: Changes,
        workflows: WorkflowRuns | None = None,
    ) -> None:
        self.client = client
        self.workflows = workflows
        self.world = client.world
        self.octopush = octopush
        self.changes = changes
        self._actions: dict[str, Callable[[dict[str, Any]], None]] = {
            "message": self._message,
            "shortcut": self._shortcut,
            "action": self._action,
            "view-action": self._view_action,
            "view-submit": self._view_submit,
            "view-close": self._view_close,
            "phone-reply": self._phone_reply,
            "phone-receipt": self._phone_receipt,
            "octopush": self._octopush,
            "home-open": lambda data: self.client.home_opened(_user(data.get("user"))),
            "home-action": lambda data: self.client.home_action(
                _user(data.get("user")), _dict(data.get("action"))
            ),
            "workflow-run": self._workflow_run,
            "phone-call": self._phone_call,
        }

    def state(self, query: dict[str, str]) -> dict[str, Any]:
        user = _user(query.get("user") or workspace.PEOPLE[0].id)
        try:
            since = int(query.get("since") or -1)
        except ValueError:
            since = -1
        version = self.changes.wait(since, LONG_POLL_SECONDS) if since >= 0 else None
        version = self.changes.version if version is None else version
        return {
            "version": version,
            "me": user,
            "team": {"id": workspace.TEAM_ID, "name": "Playground"},
            "bot": {"id": workspace.BOT_USER_ID, "name": workspace.BOT_NAME},
            "users": [
                {
                    "id": p.id,
                    "name": p.name,
                    "real_name": p.real_name,
                    "title": p.title,
                    "phone": p.phone,
                    "may_send": p.may_send,
                }
                for p in workspace.PEOPLE
            ],
            "usergroups": [
                {"id": g.id, "handle": g.handle, "name": g.name}
                for g in workspace.USERGROUPS
            ],
            "channels": [{"id": c.id, "name": c.name} for c in workspace.CHANNELS]
            + [{"id": dm_of(user), "name": workspace.BOT_NAME, "dm": True}],
            "messages": self.world.messages_for(user),
            "views": self.world.views_for(user),
            "home": self.world.homes.view_for(user),
            "phones": self.octopush.phones.snapshot(),
            "octopush": self.octopush.snapshot(),
            "workflow": self.workflows.snapshot(user) if self.workflows else [],
            "calls": self.octopush.voice.snapshot(),
        }

    def do(self, name: str, data: dict[str, Any]) -> dict[str, Any]:
        action = self._actions.get(name)
        if action is None:
            raise UiError(f"unknown action {name!r}")
        try:
            action(data)
        except SlackError as error:
            raise UiError(error.code) from error
        return {"ok": True}

    def _message(self, data: dict[str, Any]) -> None:
        self.client.type_message(
            _user(data.get("user")),
            _channel(data.get("channel")),
            str(data.get("text") or ""),
            thread_ts=_optional(data.get("thread_ts")),
        )

    def _shortcut(self, data: dict[str, Any]) -> None:
        user, callback_id = _user(data.get("user")), str(data.get("callback_id") or "")
        ts = _optional(data.get("ts"))
        if ts is None:
            self.client.global_shortcut(user, callback_id)
        else:
            self.client.message_shortcut(
                user, _channel(data.get("channel")), ts, callback_id
            )

    def _action(self, data: dict[str, Any]) -> None:
        self.client.message_action(
            _user(data.get("user")),
            _channel(data.get("channel")),
            str(data.get("ts") or ""),
            _dict(data.get("action")),
        )

    def _view_action(self, data: dict[str, Any]) -> None:
        self.client.view_action(
            _user(data.get("user")),
            str(data.get("view_id") or ""),
            _dict(data.get("action")),
            _dict(data.get("values")),
        )

    def _view_submit(self, data: dict[str, Any]) -> None:
        self.client.submit_view(
            _user(data.get("user")),
            str(data.get("view_id") or ""),
            _dict(data.get("values")),
        )

    def _view_close(self, data: dict[str, Any]) -> None:
        self.client.close_view(_user(data.get("user")), str(data.get("view_id") or ""))

    def _phone_reply(self, data: dict[str, Any]) -> None:
        number, text = self._number(data), str(data.get("text") or "").strip()
        if not text:
            raise UiError("type a reply first")
        self.octopush.reply(number, text)

    def _phone_receipt(self, data: dict[str, Any]) -> None:
        status = str(data.get("status") or "")
        if status not in _RECEIPTS:
            raise UiError(f"status must be one of {', '.join(_RECEIPTS)}")
        if not self.octopush.receipt(self._number(data), status):
            raise UiError("this phone has received no SMS yet")

    def _phone_call(self, data: dict[str, Any]) -> None:
        """A button of a ringing phone: answer and press 1, busy, or refuse."""
        answer = str(data.get("answer") or "")
        if answer not in ANSWERS:
            raise UiError(f"answer must be one of {', '.join(ANSWERS)}")
        try:
            call_id = int(str(data.get("call")))
        except ValueError as error:
            raise UiError("unknown call") from error
        if not self.octopush.voice.end(call_id, answer):
            raise UiError("this call is not ringing any more")

    def _octopush(self, data: dict[str, Any]) -> None:
        if "fail_next" in data:
            code = _optional(data.get("fail_next"))
            if code is not None and code not in TRIGGERABLE:
                raise UiError(f"unknown Octopush code {code}")
            self.octopush.set_fail_next(code)
        if "receipts" in data:
            status = _optional(data.get("receipts"))
            if status is not None and status not in _RECEIPTS:
                raise UiError(f"receipts must be one of {', '.join(_RECEIPTS)} or off")
            self.octopush.set_receipts(status)

    def _workflow_run(self, data: dict[str, Any]) -> None:
        """*Run workflow*: the step runs as the person you are (``requested_by``)."""
        if self.workflows is None:
            raise UiError("Workflow Builder is not available")
        user, inputs = _user(data.get("user")), _dict(data.get("inputs"))
        try:
            self.workflows.run(user, str(data.get("step") or ""), inputs)
        except ValueError as error:
            raise UiError(str(error)) from error

    def _number(self, data: dict[str, Any]) -> str:
        number = str(data.get("number") or "")
        if number not in self.octopush.phones.numbers():
            raise UiError(f"no phone {number!r} has received an SMS")
        return number


def _user(value: object) -> str:
    if not isinstance(value, str) or workspace.person(value) is None:
        raise UiError(f"unknown user {value!r}")
    return value


def _channel(value: object) -> str:
    known = {c.id for c in workspace.CHANNELS} | {dm_of(p.id) for p in workspace.PEOPLE}
    if not isinstance(value, str) or value not in known:
        raise UiError(f"unknown channel {value!r}")
    return value


def _optional(value: object) -> str | None:
    return str(value) if value not in (None, "") else None


def _dict(value: object) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise UiError("expected an object")
    return value
