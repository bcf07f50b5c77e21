"""Cancelling a scheduled send in the playground, in a real browser: schedule it in the
form, press *Cancel* on its post, confirm; the post says who cancelled it and the
simulated account gets its credit back."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from playwright.sync_api import expect

from tests.browser.test_playground import channel_post


def test_a_send_scheduled_in_the_form_is_cancelled_with_its_button(page: Any) -> None:
    credit = page.locator("#credit")
    expect(credit).not_to_have_text("…")
    before = credit.inner_text()
    page.get_by_role("button", name="Send an SMS").click()
    form = page.get_by_role("dialog", name="Send an SMS")
    form.get_by_role("textbox", name="Recipients").fill("bob")
    form.get_by_role("textbox", name="Message").fill("Maintenance at midnight")
    # The browser's local time, as the picker reads it: an hour from now.
    later = datetime.now() + timedelta(hours=1)
    form.get_by_label("Send at").fill(later.strftime("%Y-%m-%dT%H:%M"))
    form.get_by_role("button", name="Send", exact=True).click()
    expect(form).to_contain_text("Sending to 1 recipient")
    form.get_by_role("button", name="Close", exact=True).last.click()

    post = channel_post(page, "SMS scheduled for")
    expect(credit).not_to_have_text(before)  # the scheduled SMS was paid for
    expect(post).to_contain_text(re.compile(r"sms_[0-9a-f]{6,}"))
    post.get_by_role("button", name="Cancel", exact=True).click()
    ask = page.get_by_role("alertdialog")
    expect(ask).to_contain_text("Cancel this SMS?")
    ask.get_by_role("button", name="Cancel the SMS").click()

    cancelled = channel_post(page, "Scheduled SMS cancelled")
    expect(cancelled).to_contain_text("Cancelled by")
    expect(cancelled.get_by_role("button", name="Cancel", exact=True)).to_have_count(0)
    expect(page.get_by_role("log", name="Messages", exact=True)).to_contain_text(
        "will not go out"
    )
    # The simulator gave the credit back: the campaign will never be sent.
    expect(credit).to_have_text(before)
