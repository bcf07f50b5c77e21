"""The App Home over HTTP: ``app_home_opened`` in, ``views.publish`` out (local Slack fake).

What each person sees (status, rotations, open pages, their sends, the admin part only
for admins), Slack's limits, coalescing, a 429's ``Retry-After``, French, and the
Home's buttons (Acknowledge, Cover, Hand back, Send an SMS).
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from pytest_httpserver import HTTPServer
from slack_sdk import WebClient

from bot.audit.pages import PageState
from bot.directory.files import load_directory
from bot.slack import ids
from bot.slack.home_publisher import PUBLISH_GAP, HomePublisher, slack_publisher
from bot.slack.listeners import home as home_listeners
from bot.slack.views.blocks import section
from bot.slack.views.home import HOME_BLOCKS_MAX, HOME_BYTES_MAX
from tests.conftest import SENT, SLACK_BOT_TOKEN, FakeClock, SlackHarness
from tests.fakes.slack import FakeSlack
from tests.slack.listeners.test_commands import finished, wait_until

SEND_PATH = "/v1/public/sms-campaign/send"
MakeHarness = Callable[..., SlackHarness]
_events = itertools.count(1)

DIRECTORY = """\
people:
  alice: {phone: "+33612345678", slack: UALICE}
  bob:   {phone: "+33698765432", slack: UBOB}
groups:
  db-oncall:
    members: [alice, bob]
    rotation: weekly
    start: 2026-11-02T09:00:00+01:00
    escalate_after: 10m
"""


@pytest.fixture
def directory_file(tmp_path: Path) -> Path:
    path = tmp_path / "directory.yml"
    path.write_text(DIRECTORY)
    return path


#: Seconds between two publishes of one person's Home, and between any two, in the
#: tests that do not test the pacing itself: the app's own 3 s and 0.6 s (kept by the
#: tests of coalescing and 429s) make a test that redraws one Home three times wait 9 s.
QUICK_INTERVAL = 0.2
QUICK_GAP = 0.05


@pytest.fixture
def home_app(
    make_harness: MakeHarness,
    database_url: str,
    directory_file: Path,
    httpserver: HTTPServer,
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[..., SlackHarness]:
    """The app with the directory; ``paced=True`` keeps the Home's real publish pacing
    (``PUBLISH_INTERVAL`` per person, ``PUBLISH_GAP`` between any two)."""
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_json(
        SENT, status=201
    )

    def make(*, paced: bool = False, **sms: Any) -> SlackHarness:
        if not paced:
            monkeypatch.setattr(home_listeners, "PUBLISH_INTERVAL", QUICK_INTERVAL)
        harness = make_harness(
            database_url=database_url, directory=str(directory_file), **sms
        )
        home = harness.stack.home
        assert home is not None
        if paced:
            assert home.publisher._gap == PUBLISH_GAP
        else:  # before the first publish starts the worker
            monkeypatch.setattr(home.publisher, "_gap", QUICK_GAP)
        return harness

    return make


def on_call_now(directory_file: Path) -> tuple[str, str]:
    """(slack id on call now, slack id of the other member) of ``db-oncall``."""
    rotation = load_directory(directory_file, region="FR").rotations["db-oncall"]
    on_call = rotation.on_call(datetime.now(UTC))
    slack = {"alice": "UALICE", "bob": "UBOB"}
    other = next(name for name in slack if name != on_call)
    return slack[on_call], slack[other]


def open_home(harness: SlackHarness, user: str, tab: str = "home") -> None:
    event = {
        "type": "app_home_opened",
        "user": user,
        "channel": "D1",
        "tab": tab,
        "event_ts": f"{time.time():.6f}",
    }
    body = {
        "token": "legacy",
        "team_id": "T1",
        "api_app_id": "A1",
        "type": "event_callback",
        "event_id": f"Ev{next(_events)}",
        "event_time": int(time.time()),
        "event": event,
    }
    response = harness.post(json.dumps(body), content_type="application/json")
    assert response.status_code == 200


def settle(harness: SlackHarness) -> None:
    """Sends, post updates and Home publishes all done."""
    home = harness.stack.home
    assert home is not None
    harness.settle()
    wait_until(home.publisher.idle, timeout=15)
    harness.settle()
    wait_until(home.publisher.idle, timeout=15)


def home_of(harness: SlackHarness, user: str) -> dict[str, Any]:
    settle(harness)
    view: dict[str, Any] = harness.slack.state.homes[user]
    return view


def text_of(view: dict[str, Any]) -> str:
    return json.dumps(view, ensure_ascii=False)


def buttons(view: dict[str, Any]) -> dict[str, list[str]]:
    """action_id -> the values of its buttons, wherever they are in the view."""
    found: dict[str, list[str]] = {}
    for block in view["blocks"]:
        elements = list(block.get("elements", []))
        if "accessory" in block:
            elements.append(block["accessory"])
        for element in elements:
            if element.get("type") == "button":
                found.setdefault(element["action_id"], []).append(
                    element.get("value", "")
                )
    return found


def press(harness: SlackHarness, user: str, action_id: str, value: str) -> None:
    """A button pressed in the Home: a view payload, no response_url."""
    payload = {
        "type": "block_actions",
        "team": {"id": "T1"},
        "user": {"id": user},
        "api_app_id": "A1",
        "trigger_id": f"trigger-{next(_events)}",
        "container": {"type": "view", "view_id": "VHOME"},
        "view": {"id": "VHOME", "type": "home", "blocks": []},
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": "b",
                "value": value,
                "action_ts": "1.1",
            }
        ],
    }
    assert harness.interact(payload).status_code == 200


def test_opening_the_home_publishes_status_rotations_pages_and_sends(
    home_app: Callable[..., SlackHarness], directory_file: Path
) -> None:
    harness = home_app()
    on_call, other = on_call_now(directory_file)
    harness.command("+33611111111 disk full", user=on_call)
    finished(harness)
    harness.command("page db-oncall db-1 is down", user="U1")
    settle(harness)

    open_home(harness, on_call)
    view = home_of(harness, on_call)
    shown = text_of(view)
    assert view["type"] == "home"
    assert "You are on call for *db-oncall* until <!date^" in shown
    assert "*db-oncall*:" in shown and "hand-over <!date^" in shown
    page = harness.stack.paging.pager.pages.get(1)
    assert buttons(view)[ids.ACK_PAGE] == [str(page.id)]
    assert "db-1 is down" in shown
    # Their send: masked, with its status and cost; never the full number.
    assert "+33 6 •• •• •• 11" in shown and "+33611111111" not in shown
    assert "sent" in shown and "0.03" in shown
    assert ids.HOME_SEND_FORM in buttons(view)
    assert "Admin" not in shown and "Octopush credit" not in shown

    open_home(harness, other)
    other_view = home_of(harness, other)
    assert "You are not on call now." in text_of(other_view)
    assert buttons(other_view)[ids.HOME_COVER] == ["db-oncall"]
    assert "You have sent no SMS yet." in text_of(other_view)


def test_the_messages_tab_publishes_nothing(
    home_app: Callable[..., SlackHarness],
) -> None:
    harness = home_app()
    open_home(harness, "U1", tab="messages")
    settle(harness)
    assert harness.slack.calls("views.publish") == []


def test_admins_see_credit_spend_pending_and_the_last_callback(
    home_app: Callable[..., SlackHarness],
) -> None:
    harness = home_app(admins="UADMIN", daily_budget=10)
    harness.slack.state.admins = {"UOWNER"}
    harness.command("+33611111111 disk full", user="U1")
    finished(harness)

    for user in ("UADMIN", "UOWNER", "U1"):
        open_home(harness, user)
    settle(harness)
    for admin in ("UADMIN", "UOWNER"):
        shown = text_of(harness.slack.state.homes[admin])
        assert "Octopush credit: *€99.50*" in shown
        assert "Spent today: *€0.0333* of a budget of €10.00" in shown
        assert "0 attempts pending" in shown
        assert "No callback received yet" in shown
    assert "Octopush credit" not in text_of(harness.slack.state.homes["U1"])


def test_many_pages_stay_within_slacks_limits_and_say_how_many_more(
    home_app: Callable[..., SlackHarness],
) -> None:
    harness = home_app()
    pages = harness.stack.paging.pager.pages
    for n in range(150):
        pages.create(
            target="db-oncall",
            text=f"alert {n} " + "x" * 180,
            members=("alice", "bob"),
            escalate_after=None,
        )
    open_home(harness, "U1")
    view = home_of(harness, "U1")
    assert len(view["blocks"]) <= HOME_BLOCKS_MAX
    assert len(json.dumps(view).encode()) <= HOME_BYTES_MAX
    assert len(buttons(view)[ids.ACK_PAGE]) == 15
    assert "… and 135 more open pages" in text_of(view)


def test_a_burst_of_openings_gives_one_publish_now_and_one_at_the_end(
    home_app: Callable[..., SlackHarness],
) -> None:
    harness = home_app(paced=True)  # the coalescing and the wait are the point
    for _ in range(6):
        open_home(harness, "U1")
    open_home(harness, "U2")
    settle(harness)
    publishes = [c.args["user_id"] for c in harness.slack.calls("views.publish")]
    assert sorted(publishes) == ["U1", "U1", "U2"]


def test_a_429_is_retried_after_retry_after(
    home_app: Callable[..., SlackHarness],
) -> None:
    harness = home_app(paced=True)  # the coalescing and the wait are the point
    harness.slack.state.rate_limits["views.publish"] = [1]
    started = time.monotonic()
    open_home(harness, "U1")
    calls = harness.slack.wait_for("views.publish", 2, timeout=10)
    assert time.monotonic() - started >= 1.0
    assert calls[0].answer == {"ok": False, "error": "ratelimited"}
    assert calls[1].answer is not None and calls[1].answer["ok"] is True
    assert harness.slack.state.homes["U1"]["type"] == "home"


def test_a_french_reader_gets_a_french_home(
    home_app: Callable[..., SlackHarness],
) -> None:
    harness = home_app(admins="U1")
    harness.slack.state.locales = {"U1": "fr-FR"}
    harness.command("+33611111111 disque plein", user="U1")
    finished(harness)
    harness.command("page db-oncall db-1 est en panne", user="U1")
    open_home(harness, "U1")
    view = home_of(harness, "U1")
    labels = [
        element["text"]["text"]
        for block in view["blocks"]
        for element in [*block.get("elements", []), block.get("accessory") or {}]
        if element.get("action_id") in (ids.ACK_PAGE, ids.RESOLVE_PAGE)
    ]
    assert labels == ["Acquitter", "Résoudre"]
    assert "Envoyer un SMS" in text_of(view)
    assert "99,50\u00a0€" in text_of(view)  # French money


def test_a_page_opening_and_its_acknowledgement_in_the_home_republish_it(
    home_app: Callable[..., SlackHarness], directory_file: Path
) -> None:
    harness = home_app()
    on_call, _other = on_call_now(directory_file)
    open_home(harness, on_call)
    assert buttons(home_of(harness, on_call)).get(ids.ACK_PAGE) is None

    harness.command("page db-oncall db-1 is down", user="U1")
    view = home_of(harness, on_call)  # a member: republished without opening it
    (page_id,) = buttons(view)[ids.ACK_PAGE]
    assert "UPAGER" not in harness.slack.state.homes

    press(harness, on_call, ids.ACK_PAGE, page_id)
    settle(harness)
    page = harness.stack.paging.pager.pages.get(int(page_id))
    assert page.state is PageState.ACKNOWLEDGED
    assert page.acknowledged_by == f"<@{on_call}>"
    assert buttons(home_of(harness, on_call)).get(ids.ACK_PAGE) is None
    assert "No open page." in text_of(harness.slack.state.homes["U1"])

    # Pressed again from a stale Home (no response_url to answer): the Home is redrawn.
    published = len(harness.slack.calls("views.publish"))
    press(harness, on_call, ids.ACK_PAGE, page_id)
    settle(harness)
    again = [c.args["user_id"] for c in harness.slack.calls("views.publish")]
    assert on_call in again[published:]
    assert harness.slack.calls("chat.postMessage")[-1].args.get("thread_ts")  # one note
    assert len(harness.slack.calls("chat.postMessage")) == 2  # the page, its ack note


def test_resolve_in_the_home_closes_the_page_and_republishes_it(
    home_app: Callable[..., SlackHarness], directory_file: Path
) -> None:
    harness = home_app()
    on_call, _other = on_call_now(directory_file)
    open_home(harness, on_call)
    harness.command("page db-oncall db-1 is down", user="U1")
    view = home_of(harness, on_call)
    (page_id,) = buttons(view)[ids.RESOLVE_PAGE]
    assert buttons(view)[ids.ACK_PAGE] == [page_id]  # both, side by side

    press(harness, on_call, ids.RESOLVE_PAGE, page_id)
    settle(harness)
    page = harness.stack.paging.pager.pages.get(int(page_id))
    assert page.state is PageState.RESOLVED
    assert buttons(home_of(harness, on_call)).get(ids.RESOLVE_PAGE) is None
    assert "No open page." in text_of(harness.slack.state.homes[on_call])

    # Pressed again from a stale Home (no response_url to answer): the Home is redrawn.
    published = len(harness.slack.calls("views.publish"))
    press(harness, on_call, ids.RESOLVE_PAGE, page_id)
    settle(harness)
    again = [c.args["user_id"] for c in harness.slack.calls("views.publish")]
    assert on_call in again[published:]


def test_cover_then_hand_back_from_the_home(
    home_app: Callable[..., SlackHarness], directory_file: Path
) -> None:
    harness = home_app()
    on_call, other = on_call_now(directory_file)
    open_home(harness, other)
    open_home(harness, on_call)
    settle(harness)

    press(harness, other, ids.HOME_COVER, "db-oncall")
    settle(harness)
    overrides = harness.stack.paging.pager.overrides
    now = harness.stack.paging.pager.now()
    cover = overrides.active(now)["db-oncall"]
    rotation = load_directory(directory_file, region="FR").rotations["db-oncall"]
    assert cover.ends_at == rotation.shift(now).ends_at
    mine = text_of(harness.slack.state.homes[other])
    assert "You are on call for *db-oncall*" in mine and "(covering)" in mine
    assert buttons(harness.slack.state.homes[other])[ids.HOME_HAND_BACK] == [
        "db-oncall"
    ]
    # The member on call by the schedule is told too: they are covered now.
    assert "You are not on call now." in text_of(harness.slack.state.homes[on_call])

    press(harness, other, ids.HOME_HAND_BACK, "db-oncall")
    settle(harness)
    assert overrides.active(harness.stack.paging.pager.now()) == {}
    assert "You are not on call now." in text_of(harness.slack.state.homes[other])


def test_hand_back_of_someone_elses_cover_changes_nothing(
    home_app: Callable[..., SlackHarness], directory_file: Path
) -> None:
    harness = home_app()
    on_call, other = on_call_now(directory_file)
    press(harness, other, ids.HOME_COVER, "db-oncall")
    settle(harness)
    press(harness, on_call, ids.HOME_HAND_BACK, "db-oncall")
    settle(harness)
    overrides = harness.stack.paging.pager.overrides
    assert "db-oncall" in overrides.active(harness.stack.paging.pager.now())


def test_send_an_sms_opens_the_form(home_app: Callable[..., SlackHarness]) -> None:
    harness = home_app()
    press(harness, "U1", ids.HOME_SEND_FORM, "")
    (opened,) = harness.slack.wait_for("views.open")
    view = opened.args["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert view["callback_id"] == ids.SMS_MODAL
    settle(harness)


def test_cover_is_refused_in_a_window_when_not_allowed(
    home_app: Callable[..., SlackHarness], directory_file: Path
) -> None:
    harness = home_app(allowed_users="USOMEONE")
    _on_call, other = on_call_now(directory_file)
    press(harness, other, ids.HOME_COVER, "db-oncall")
    (opened,) = harness.slack.wait_for("views.open")
    assert "may set or clear an on-call override" in text_of(opened.args)
    settle(harness)
    assert harness.stack.paging.pager.overrides.active(datetime.now(UTC)) == {}


def test_a_hand_over_republishes_the_rotations_homes(
    home_app: Callable[..., SlackHarness], directory_file: Path
) -> None:
    harness = home_app()
    home = harness.stack.home
    assert home is not None
    clock = FakeClock()
    harness.stack.paging.pager.clock = clock
    on_call, other = on_call_now(directory_file)
    assert home.check_handovers() == []  # the first look remembers
    settle(harness)
    assert harness.slack.calls("views.publish") == []

    clock.advance(7 * 24 * 3600)  # a weekly rotation: the other member's turn
    assert home.check_handovers() == ["db-oncall"]
    settle(harness)
    assert "You are on call for *db-oncall*" in text_of(
        harness.slack.state.homes[other]
    )
    assert "You are not on call now." in text_of(harness.slack.state.homes[on_call])
    assert home.check_handovers() == []


def test_page_on_call_from_the_home_pages_the_rotation_in_the_chosen_channel(
    home_app: Callable[..., SlackHarness],
    directory_file: Path,
    httpserver: HTTPServer,
) -> None:
    harness = home_app()
    on_call, _other = on_call_now(directory_file)
    press(harness, "U1", ids.HOME_PAGE, "")
    (opened,) = harness.slack.wait_for("views.open")
    form = opened.args["view"]
    form = json.loads(form) if isinstance(form, str) else form
    assert form["callback_id"] == ids.HOME_PAGE_MODAL
    submission = {
        "type": "view_submission",
        "team": {"id": "T1"},
        "user": {"id": "U1"},
        "api_app_id": "A1",
        "view": {
            "id": "VPAGE1",
            "callback_id": ids.HOME_PAGE_MODAL,
            "type": "modal",
            "state": {
                "values": {
                    ids.HOME_PAGE_ROTATION_BLOCK: {
                        ids.HOME_PAGE_ROTATION_SELECT: {
                            "type": "static_select",
                            "selected_option": {"value": "db-oncall"},
                        }
                    },
                    ids.HOME_PAGE_TEXT_BLOCK: {
                        ids.HOME_PAGE_TEXT_INPUT: {
                            "type": "plain_text_input",
                            "value": "db-1 is down",
                        }
                    },
                    ids.HOME_PAGE_CHANNEL_BLOCK: {
                        ids.HOME_PAGE_CHANNEL_SELECT: {
                            "type": "conversations_select",
                            "selected_conversation": "COPS",
                        }
                    },
                }
            },
        },
    }
    assert harness.interact(submission).status_code == 200
    (post,) = harness.slack.wait_for("chat.postMessage")
    assert post.args["channel"] == "COPS"
    settle(harness)
    sent = [json.loads(req.get_data()) for req, _ in httpserver.log]
    on_call_phone = {"UALICE": "+33612345678", "UBOB": "+33698765432"}[on_call]
    assert [[r["phone_number"] for r in body["recipients"]] for body in sent] == [
        [on_call_phone]
    ]
    assert "db-1 is down" in sent[0]["text"]
    page = harness.stack.paging.pager.pages.get(1)
    assert page.slack_user_id == "U1" and page.slack_channel_id == "COPS"
    assert buttons(harness.slack.state.homes[on_call])[ids.ACK_PAGE] == ["1"]


def test_the_manifest_enables_the_home_tab_and_its_event() -> None:
    manifest = yaml.safe_load((Path(__file__).parents[2] / "manifest.yml").read_text())
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    events = manifest["settings"]["event_subscriptions"]
    assert events["bot_events"] == ["app_home_opened"]
    assert events["request_url"].endswith("/slack/events")


def test_publishes_are_spaced_for_slacks_tier_4(fake_slack: FakeSlack) -> None:
    """Many people's Homes go out one ``gap`` apart, on the worker, never at once."""
    client = WebClient(token=SLACK_BOT_TOKEN, base_url=fake_slack.api_url)
    now = [100.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(round(seconds, 3))
        now[0] += seconds

    publisher = HomePublisher(
        slack_publisher(client),
        lambda user: {"type": "home", "blocks": [section(user)]},
        gap=0.6,
        clock=lambda: now[0],
        sleep=sleep,
    )
    publisher.request(["U1", "U2", "U3"])
    try:
        wait_until(lambda: len(fake_slack.calls("views.publish")) == 3)
        wait_until(publisher.idle)
    finally:
        publisher.stop()
    assert [c.args["user_id"] for c in fake_slack.calls("views.publish")] == [
        "U1",
        "U2",
        "U3",
    ]
    assert waits == [0.6, 0.6]
