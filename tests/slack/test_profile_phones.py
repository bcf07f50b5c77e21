"""A Slack profile phone is read in its owner's country (issue 19 item 3).

Signed ``/sms`` requests in, the fake Slack (``users.profile.get``, ``users.info`` with
``tz``) and the fake Octopush out, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pytest_httpserver import HTTPServer

from bot.domain import AuditStatus
from tests.conftest import SENT, SlackHarness
from tests.slack.listeners.test_commands import all_text, finished, octopush_bodies

SEND_PATH = "/v1/public/sms-campaign/send"
CAROL = "<@UCAROL|carol> Rack 4 is on fire"


@pytest.fixture
def harness(
    make_harness: Callable[..., SlackHarness], database_url: str, httpserver: HTTPServer
) -> SlackHarness:
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_json(
        SENT, status=201
    )
    return make_harness(database_url=database_url)


def carol(harness: SlackHarness, phone: str, tz: str | None) -> None:
    harness.slack.state.profiles["UCAROL"] = {
        "display_name": "carol",
        "real_name": "Carol Weber",
        "phone": phone,
    }
    if tz is not None:
        harness.slack.state.timezones["UCAROL"] = tz


def sent_numbers(httpserver: HTTPServer) -> list[list[str]]:
    return [
        [r["phone_number"] for r in body["recipients"]]
        for body in octopush_bodies(httpserver)
    ]


def test_a_national_profile_phone_is_read_in_the_owners_time_zone_country(
    harness: SlackHarness, httpserver: HTTPServer
) -> None:
    carol(harness, "079 123 45 67", "Europe/Zurich")  # SMS_DEFAULT_REGION is FR
    harness.command(CAROL)
    (record,) = finished(harness)
    assert record.status is AuditStatus.SENT
    assert sent_numbers(httpserver) == [["+41791234567"]]
    assert [c.args["user"] for c in harness.slack.calls("users.info")].count(
        "UCAROL"
    ) == 1


def test_one_users_info_call_gives_both_the_language_and_the_time_zone(
    harness: SlackHarness, httpserver: HTTPServer
) -> None:
    carol(harness, "079 123 45 67", "Europe/Zurich")
    harness.slack.state.locales["UCAROL"] = "fr-CH"
    harness.command(f"{CAROL} (to myself)", user="UCAROL")
    (record,) = finished(harness)
    assert record.status is AuditStatus.SENT
    assert sent_numbers(httpserver) == [["+41791234567"]]
    # Her answers' language and her phone's country: one cached call.
    (info,) = harness.slack.calls("users.info")
    assert info.args["user"] == "UCAROL"


def test_after_the_warm_up_a_national_profile_phone_costs_no_users_info_call(
    harness: SlackHarness, httpserver: HTTPServer
) -> None:
    carol(harness, "079 123 45 67", "Europe/Zurich")
    harness.slack.state.locales = {"U1": "en-US", "UCAROL": "fr-CH"}
    languages = harness.stack.languages
    assert languages is not None
    languages.warm()  # serve does it at start (users.list)
    harness.command(CAROL)
    (record,) = finished(harness)
    assert record.status is AuditStatus.SENT
    assert sent_numbers(httpserver) == [["+41791234567"]]
    assert harness.slack.calls("users.info") == []


def test_a_profile_phone_with_a_country_code_is_read_as_written(
    harness: SlackHarness, httpserver: HTTPServer
) -> None:
    carol(harness, "+41 79 123 45 67", None)  # no time zone needed
    harness.command(CAROL)
    (record,) = finished(harness)
    assert record.status is AuditStatus.SENT
    assert sent_numbers(httpserver) == [["+41791234567"]]


@pytest.mark.parametrize(
    ("phone", "tz", "advice"),
    [
        # Slack gives no time zone: the country is unknown.
        ("079 123 45 67", None, "(+ then the country code)"),
        # UTC is no country's zone.
        ("079 123 45 67", "UTC", "(+ then the country code)"),
        # A French mobile written nationally by someone in New York: not a US number.
        ("06 12 34 56 78", "America/New_York", "(+1 …)"),
    ],
)
def test_a_profile_phone_that_cannot_be_read_for_sure_is_refused_naming_the_person(
    harness: SlackHarness, httpserver: HTTPServer, phone: str, tz: str, advice: str
) -> None:
    carol(harness, phone, tz)
    harness.command(CAROL)
    (reply,) = harness.webhooks()
    assert reply["response_type"] == "ephemeral"
    text = all_text(reply)
    assert "@carol" in text
    assert "country code" in text and advice in text
    assert "in their Slack profile" in text
    assert "SMS_DEFAULT_REGION" not in text
    (record,) = finished(harness)
    assert record.status is AuditStatus.REJECTED
    assert "@carol" in (record.error_message or "")
    assert httpserver.log == []
    assert harness.slack.calls("chat.postMessage") == []


def test_a_time_zone_slack_does_not_give_refuses_the_national_phone(
    harness: SlackHarness, httpserver: HTTPServer
) -> None:
    carol(harness, "079 123 45 67", "Europe/Zurich")
    harness.slack.state.failures["users.info"] = "ratelimited"
    harness.command(CAROL)
    (reply,) = harness.webhooks()
    assert "Could not read the Slack time zone of UCAROL" in all_text(reply)
    (record,) = finished(harness)
    assert record.status is AuditStatus.REJECTED
    assert httpserver.log == []


def test_a_profile_phone_with_a_country_code_that_is_not_valid_is_refused(
    harness: SlackHarness, httpserver: HTTPServer
) -> None:
    carol(harness, "+41 79 123", "Europe/Zurich")
    harness.command(CAROL)
    (reply,) = harness.webhooks()
    assert "Slack profile of @carol is not a valid number" in all_text(reply)
    (record,) = finished(harness)
    assert record.status is AuditStatus.REJECTED
    assert httpserver.log == []
