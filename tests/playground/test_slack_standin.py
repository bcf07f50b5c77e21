"""The Slack stand-in: signs like Slack (the real app verifies it), answers like Slack."""

from __future__ import annotations

import time

import pytest
import requests
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from slack_sdk.webhook import WebhookClient

from bot.playground.changes import Changes
from bot.playground.slack_api import SlackWebApi
from bot.playground.slack_client import SlackClient, sign
from bot.playground.slack_world import SlackWorld
from tests.playground.conftest import Running, text_of, wait_for


def test_signature_is_the_one_slack_sdk_verifies() -> None:
    body = "token=x&command=%2Fsms&text=help"
    timestamp = str(int(time.time()))
    verifier = SignatureVerifier("s3cret")
    assert verifier.is_valid(body, timestamp, sign("s3cret", timestamp, body))
    assert not verifier.is_valid(body, timestamp, sign("other", timestamp, body))


def test_the_real_app_accepts_its_signed_requests_and_refuses_others(
    running: Running,
) -> None:
    running.ui("message", user="U0ALICE", channel="C0OPS", text="/sms help")
    help_note = wait_for(lambda: running.messages())[-1]
    assert help_note["ephemeral"] and help_note["user"] == "U0SMSBOT"
    assert "/sms" in text_of(help_note)

    client = running.playground.client
    assert client is not None
    forger = SlackClient(
        client.world,
        events_url=f"{running.base}/slack/events",
        hooks_url=f"{running.base}/slack-hooks",
        signing_secret="not-the-signing-secret",
    )
    forger.slash_command("U0ALICE", "C0OPS", "+33600000002 forged")
    refused = running.messages()[-1]
    assert refused["user"] == "USLACKBOT"
    assert "dispatch_failed" in refused["text"] and "401" in refused["text"]
    unsigned = requests.post(
        f"{running.base}/slack/events", data={"command": "/sms"}, timeout=5
    )
    assert unsigned.status_code == 401
    assert running.playground.octopush is not None
    assert running.playground.octopush.sends == 0


def test_web_api_answers_like_slack(running: Running) -> None:
    keys = running.playground.keys
    api = WebClient(token=keys.bot_token, base_url=f"{running.base}/slack-api/")
    auth = api.auth_test()
    assert auth["user_id"] == "U0SMSBOT"
    assert "users.profile:read" in auth.headers["x-oauth-scopes"]
    assert api.users_profile_get(user="U0BOB")["profile"]["phone"] == "+33600000002"
    assert api.users_info(user="U0BOB")["user"]["name"] == "bob"
    assert "locale" not in api.users_info(user="U0BOB")["user"]
    assert (
        api.users_info(user="U0BOB", include_locale=True)["user"]["locale"] == "fr-FR"
    )
    assert set(api.usergroups_users_list(usergroup="S0OPSTEAM")["users"]) == {
        "U0ALICE",
        "U0BOB",
    }
    posted = api.chat_postMessage(channel="C0OPS", text="first")
    api.chat_update(channel="C0OPS", ts=posted["ts"], text="second")
    api.chat_postEphemeral(channel="C0OPS", user="U0BOB", text="for bob")
    api.chat_postMessage(channel="C0OPS", thread_ts=posted["ts"], text="in thread")
    mine = running.messages("U0ALICE")
    assert [m["text"] for m in mine] == ["second", "in thread"]
    assert mine[0]["edited"] and mine[1]["thread_ts"] == posted["ts"]
    assert "for bob" in [m["text"] for m in running.messages("U0BOB")]
    with pytest.raises(SlackApiError) as refused:
        WebClient(token="xoxb-wrong", base_url=f"{running.base}/slack-api/").auth_test()
    assert refused.value.response["error"] == "invalid_auth"
    with pytest.raises(SlackApiError) as missing:
        api.chat_update(channel="C0OPS", ts="1.000001", text="x")
    assert missing.value.response["error"] == "message_not_found"


def test_triggers_views_and_response_urls_keep_slacks_rules() -> None:
    world = SlackWorld(Changes())
    api = SlackWebApi(world, bot_token="xoxb-t")
    view = {"type": "modal", "title": {"type": "plain_text", "text": "T"}, "blocks": []}
    trigger = world.new_trigger("U0ALICE")
    opened, _ = api.handle(
        "views.open", {"trigger_id": trigger, "view": view}, "xoxb-t"
    )
    assert opened["ok"] and opened["view"]["id"].startswith("V")
    again, _ = api.handle("views.open", {"trigger_id": trigger, "view": view}, "xoxb-t")
    assert again["error"] == "exchanged_trigger_id"
    stale = {"view_id": opened["view"]["id"], "hash": "old", "view": view}
    assert api.handle("views.update", stale, "xoxb-t")[0]["error"] == "hash_conflict"
    fresh = {**stale, "hash": opened["view"]["hash"]}
    assert api.handle("views.update", fresh, "xoxb-t")[0]["ok"]
    for _ in range(2):
        pushed = {"trigger_id": world.new_trigger("U0ALICE"), "view": view}
        assert api.handle("views.push", pushed, "xoxb-t")[0]["ok"]
    pushed = {"trigger_id": world.new_trigger("U0ALICE"), "view": view}
    assert (
        api.handle("views.push", pushed, "xoxb-t")[0]["error"] == "push_limit_reached"
    )
    assert len(world.views_for("U0ALICE")) == 3

    hook = world.new_hook("C0OPS", "U0ALICE")
    answers = [api.respond(hook, {"text": f"note {n}"}) for n in range(6)]
    assert answers[:5] == [(200, "ok")] * 5 and answers[5] == (404, "used_url")
    assert all(m["ephemeral"] for m in world.messages_for("U0ALICE"))
    assert world.messages_for("U0BOB") == []


def test_response_url_replaces_and_deletes_the_message_it_belongs_to(
    running: Running,
) -> None:
    client = running.playground.client
    assert client is not None
    world = client.world
    posted = running.playground.slack
    assert posted is not None
    answer, _ = posted.handle(
        "chat.postMessage",
        {"channel": "C0OPS", "text": "original"},
        running.playground.keys.bot_token,
    )
    hook = world.new_hook("C0OPS", "U0ALICE", answer["ts"])
    url = f"{running.base}/slack-hooks/{hook}"
    assert (
        WebhookClient(url).send(text="replaced", replace_original=True).status_code
        == 200
    )
    assert [m["text"] for m in running.messages()] == ["replaced"]
    assert WebhookClient(url).send_dict({"delete_original": True}).status_code == 200
    assert running.messages() == []
