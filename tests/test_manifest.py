"""manifest.yml stays in step with the code: every command and shortcut has a listener."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import yaml

from bot.cli.checks import REQUIRED_SCOPES
from bot.slack import ids
from tests.conftest import SlackHarness

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT.parent / "shared" / "data" / "slack-manifest.schema.1.0.0.json"


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
