"""What a stored button, form or App Home page leaves to the web process after its ack.

Before, each had a Bolt lazy listener: Bolt copied every request and ran it on the
listener pool only to find that a sender had the action. Now the ack decides what is
left and hands it to the pool only when something is (as ``/sms`` does): nothing for
a stored action in ``external`` (or ``process``) mode; running it for ``inline``, for
a copy (a double click, answered by the send path with what became of the first) and
with no queue at all; the "nothing was sent" answer of a press that was not stored.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from slack_bolt import App

from bot.errors import AuditStoreError
from bot.runtime.listener_pool import ListenerPool
from bot.slack import ids
from bot.slack.listeners.command_buttons import CommandButtons
from bot.slack.listeners.commands import SmsCommandHandlers
from bot.slack.listeners.forms import SmsFormHandlers
from bot.slack.sealed import button_key
from tests.conftest import SlackHarness, wait_until
from tests.slack.listeners.stored_actions import MakeHarness, run_elsewhere, stored
from tests.slack.listeners.test_command_ack import buttons, press
from tests.slack.listeners.test_commands import finished
from tests.slack.listeners.test_forms import state, submission
from tests.slack.listeners.test_stored_forms import TWO, confirm, submit, updates
from tests.slack.listeners.test_stored_home_page import page_form, paged
from tests.slack.test_home import DIRECTORY

SEND_PATH = "/v1/public/sms-campaign/send"
AMBIGUOUS = "+33612345678 0800 123 456 is the hotline"


@pytest.fixture
def directory(tmp_path: Path) -> Path:
    path = tmp_path / "directory.yml"
    path.write_text(DIRECTORY)
    return path


@pytest.fixture
def pool_given(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[object]]:
    """Everything handed to the listener pool (by an ack, or by Bolt for a lazy
    listener) of any app built after this fixture."""
    given: list[object] = []
    submit = ListenerPool.submit

    def recording(self: ListenerPool, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        given.append(fn)
        return submit(self, fn, *args, **kwargs)

    monkeypatch.setattr(ListenerPool, "submit", recording)
    yield given


def quiet(harness: SlackHarness, given: list[object]) -> None:
    """Let what came before finish, and forget what it handed to the pool."""
    harness.settle()
    given.clear()


def down(*args: object) -> int:
    raise AuditStoreError("database is locked")


# --- a stored action leaves nothing in the web process --------------------------------


def test_a_stored_press_leaves_nothing_to_the_web_process(
    make_harness: MakeHarness,
    database_url: str,
    sent: HTTPServer,
    pool_given: list[object],
) -> None:
    web = make_harness(database_url=database_url, sender="external")
    value = buttons(web.command(AMBIGUOUS).json())[ids.SEND_CERTAIN]
    quiet(web, pool_given)
    press(web, ids.SEND_CERTAIN, value)
    web.settle()
    assert pool_given == []
    assert len(stored(web, "button")) == 1
    assert sent.log == [] and web.slack.calls("webhook/command") == []


def test_a_stored_submission_and_confirmation_leave_nothing_to_the_web_process(
    make_harness: MakeHarness,
    database_url: str,
    sent: HTTPServer,
    pool_given: list[object],
) -> None:
    web = make_harness(database_url=database_url, sender="external", confirm_above="1")
    quiet(web, pool_given)
    answer = submit(web, submission(state(recipients=TWO)))
    web.settle()
    assert answer["response_action"] == "update"  # "checking…", as before
    assert pool_given == []
    assert len(stored(web, "form")) == 1

    run_elsewhere(make_harness, database_url, confirm_above="1")
    (confirmation,) = updates(web)
    quiet(web, pool_given)
    assert confirm(web, confirmation) == {"response_action": "clear"}
    web.settle()
    assert pool_given == []
    assert len(stored(web, "form-confirm")) == 1
    assert sent.log == []


def test_a_stored_home_page_leaves_nothing_to_the_web_process(
    make_harness: MakeHarness,
    database_url: str,
    directory: Path,
    sent: HTTPServer,
    pool_given: list[object],
) -> None:
    web = make_harness(
        database_url=database_url, directory=str(directory), sender="external"
    )
    quiet(web, pool_given)
    response = web.interact(page_form())
    web.settle()
    assert response.status_code == 200 and not response.content
    assert pool_given == []
    assert len(stored(web, "home-page")) == 1
    assert sent.log == []


def test_a_failed_store_of_a_form_or_page_is_answered_by_the_ack_alone(
    make_harness: MakeHarness,
    directory: Path,
    sent: HTTPServer,
    pool_given: list[object],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    harness = make_harness(directory=str(directory))
    assert harness.stack.sender is not None
    monkeypatch.setattr(harness.stack.sender.queue, "put_command", down)
    quiet(harness, pool_given)
    form = submit(harness, submission(state()))
    page = harness.interact(page_form()).json()
    harness.settle()
    assert form["errors"][ids.TEXT_BLOCK].startswith("Nothing was sent")
    assert page["errors"][ids.HOME_PAGE_TEXT_BLOCK].startswith("Nothing was sent")
    assert pool_given == []
    assert sent.log == []


# --- what is left still runs, or answers ----------------------------------------------


def test_inline_the_stored_press_runs_on_the_pool(
    pool_given: list[object], harness: SlackHarness, sent: HTTPServer
) -> None:
    # pool_given first: the app is built with the pool that records.
    value = buttons(harness.command(AMBIGUOUS).json())[ids.SEND_CERTAIN]
    quiet(harness, pool_given)
    press(harness, ids.SEND_CERTAIN, value)
    finished(harness)
    harness.settle()
    assert len(pool_given) == 1
    (row,) = stored(harness, "button")
    assert row["outcome"] == "run"
    assert len(sent.log) == 1


def test_a_copy_of_a_stored_press_runs_here_and_texts_once(
    make_harness: MakeHarness,
    database_url: str,
    sent: HTTPServer,
    pool_given: list[object],
) -> None:
    web = make_harness(database_url=database_url, sender="external")
    value = buttons(web.command(AMBIGUOUS).json())[ids.SEND_CERTAIN]
    quiet(web, pool_given)
    press(web, ids.SEND_CERTAIN, value)
    press(web, ids.SEND_CERTAIN, value)  # a double click: the copy is not stored
    finished(web)
    web.settle()
    assert len(pool_given) == 1, "only the copy runs in the web process"
    assert len(sent.log) == 1

    run_elsewhere(make_harness, database_url)  # the stored first one
    web.settle()
    assert len(sent.log) == 1
    replies = [call.args for call in web.slack.calls("webhook/command")]
    assert "already handled" in replies[-1]["text"]


def test_a_copy_of_a_stored_submission_runs_here_and_texts_once(
    make_harness: MakeHarness,
    database_url: str,
    sent: HTTPServer,
    pool_given: list[object],
) -> None:
    web = make_harness(database_url=database_url, sender="external")
    quiet(web, pool_given)
    submit(web, submission(state(), view_id="V-copy"))
    submit(web, submission(state(), view_id="V-copy"))
    finished(web)
    web.settle()
    assert len(pool_given) == 1, "only the copy runs in the web process"
    run_elsewhere(make_harness, database_url)
    web.settle()
    assert len(stored(web, "form")) == 1
    assert len(sent.log) == 1
    assert len(web.slack.calls("chat.postMessage")) == 1


def test_a_copy_of_a_stored_home_page_runs_here_and_pages_once(
    make_harness: MakeHarness,
    database_url: str,
    directory: Path,
    sent: HTTPServer,
    pool_given: list[object],
) -> None:
    web = make_harness(
        database_url=database_url, directory=str(directory), sender="external"
    )
    quiet(web, pool_given)
    web.interact(page_form())
    web.interact(page_form())
    web.slack.wait_for("chat.postMessage")
    web.settle()
    assert len(pool_given) == 1, "only the copy runs in the web process"
    run_elsewhere(make_harness, database_url, directory=str(directory))
    web.settle()
    assert len(paged(sent)) == 1
    assert len(web.slack.calls("chat.postMessage")) == 1


@pytest.mark.parametrize(
    ("locale", "said"),
    [("en-US", "Nothing was sent"), ("fr-FR", "Rien n'a été envoyé")],
)
def test_a_press_that_cannot_be_stored_is_answered_from_the_pool(
    pool_given: list[object],
    harness: SlackHarness,
    sent: HTTPServer,
    monkeypatch: pytest.MonkeyPatch,
    locale: str,
    said: str,
) -> None:
    harness.slack.state.locales = {"U1": locale}  # the reader's, looked up after
    value = buttons(harness.command(AMBIGUOUS).json())[ids.SEND_CERTAIN]
    assert harness.stack.sender is not None
    monkeypatch.setattr(harness.stack.sender.queue, "put_command", down)
    quiet(harness, pool_given)
    press(harness, ids.SEND_CERTAIN, value)
    (reply,) = harness.webhooks()
    harness.settle()
    assert len(pool_given) == 1
    assert reply["text"].startswith(said)
    assert reply["replace_original"] is False
    assert sent.log == []


def test_with_no_queue_a_press_runs_here(
    harness: SlackHarness, sent: HTTPServer
) -> None:
    value = buttons(harness.command(AMBIGUOUS).json())[ids.SEND_CERTAIN]
    harness.settle()
    handed: list[Callable[[], object]] = []
    deps = dataclasses.replace(
        harness.stack.paging.deps, commands=None, after_ack=handed.append
    )
    sender = SmsCommandHandlers(deps, harness.stack.paging).sender
    presses = CommandButtons(deps, sender, button_key(deps.settings))
    acks: list[dict[str, Any]] = []
    body = {
        "team": {"id": "T1"},
        "user": {"id": "U1"},
        "channel": {"id": "C1"},
        "response_url": harness.slack.webhook_url("command"),
        "actions": [{"action_id": ids.SEND_CERTAIN, "value": value}],
    }
    presses.ack_and_hand_over(lambda **kw: acks.append(kw), body)  # type: ignore[arg-type]
    assert acks == [{}]
    (work,) = handed
    assert sent.log == []
    work()
    (body_sent,) = [json.loads(request.get_data()) for request, _ in sent.log]
    assert body_sent["recipients"] == [{"phone_number": "+33612345678"}]
    assert stored(harness, "button") == []
    wait_until(lambda: harness.slack.calls("chat.postMessage"))


def test_with_no_queue_a_submitted_form_runs_here(
    harness: SlackHarness, sent: HTTPServer
) -> None:
    handed: list[Callable[[], object]] = []
    deps = dataclasses.replace(
        harness.stack.paging.deps, commands=None, after_ack=handed.append
    )
    form = SmsFormHandlers(deps)
    form.register(App(client=harness.stack.app.client, signing_secret="unused"))
    acks: list[dict[str, Any]] = []
    payload = submission(state())
    form.submission_and_hand_over(
        lambda **kw: acks.append(kw),  # type: ignore[arg-type]
        payload,
        payload["view"],
    )
    (ack,) = acks
    assert ack["response_action"] == "update"  # "checking…"
    (work,) = handed
    assert sent.log == []
    work()
    assert len(sent.log) == 1
    (update,) = harness.slack.wait_for("views.update")
    assert update.args["view_id"] == "V1"
    assert stored(harness) == []
