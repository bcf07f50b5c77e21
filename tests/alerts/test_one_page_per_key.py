"""Issue 20, item 3: two instances on one database receiving the same alert at once
open one page (the alert key's compare-and-set), on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable

from tests.alerts.conftest import FakeOctopush, am_payload, post_alert
from tests.alerts.test_hooks import page_rows, stored_events
from tests.conftest import SlackHarness


def test_two_instances_receiving_the_same_alert_at_once_open_one_page(
    start: Callable[..., SlackHarness], octopush: FakeOctopush
) -> None:
    first, second = start(), start()
    go = threading.Barrier(8)
    answers: list[int] = []

    def send(harness: SlackHarness) -> None:
        go.wait()
        answers.append(post_alert(harness, am_payload()).status_code)

    threads = [threading.Thread(target=send, args=(h,)) for h in [first, second] * 4]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    first.settle()
    second.settle()
    assert answers == [200] * 8
    assert len(page_rows(first)) == 1
    assert len(octopush.bodies) == 1
    outcomes = sorted(str(e["outcome"]) for e in stored_events(first))
    assert outcomes == ["deduplicated"] * 7 + ["opened"]
