"""The playground's *Home* entry: the App Home the bot published, live, for whoever you are."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.browser.test_playground import type_command


def open_home(page: Any) -> Any:
    page.get_by_role("button", name="🏠 Home").click()
    return page.get_by_role("region", name="Home")


def test_the_home_shows_rotations_and_an_open_page_and_acknowledge_clears_it(
    page: Any,
) -> None:
    home = open_home(page)
    expect(home).to_contain_text("Rotations")
    expect(home).to_contain_text("db-oncall")
    expect(home).to_contain_text("No open page.")
    expect(home).to_contain_text("You have sent no SMS yet.")
    expect(
        page.get_by_role("main").get_by_role("textbox", name="Message")
    ).to_be_hidden()

    page.get_by_role("button", name="# ops").click()
    type_command(page, "/sms page db-oncall Database unreachable")
    expect(page.get_by_role("log", name="Messages", exact=True)).to_contain_text(
        "Database unreachable"
    )

    home = open_home(page)
    expect(home).to_contain_text("Database unreachable")
    home.get_by_role("button", name="Acknowledge").click()
    expect(home).to_contain_text("No open page.", timeout=20_000)
    expect(home.get_by_role("button", name="Acknowledge")).to_have_count(0)


def test_the_home_follows_who_you_are_and_your_sends(page: Any) -> None:
    type_command(page, "/sms @bob Server db-1 is down")
    expect(page.get_by_role("log", name="Messages", exact=True)).to_contain_text(
        "Ticket"
    )
    home = open_home(page)
    expect(home).to_contain_text("Your last sends")
    expect(home).to_contain_text("+33 6 •• •• •• 02")
    expect(home).not_to_contain_text("+33600000002")

    page.get_by_label("You are").select_option("U0CAROL")
    home = page.get_by_role("region", name="Home")
    expect(home).to_contain_text("You have sent no SMS yet.", timeout=20_000)
