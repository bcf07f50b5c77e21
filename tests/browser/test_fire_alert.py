"""*Fire an alert* in a real browser: Alertmanager's webhook becomes a page post and an
SMS; ACK from the phone acknowledges it; *Resolve it* texts RESOLVED."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from bot.playground.alerts import SUMMARY


def test_fire_an_alert_pages_by_sms_ack_by_reply_and_the_resolve_texts_resolved(
    page: Any,
) -> None:
    page.get_by_role("button", name="Fire an alert").click()
    expect(page.locator("#alert-answer")).to_contain_text("HTTP 200")
    post = (
        page.get_by_role("log", name="Messages", exact=True)
        .locator("article:not(.ephemeral)")
        .filter(has_text=SUMMARY)
        .first
    )
    expect(post).to_be_visible()
    phones = page.get_by_role("region", name=re.compile(r"^Phone \+"))
    phone = phones.filter(has_text=SUMMARY)
    expect(phone).to_have_count(1)  # the member on call, only
    expect(phone).to_contain_text(SUMMARY)

    phone.get_by_role("textbox", name="Reply").fill("ACK")
    phone.get_by_role("button", name="Send reply").click()
    expect(post).to_contain_text(re.compile("acknowledged", re.IGNORECASE))

    page.get_by_role("button", name="Resolve it").click()
    expect(page.locator("#alert-answer")).to_contain_text("resolve")
    expect(phone).to_contain_text("RESOLVED")
    expect(post).to_contain_text(re.compile("resolved", re.IGNORECASE))
