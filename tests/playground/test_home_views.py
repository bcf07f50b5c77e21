"""The playground's Slack stand-in answers ``views.publish`` as Slack does."""

from __future__ import annotations

from bot.playground.changes import Changes
from bot.playground.slack_api import SlackWebApi
from bot.playground.slack_world import SlackWorld

TOKEN = "xoxb-playground"


def api() -> SlackWebApi:
    return SlackWebApi(SlackWorld(Changes()), bot_token=TOKEN)


def test_a_published_home_is_kept_per_person_and_bumps_the_page() -> None:
    slack = api()
    before = slack.world.changes.version
    view = {"type": "home", "blocks": [{"type": "divider"}]}
    answer, _headers = slack.handle(
        "views.publish", {"user_id": "U0ALICE", "view": view}, TOKEN
    )
    assert answer["ok"] is True
    assert slack.world.homes.view_for("U0ALICE") == answer["view"]
    assert slack.world.homes.view_for("U0BOB") is None
    assert slack.world.changes.version > before


def test_a_home_over_slacks_limits_is_refused_like_slack_does() -> None:
    slack = api()
    many = {"type": "home", "blocks": [{"type": "divider"}] * 101}
    big = {
        "type": "home",
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 260_000}}
        ],
    }
    for view, error in ((many, "invalid_blocks"), (big, "view_too_large")):
        answer, _ = slack.handle(
            "views.publish", {"user_id": "U0ALICE", "view": view}, TOKEN
        )
        assert answer == {"ok": False, "error": error}
    modal = {"type": "modal", "blocks": []}
    answer, _ = slack.handle(
        "views.publish", {"user_id": "U0ALICE", "view": modal}, TOKEN
    )
    assert answer == {"ok": False, "error": "invalid_arguments"}
    assert slack.world.homes.view_for("U0ALICE") is None
