"""manifest.yml stays in step with the code: every command and shortcut has a listener."""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import yaml

from bot.cli.checks import REQUIRED_SCOPES
from bot.cli.main import main
from bot.slack import ids
from bot.slack.workflow_manifest import with_workflow_steps
from tests.conftest import SlackHarness

ROOT = Path(__file__).resolve().parents[1]
SCHEMA_NAME = Path("shared") / "data" / "slack-manifest.schema.1.0.0.json"
#: Beside the project (a worktree may sit one level deeper than the checkout).
SCHEMA = next(
    (p / SCHEMA_NAME for p in ROOT.parents if (p / SCHEMA_NAME).exists()),
    ROOT.parent / SCHEMA_NAME,
)


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "manifest.yml").read_text())
    return loaded


def test_every_url_points_at_slack_events(manifest: dict[str, Any]) -> None:
    urls = [command["url"] for command in manifest["features"]["slash_commands"]]
    urls.append(manifest["settings"]["interactivity"]["request_url"])
    assert urls
    assert all(url.endswith("/slack/events") for url in urls)


def test_scopes_are_exactly_those_the_code_uses(manifest: dict[str, Any]) -> None:
    assert sorted(manifest["oauth_config"]["scopes"]["bot"]) == sorted(REQUIRED_SCOPES)


def test_ids_match_the_code(manifest: dict[str, Any]) -> None:
    assert [c["command"] for c in manifest["features"]["slash_commands"]] == [
        ids.COMMAND
    ]
    shortcuts = {s["callback_id"]: s["type"] for s in manifest["features"]["shortcuts"]}
    assert shortcuts == {ids.GLOBAL_SHORTCUT: "global", ids.MESSAGE_SHORTCUT: "message"}
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert manifest["settings"]["socket_mode_enabled"] is False


def test_manifest_matches_slacks_schema(manifest: dict[str, Any]) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    if not SCHEMA.exists():
        pytest.skip(f"Slack's manifest schema is not beside the project ({SCHEMA})")
    jsonschema.validate(manifest, json.loads(SCHEMA.read_text()))


def test_every_command_and_shortcut_in_the_manifest_has_a_listener(
    manifest: dict[str, Any], harness: SlackHarness
) -> None:
    for command in manifest["features"]["slash_commands"]:
        fields = {
            "command": command["command"],
            "text": "help",
            "team_id": "T1",
            "user_id": "U1",
            "channel_id": "C1",
            "trigger_id": "t",
            "response_url": harness.slack.webhook_url(),
        }
        response = harness.post(
            urlencode(fields), content_type="application/x-www-form-urlencoded"
        )
        assert response.status_code == 200, command["command"]
    for shortcut in manifest["features"]["shortcuts"]:
        payload = {
            "type": "shortcut" if shortcut["type"] == "global" else "message_action",
            "callback_id": shortcut["callback_id"],
            "trigger_id": f"t-{time.time()}",
            "team": {"id": "T1"},
            "user": {"id": "U1"},
            "channel": {"id": "C1"},
            "message": {"text": "hi", "ts": "1.1"},
        }
        assert harness.interact(payload).status_code == 200, shortcut["callback_id"]
    harness.slack.wait_for("views.open", len(manifest["features"]["shortcuts"]))


# --- the opt-in manifest with the Workflow Builder steps ------------------------------


def _printed(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main(argv) == 0
    return capsys.readouterr().out


@pytest.fixture
def steps_manifest(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(
        _printed(["manifest", "--workflow-steps"], capsys)
    )
    return loaded


def test_the_default_manifest_printed_is_manifest_yml_without_steps(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The default stays importable on a free workspace: no steps, not org-ready."""
    printed = _printed(["manifest"], capsys)
    assert printed == (ROOT / "manifest.yml").read_text()
    loaded = yaml.safe_load(printed)
    assert "functions" not in loaded
    assert loaded["settings"]["org_deploy_enabled"] is False


def test_the_steps_manifest_is_the_default_plus_the_steps(
    manifest: dict[str, Any], steps_manifest: dict[str, Any]
) -> None:
    settings = steps_manifest["settings"]
    assert settings["org_deploy_enabled"] is True
    assert "function_executed" in settings["event_subscriptions"]["bot_events"]
    assert settings["event_subscriptions"]["request_url"].endswith("/slack/events")
    for key in ("display_information", "features", "oauth_config"):
        assert steps_manifest[key] == manifest[key]


def test_the_steps_have_the_contracts_names(steps_manifest: dict[str, Any]) -> None:
    functions = steps_manifest["functions"]
    send, page = functions[ids.STEP_SEND_SMS], functions[ids.STEP_PAGE_ONCALL]
    assert list(send["input_parameters"]) == ["requested_by", "to", "text", "channel"]
    assert list(send["output_parameters"]) == ["ticket", "sms_count", "cost", "status"]
    assert list(page["input_parameters"])[:3] == ["requested_by", "rotation", "text"]
    assert list(page["output_parameters"]) == ["page", "paged"]
    options = page["input_parameters"]["rotation"]["dynamic_options"]
    assert options["function"] == f"#/functions/{ids.STEP_LIST_ROTATIONS}"
    # Workflow Builder refuses steps with object-typed parameters.
    for function in functions.values():
        for parameter in (
            *function["input_parameters"].values(),
            *function["output_parameters"].values(),
        ):
            assert parameter["type"] != "object"


def test_the_steps_manifest_matches_slacks_schema(
    steps_manifest: dict[str, Any],
) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    if not SCHEMA.exists():
        pytest.skip(f"Slack's manifest schema is not beside the project ({SCHEMA})")
    jsonschema.validate(steps_manifest, json.loads(SCHEMA.read_text()))


def test_every_step_in_the_manifest_has_a_listener(
    steps_manifest: dict[str, Any], harness: SlackHarness
) -> None:
    """Each step gets an answer: its run ends (complete or fail), never left hanging."""
    for number, callback_id in enumerate(steps_manifest["functions"], start=1):
        body = {
            "team_id": "T1",
            "api_app_id": "A1",
            "type": "event_callback",
            "event_id": f"Ev{number}",
            "event_time": int(time.time()),
            "event": {
                "type": "function_executed",
                "function": {"callback_id": callback_id, "type": "app"},
                "inputs": {"requested_by": "U1", "to": "", "text": "", "rotation": ""},
                "function_execution_id": f"Fx{number}",
                "event_ts": str(time.time()),
                "bot_access_token": "xwfp-1",
            },
        }
        response = harness.post(json.dumps(body), content_type="application/json")
        assert response.status_code == 200, callback_id
    harness.settle()
    ended = harness.slack.calls("functions.completeSuccess") + harness.slack.calls(
        "functions.completeError"
    )
    assert sorted(call.args["function_execution_id"] for call in ended) == sorted(
        f"Fx{n}" for n in range(1, len(steps_manifest["functions"]) + 1)
    )


def test_a_manifest_that_cannot_be_read_is_said_in_words_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nowhere.yml"
    assert main(["manifest", "--workflow-steps", "--from", str(missing)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "cannot read the manifest" in captured.err and str(missing) in captured.err
    (tmp_path / "list.yml").write_text("- not a manifest\n")
    assert main(["manifest", "--from", str(tmp_path / "list.yml")]) == 2
    assert "is not a Slack app manifest" in capsys.readouterr().err


def test_the_steps_join_events_the_default_manifest_already_subscribes_to(
    manifest: dict[str, Any],
) -> None:
    """``manifest.yml`` may subscribe to events itself (the Home tab's): the steps add
    theirs beside them, at the URL already there, and leave the file's own alone."""
    with_home = copy.deepcopy(manifest)
    with_home["settings"]["event_subscriptions"] = {
        "request_url": "https://elsewhere.example.com/slack/events",
        "bot_events": ["app_home_opened"],
    }
    extended = with_workflow_steps(with_home)
    events = extended["settings"]["event_subscriptions"]
    assert events == {
        "request_url": "https://elsewhere.example.com/slack/events",
        "bot_events": ["app_home_opened", "function_executed"],
    }
    assert with_home["settings"]["event_subscriptions"]["bot_events"] == [
        "app_home_opened"
    ]
    assert with_workflow_steps(extended) == extended
