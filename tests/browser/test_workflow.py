"""*Run workflow* in the playground: the app's Workflow Builder steps, run from the page
through a signed ``function_executed`` event, show their outputs and their post."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.browser.test_playground import channel_post

DAVE = "Phone +33600000004"
ALICE = "Phone +33600000001"


def workflow(page: Any) -> Any:
    panel = page.get_by_role("navigation").locator("details.wf-panel")
    panel.get_by_text("Run workflow").click()
    return panel


def last_run(page: Any, step: str) -> Any:
    return (
        page.get_by_role("list", name="Workflow runs")
        .locator(f'li[data-step="{step}"]')
        .first
    )


def test_send_sms_step_shows_its_outputs_the_post_and_the_phone_gets_it(
    page: Any,
) -> None:
    panel = workflow(page)
    expect(panel.get_by_label("To")).to_have_value("dave")
    panel.get_by_label("Message").fill("Backup of db-1 failed")
    panel.get_by_role("button", name="Run").click()

    run = last_run(page, "send_sms")
    expect(run.locator(".wf-state")).to_have_text("completed")
    outputs = run.locator(".wf-outputs")
    expect(outputs).to_contain_text(re.compile(r"ticket\s*sms_[0-9a-f]{6,}"))
    expect(outputs).to_contain_text(re.compile(r"sms_count\s*1"))
    expect(outputs).to_contain_text(re.compile(r"status\s*sent"))
    expect(outputs).to_contain_text("cost")
    post = channel_post(page, "Ticket")
    expect(post).to_contain_text(re.compile(r"sms_[0-9a-f]{6,}"))
    expect(page.get_by_role("region", name=DAVE)).to_contain_text(
        "Backup of db-1 failed"
    )


def test_page_oncall_step_fills_the_rotation_menu_and_pages_the_rotation(
    page: Any,
) -> None:
    panel = workflow(page)
    panel.get_by_label("Step").select_option(label="Page on-call")
    rotation = panel.get_by_label("Rotation")
    expect(rotation.locator("option")).to_have_text(["db-oncall"])
    panel.get_by_label("Message").fill("Replication lag 10 min")
    panel.get_by_role("button", name="Run").click()

    run = last_run(page, "page_oncall")
    expect(run.locator(".wf-state")).to_have_text("completed")
    expect(run.locator(".wf-outputs")).to_contain_text(re.compile(r"page\s*\d+"))
    expect(run.locator(".wf-outputs")).to_contain_text(re.compile(r"paged\s*alice"))
    expect(page.get_by_role("region", name=ALICE)).to_contain_text(
        "Replication lag 10 min"
    )
    post = channel_post(page, "Page for db-oncall")
    expect(post.get_by_role("button", name="Acknowledge")).to_be_visible()


def test_a_requester_not_allowed_to_send_sees_the_step_fail_in_plain_words(
    page: Any,
) -> None:
    page.get_by_label("You are").select_option(
        label="Carol Petit (not allowed to send)"
    )
    panel = workflow(page)
    panel.get_by_role("button", name="Run").click()

    run = last_run(page, "send_sms")
    expect(run.locator(".wf-state")).to_have_text("failed")
    expect(run.get_by_role("alert")).to_contain_text("Nothing was sent")
    expect(run.get_by_role("alert")).not_to_contain_text("SMS_")
    expect(page.get_by_role("region", name=re.compile("^Phone"))).to_have_count(0)
