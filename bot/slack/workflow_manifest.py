"""The opt-in part of the app manifest: the Workflow Builder steps.

Custom steps need a paid Slack plan, an org-ready app (``org_deploy_enabled``) and an
admin's approval, so ``manifest.yml`` (importable on a free workspace) leaves them out;
:func:`with_workflow_steps` adds them to it (``sms-bot manifest --workflow-steps``).
The step names, inputs and outputs are the contract's ("Workflow Builder steps"); each
one has a listener in :mod:`bot.slack.listeners.workflow_steps`.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from bot.slack import ids

#: The event Slack sends when a workflow runs one of the app's steps.
FUNCTION_EXECUTED = "function_executed"


def _param(
    kind: str, title: str, description: str, *, required: bool
) -> dict[str, Any]:
    return {
        "type": kind,
        "title": title,
        "description": description,
        "is_required": required,
    }


def workflow_functions() -> dict[str, Any]:
    """The manifest's ``functions`` section (English: Slack shows it to builders)."""
    requested_by = _param(
        "slack#/types/user_id",
        "Requested by",
        "The person the step acts for: their rights and limits apply",
        required=True,
    )
    text = _param("string", "Message", "The SMS text", required=True)
    channel = _param(
        "slack#/types/channel_id",
        "Post the result in",
        "Where the result is posted (otherwise the requester gets it privately)",
        required=False,
    )
    rotation = _param(
        "string",
        "Rotation",
        "The rotation whose on-call person is paged",
        required=True,
    )
    rotation["dynamic_options"] = {
        "function": f"#/functions/{ids.STEP_LIST_ROTATIONS}",
        "inputs": {},
    }
    functions = {
        ids.STEP_SEND_SMS: {
            "title": "Send an SMS",
            "description": "Send an SMS through Octopush, with cost and an audit record",
            "input_parameters": {
                "requested_by": requested_by,
                "to": _param(
                    "string",
                    "To",
                    "Phone numbers, people or groups, separated by commas "
                    "(as after /sms)",
                    required=True,
                ),
                "text": text,
                "channel": channel,
            },
            "output_parameters": {
                "ticket": _param(
                    "string", "Octopush ticket", "The send's ticket", required=False
                ),
                "sms_count": _param(
                    "integer", "SMS count", "SMS messages billed", required=False
                ),
                "cost": _param("number", "Cost", "What the send cost", required=False),
                "status": _param(
                    "string", "Status", "The audit status (sent)", required=True
                ),
            },
        },
        ids.STEP_PAGE_ONCALL: {
            "title": "Page on-call",
            "description": "Text the person on call for a rotation, with escalation",
            "input_parameters": {
                "requested_by": requested_by,
                "rotation": rotation,
                "text": text,
                "channel": _param(
                    "slack#/types/channel_id",
                    "Post the page in",
                    "Where the page and its Acknowledge button are posted",
                    required=False,
                ),
            },
            "output_parameters": {
                "page": _param("integer", "Page", "The page number", required=True),
                "paged": _param("string", "Paged", "Who was texted", required=True),
            },
        },
        ids.STEP_LIST_ROTATIONS: {
            "title": "List rotations",
            "description": "The rotations of the directory (fills the Rotation menu)",
            "input_parameters": {},
            "output_parameters": {
                "options": {
                    "type": "slack#/types/options_select",
                    "title": "Rotations",
                    "description": "One option per rotation",
                }
            },
        },
    }
    # No shared sub-dicts: YAML would write them as anchors, which Slack does not read.
    copied: dict[str, Any] = json.loads(json.dumps(functions))
    return copied


def with_workflow_steps(manifest: dict[str, Any]) -> dict[str, Any]:
    """``manifest`` with the steps: ``functions``, ``org_deploy_enabled: true`` and the
    ``function_executed`` event (at the interactivity URL over HTTP)."""
    extended = copy.deepcopy(manifest)
    extended["functions"] = workflow_functions()
    settings = extended.setdefault("settings", {})
    settings["org_deploy_enabled"] = True
    events = settings.setdefault("event_subscriptions", {})
    bot_events = events.setdefault("bot_events", [])
    if FUNCTION_EXECUTED not in bot_events:
        bot_events.append(FUNCTION_EXECUTED)
    url = (settings.get("interactivity") or {}).get("request_url")
    if url and not events.get("request_url"):
        events["request_url"] = url
    return extended
