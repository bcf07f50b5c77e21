"""The Slack lookup cache: one load per key however many threads miss it; expiry; size."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from slack_sdk import WebClient

from bot.errors import InputError
from bot.slack.lookup_cache import LookupCache
from bot.slack.people import ProfilePhones, UsergroupMembers
from tests.fakes.slack import FakeSlack

THREADS = 12


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def together(count: int, work: Any) -> list[Any]:
    """Run ``work()`` on ``count`` threads released at the same instant."""
    start = threading.Barrier(count)

    def run() -> Any:
        start.wait()
        return work()

    with ThreadPoolExecutor(count) as pool:
        futures = [pool.submit(run) for _ in range(count)]
        return [future.result(timeout=10) for future in futures]


def test_simultaneous_misses_for_one_key_load_once() -> None:
    cache: LookupCache[str] = LookupCache(ttl_seconds=60)
    loads: list[int] = []

    def load() -> str:
        loads.append(1)
        time.sleep(0.3)  # long enough for every thread to miss meanwhile
        return "value"

    results = together(THREADS, lambda: cache.get("U1", load))
    assert results == ["value"] * THREADS
    assert len(loads) == 1


def test_misses_for_different_keys_load_in_parallel() -> None:
    cache: LookupCache[str] = LookupCache(ttl_seconds=60)
    keys = iter(range(THREADS))
    lock = threading.Lock()
    # Every load waits until all of them are running: loads taken one after the other
    # (one lock for every key) would break the barrier instead.
    all_loading = threading.Barrier(THREADS, timeout=5)

    def load(key: str) -> str:
        all_loading.wait()
        return key

    def one() -> str:
        with lock:
            key = str(next(keys))
        return cache.get(key, lambda: load(key))

    results = together(THREADS, one)
    assert sorted(results, key=int) == [str(i) for i in range(THREADS)]


def test_a_failed_load_reaches_every_waiter_and_is_not_cached() -> None:
    cache: LookupCache[str] = LookupCache(ttl_seconds=60)
    calls: list[int] = []

    def failing() -> str:
        calls.append(1)
        time.sleep(0.2)
        raise InputError("recipients", "no such person")

    def attempt() -> str:
        try:
            return cache.get("U1", failing)
        except InputError as error:
            return f"error: {error.message}"

    assert together(4, attempt) == ["error: no such person"] * 4
    assert len(calls) == 1
    assert cache.get("U1", lambda: "found now") == "found now"


def test_entries_expire_after_the_ttl() -> None:
    clock = Clock()
    cache: LookupCache[str] = LookupCache(ttl_seconds=300, clock=clock)
    assert cache.get("U1", lambda: "first") == "first"
    clock.now += 299
    assert cache.get("U1", lambda: "second") == "first"
    clock.now += 2
    assert cache.get("U1", lambda: "second") == "second"


def test_expired_entries_are_dropped_and_the_size_is_bounded() -> None:
    clock = Clock()
    cache: LookupCache[int] = LookupCache(ttl_seconds=10, maxsize=3, clock=clock)
    for number in range(5):
        cache.get(f"U{number}", lambda n=number: n)
    assert len(cache) == 3  # the oldest two were evicted
    assert cache.get("U0", lambda: -1) == -1  # U0 is gone: loaded again
    clock.now += 11
    assert len(cache) == 0  # nothing outlives its ttl, even unread


@pytest.fixture
def slack_client(fake_slack: FakeSlack) -> WebClient:
    return WebClient(token="xoxb-test", base_url=fake_slack.api_url)


def test_a_burst_of_mentions_of_one_person_costs_one_profile_call(
    fake_slack: FakeSlack, slack_client: WebClient
) -> None:
    fake_slack.state.profiles["U1"] = {"real_name": "Alice", "phone": "+33612345678"}
    fake_slack.state.stalls["users.profile.get"] = 0.3
    phones = ProfilePhones(slack_client)
    results = together(THREADS, lambda: phones.resolve("<@U1>"))
    assert results == [["+33612345678"]] * THREADS
    assert len(fake_slack.calls("users.profile.get")) == 1


def test_a_group_asked_by_many_threads_is_listed_once(
    fake_slack: FakeSlack, slack_client: WebClient
) -> None:
    fake_slack.state.usergroups["S1"] = ["U1", "U2"]
    fake_slack.state.stalls["usergroups.users.list"] = 0.3
    groups = UsergroupMembers(slack_client)
    results = together(THREADS, lambda: groups.members("S1"))
    assert results == [frozenset({"U1", "U2"})] * THREADS
    assert len(fake_slack.calls("usergroups.users.list")) == 1
