"""The App Home names the alert behind an open page (issue 21: "and, once alerts exist,
their source"); a page started from Slack names none."""

from __future__ import annotations

import json
from collections.abc import Callable

from tests.alerts.conftest import am_payload, post_alert
from tests.conftest import SlackHarness
from tests.paging.conftest import FakeOctopush


def test_the_home_names_the_integration_of_an_alert_page(
    start: Callable[..., SlackHarness], octopush: FakeOctopush
) -> None:
    harness = start()
    assert post_alert(harness, am_payload()).status_code == 200
    harness.settle()
    harness.command("page db-oncall typed in Slack", user="U1")
    harness.settle()
    home = harness.stack.home
    assert home is not None

    view = json.dumps(home.view_for("U1"), ensure_ascii=False)

    assert view.count("alert from *prometheus*") == 1  # the alert's page only
    assert "typed in Slack" in view
    assert len(octopush.bodies) == 2
