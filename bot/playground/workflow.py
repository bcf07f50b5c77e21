"""The playground's Workflow Builder: *Run workflow* runs one of the app's steps.

Like Slack, it sends the app a signed ``function_executed`` event (with a step token of
its own), and the run ends when the app calls ``functions.completeSuccess`` or
``functions.completeError`` with that token: what each run was given and how it ended
is shown on the page, beside the result post in the channel.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import requests

from bot.playground import workspace
from bot.playground.changes import Changes
from bot.playground.slack_client import ACK_TIMEOUT_SECONDS, sign
from bot.slack import ids

logger = logging.getLogger(__name__)

#: The steps *Run workflow* offers (the rotation menu's step runs on its own).
STEPS = (ids.STEP_SEND_SMS, ids.STEP_PAGE_ONCALL, ids.STEP_LIST_ROTATIONS)
#: Slack gives a step's event a little longer than other events to be acked.
STEP_ACK_SECONDS = 5.0
_KEPT_RUNS = 20


@dataclass
class StepRun:
    """One run of a step: its inputs, then ``completed`` (outputs) or ``failed``."""

    execution_id: str
    step: str
    user: str
    inputs: dict[str, Any]
    token: str
    state: str = "running"
    outputs: dict[str, Any] = field(default_factory=dict)
    error: str = ""

    def public(self) -> dict[str, Any]:
        return {
            "execution_id": self.execution_id,
            "step": self.step,
            "user": self.user,
            "inputs": self.inputs,
            "state": self.state,
            "outputs": self.outputs,
            "error": self.error,
        }


class WorkflowRuns:
    """Sends the steps' events and takes the ``functions.*`` calls that end them."""

    def __init__(
        self, *, events_url: str, signing_secret: str, changes: Changes
    ) -> None:
        self._events_url = events_url
        self._secret = signing_secret
        self._changes = changes
        self._runs: list[StepRun] = []
        self._lock = threading.Lock()
        self._session = requests.Session()
        self._session.trust_env = False  # 127.0.0.1 only: never through a proxy

    def close(self) -> None:
        self._session.close()

    def run(self, user: str, step: str, inputs: dict[str, Any]) -> StepRun:
        """Start ``step`` as Workflow Builder would; a refused event ends the run."""
        if step not in STEPS:
            raise ValueError(f"unknown step {step!r}")
        run = StepRun(
            execution_id="Fx" + secrets.token_hex(6).upper(),
            step=step,
            user=user,
            inputs=dict(inputs),
            token="xwfp-" + secrets.token_hex(12),
        )
        with self._lock:
            self._runs.append(run)
            del self._runs[:-_KEPT_RUNS]
        self._changes.bump()
        status = self._send(run)
        if status != 200:
            self._end(
                run, state="failed", error=f"the app did not take the step ({status})"
            )
        return run

    def handle(
        self, method: str, args: dict[str, Any], token: str | None
    ) -> dict[str, Any]:
        """``functions.completeSuccess`` / ``functions.completeError``, as Slack answers."""
        if method not in ("functions.completeSuccess", "functions.completeError"):
            return {"ok": False, "error": "unknown_method"}
        run = self._find(str(args.get("function_execution_id") or ""))
        if run is None:
            return {"ok": False, "error": "function_execution_not_found"}
        if not token or not secrets.compare_digest(token, run.token):
            return {"ok": False, "error": "invalid_auth"}
        if run.state != "running":
            return {"ok": False, "error": "function_execution_already_completed"}
        if method == "functions.completeSuccess":
            outputs = _json_object(args.get("outputs"))
            self._end(run, state="completed", outputs=outputs)
        else:
            self._end(run, state="failed", error=str(args.get("error") or ""))
        return {"ok": True}

    def snapshot(self, user: str) -> list[dict[str, Any]]:
        """The runs ``user`` started, newest first."""
        with self._lock:
            return [run.public() for run in reversed(self._runs) if run.user == user]

    def _find(self, execution_id: str) -> StepRun | None:
        with self._lock:
            return next(
                (run for run in self._runs if run.execution_id == execution_id), None
            )

    def _end(self, run: StepRun, **changes: Any) -> None:
        with self._lock:
            for name, value in changes.items():
                setattr(run, name, value)
        self._changes.bump()

    def _send(self, run: StepRun) -> int | None:
        body = json.dumps(_event(run))
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": sign(self._secret, timestamp, body),
        }
        try:
            response = self._session.post(
                self._events_url,
                data=body.encode(),
                headers=headers,
                timeout=max(STEP_ACK_SECONDS, ACK_TIMEOUT_SECONDS),
            )
        except requests.RequestException as error:
            logger.warning("the bot could not be reached: %s", type(error).__name__)
            return None
        return response.status_code


def _event(run: StepRun) -> dict[str, Any]:
    """The ``event_callback`` Slack sends when a workflow reaches the step."""
    now = time.time()
    return {
        "token": "playground-deprecated-verification-token",
        "team_id": workspace.TEAM_ID,
        "api_app_id": workspace.APP_ID,
        "type": "event_callback",
        "event_id": "Ev" + secrets.token_hex(6).upper(),
        "event_time": int(now),
        "event": {
            "type": "function_executed",
            "function": {
                "id": f"Fn{run.step}",
                "callback_id": run.step,
                "title": run.step,
                "type": "app",
                "app_id": workspace.APP_ID,
            },
            "inputs": run.inputs,
            "function_execution_id": run.execution_id,
            "workflow_execution_id": "Wx" + secrets.token_hex(6).upper(),
            "event_ts": f"{now:.6f}",
            "bot_access_token": run.token,
        },
    }


def _json_object(value: Any) -> dict[str, Any]:
    """``outputs`` as the Web API client sends it: a JSON text in a form, or an object."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return value if isinstance(value, dict) else {}
