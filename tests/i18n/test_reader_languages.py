"""Each Slack person's language from users.info (include_locale), cached, with fallbacks."""

from __future__ import annotations

import threading

from slack_sdk import WebClient

from bot.slack.locales import ReaderLanguages
from tests.fakes.slack import FakeSlack


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def languages(slack: FakeSlack, **kwargs: object) -> ReaderLanguages:
    client = WebClient(token="xoxb-test", base_url=slack.api_url)
    return ReaderLanguages(client, default="en", **kwargs)  # type: ignore[arg-type]


def test_a_french_slack_user_reads_french(fake_slack: FakeSlack) -> None:
    fake_slack.state.locales = {"UFR": "fr-FR", "UUS": "en-US", "UDE": "de-DE"}
    readers = languages(fake_slack)
    assert readers.language_of("UFR") == "fr"
    assert readers.translator_for("UFR").language == "fr"
    assert readers.language_of("UUS") == "en"
    assert readers.language_of("UDE") == "en"  # no German catalog: the default
    (call, *_) = fake_slack.calls("users.info")
    assert call.args["user"] == "UFR"
    assert call.args["include_locale"] in ("1", "true", True)


def test_answers_are_cached_until_they_expire(fake_slack: FakeSlack) -> None:
    fake_slack.state.locales = {"UFR": "fr-FR"}
    clock = Clock()
    readers = languages(fake_slack, timer=clock, ttl_seconds=3600)
    assert readers.cached("UFR") is None  # nothing known yet, and no Slack call
    assert fake_slack.calls("users.info") == []
    readers.language_of("UFR")
    readers.language_of("UFR")
    assert readers.cached("UFR") == "fr"
    assert len(fake_slack.calls("users.info")) == 1
    fake_slack.state.locales = {"UFR": "en-GB"}
    clock.now = 3601
    assert readers.language_of("UFR") == "en"
    assert len(fake_slack.calls("users.info")) == 2


def test_a_refused_lookup_falls_back_and_is_retried_soon(fake_slack: FakeSlack) -> None:
    fake_slack.state.locales = {"UFR": "fr-FR"}
    fake_slack.state.failures = {"users.info": "missing_scope"}
    clock = Clock()
    readers = languages(fake_slack, timer=clock, retry_seconds=60)
    assert readers.language_of("UFR") == "en"
    assert readers.language_of("UFR") == "en"
    assert len(fake_slack.calls("users.info")) == 1
    fake_slack.state.failures = {}
    clock.now = 61
    assert readers.language_of("UFR") == "fr"


def test_no_user_means_the_workspace_language(fake_slack: FakeSlack) -> None:
    client = WebClient(token="xoxb-test", base_url=fake_slack.api_url)
    readers = ReaderLanguages(client, default="fr")
    assert readers.language_of(None) == "fr"
    assert readers.workspace().language == "fr"
    assert fake_slack.calls("users.info") == []


def test_simultaneous_readers_all_get_their_own_language(fake_slack: FakeSlack) -> None:
    fake_slack.state.locales = {
        f"U{i}": ("fr-FR" if i % 2 else "en-US") for i in range(8)
    }
    readers = languages(fake_slack)
    start = threading.Barrier(16)
    results: dict[tuple[int, int], str] = {}

    def read(thread: int) -> None:
        start.wait()
        for user in range(8):
            results[(thread, user)] = readers.language_of(f"U{user}")

    threads = [threading.Thread(target=read, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 16 * 8
    assert all(
        language == ("fr" if user % 2 else "en")
        for (_, user), language in results.items()
    )
    assert {readers.cached(f"U{user}") for user in range(8)} == {"fr", "en"}


def test_warming_reads_every_locale_once_so_acks_know_them(
    fake_slack: FakeSlack,
) -> None:
    fake_slack.state.locales = {"UFR": "fr-FR", "UUS": "en-US", "UDE": "de-DE"}
    readers = languages(fake_slack)
    assert readers.start_warming().join(timeout=5) is None
    assert (readers.cached("UFR"), readers.cached("UUS")) == ("fr", "en")
    assert readers.cached("UDE") is None  # no catalog: asked (and defaulted) later
    assert readers.without_lookup("UFR").language == "fr"
    assert readers.without_lookup("UNEW").language == "en"
    (call,) = fake_slack.calls("users.list")
    assert call.args["include_locale"] in ("1", "true", True)
    assert fake_slack.calls("users.info") == []


def test_a_refused_warm_up_leaves_the_per_person_lookup(fake_slack: FakeSlack) -> None:
    fake_slack.state.locales = {"UFR": "fr-FR"}
    fake_slack.state.failures = {"users.list": "missing_scope"}
    readers = languages(fake_slack)
    assert readers.warm() == 0
    assert readers.language_of("UFR") == "fr"
