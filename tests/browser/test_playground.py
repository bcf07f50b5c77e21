"""What a person sees in the playground, in a real browser."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect


def type_command(page: Any, text: str) -> None:
    composer = page.get_by_role("main").get_by_role("textbox", name="Message")
    composer.fill(text)
    composer.press("Enter")


def channel_post(page: Any, text: str) -> Any:
    """The channel message (not an ephemeral note) that contains ``text``."""
    return (
        page.get_by_role("log", name="Messages", exact=True)
        .locator("article:not(.ephemeral)")
        .filter(has_text=text)
        .first
    )


def test_a_quick_send_shows_the_post_with_ticket_and_cost_and_the_phone_shows_the_text(
    page: Any,
) -> None:
    type_command(page, "/sms @bob Server db-1 is down")
    post = channel_post(page, "Ticket")
    expect(post).to_contain_text(re.compile(r"sms_[0-9a-f]{6,}"))
    expect(post).to_contain_text("Cost")
    expect(post).to_contain_text("0.045")
    phone = page.get_by_role("region", name="Phone +33600000002")
    expect(phone).to_contain_text("Server db-1 is down")
    expect(phone).to_contain_text("From Playground")


def test_a_receipt_from_the_phone_updates_the_post(page: Any) -> None:
    page.get_by_label("Delivery receipts").select_option(
        label="None (use the phone's buttons)"
    )
    type_command(page, "/sms @bob Backup failed")
    post = channel_post(page, "Ticket")
    expect(post).to_be_visible()
    expect(post).not_to_contain_text("not delivered")
    phone = page.get_by_role("region", name="Phone +33600000002")
    phone.get_by_role("button", name="Not delivered").click()
    expect(post).to_contain_text("not delivered")
    expect(post).to_contain_text("(edited)")


def test_the_form_shows_unicode_as_an_emoji_is_typed_and_a_bad_number_under_its_field(
    page: Any,
) -> None:
    page.get_by_role("button", name="Send an SMS").click()
    form = page.get_by_role("dialog", name="Send an SMS")
    message = form.get_by_role("textbox", name="Message")
    message.press_sequentially("Disk full ")
    expect(form).to_contain_text("GSM-7")
    message.press_sequentially("🔥")
    expect(form).to_contain_text("Unicode")
    recipients = form.get_by_role("textbox", name="Recipients")
    recipients.fill("+3312")
    form.get_by_role("button", name="Send", exact=True).click()
    expect(recipients).to_have_accessible_description(
        re.compile("not a valid phone number")
    )
    expect(form).to_be_visible()
    expect(page.get_by_role("region", name=re.compile("^Phone"))).to_have_count(0)


def test_a_page_to_the_rotation_acknowledged_by_sms_shows_acknowledged_in_the_thread(
    page: Any,
) -> None:
    type_command(page, "/sms page db-oncall Database unreachable")
    phone = page.get_by_role("region", name="Phone +33600000001")  # alice's week
    expect(phone).to_contain_text("Database unreachable")
    phone.get_by_role("textbox", name="Reply").fill("ACK")
    phone.get_by_role("button", name="Send reply").click()
    thread = channel_post(page, "Page for db-oncall").get_by_role(
        "group", name="Thread"
    )
    expect(thread).to_contain_text(re.compile("acknowledged", re.IGNORECASE))
    expect(phone).to_contain_text("ACK")


def test_send_as_sms_on_a_message_opens_the_form_with_its_text(page: Any) -> None:
    type_command(page, "Printer on floor 2 is on fire")
    message = channel_post(page, "Printer on floor 2")
    message.hover()
    message.get_by_role("button", name="Send as SMS").click()
    form = page.get_by_role("dialog", name="Send an SMS")
    expect(form.get_by_role("textbox", name="Message")).to_have_value(
        "Printer on floor 2 is on fire"
    )


def test_someone_not_allowed_to_send_is_told_only_them(page: Any) -> None:
    page.get_by_label("You are").select_option(
        label="Carol Petit (not allowed to send)"
    )
    type_command(page, "/sms @bob hello")
    note = (
        page.get_by_role("log", name="Messages", exact=True)
        .locator("article.ephemeral")
        .last
    )
    expect(note).to_contain_text("Only visible to you")
    expect(note).to_contain_text("allowed")
    expect(page.get_by_role("region", name=re.compile("^Phone"))).to_have_count(0)


def test_an_ambiguous_command_asks_before_sending_and_the_answer_is_followed(
    page: Any,
) -> None:
    type_command(page, "/sms +33600000002 06 00 00 00 04 is the new on-call phone")
    question = (
        page.get_by_role("log", name="Messages", exact=True)
        .locator("article.ephemeral")
        .filter(has_text="Where does your message start?")
    )
    expect(question).to_contain_text("Only visible to you")
    expect(question.get_by_role("button", name="Send reading 1")).to_be_visible()
    expect(question.get_by_role("button", name="Open the form")).to_be_visible()
    expect(page.get_by_role("region", name=re.compile("^Phone"))).to_have_count(0)
    question.get_by_role("button", name="Send reading 2").click()
    phone = page.get_by_role("region", name="Phone +33600000002")
    expect(phone).to_contain_text("06 00 00 00 04 is the new on-call phone")
    expect(channel_post(page, "Ticket")).to_contain_text("Cost")
    expect(page.get_by_role("region", name="Phone +33600000004")).to_have_count(0)


def test_a_large_send_from_the_form_pushes_a_confirmation_and_sends_once_confirmed(
    page: Any,
) -> None:
    page.get_by_role("button", name="Send an SMS").click()
    form = page.get_by_role("dialog", name="Send an SMS")
    form.get_by_role("textbox", name="Recipients").fill("alice, bob")
    form.get_by_role("textbox", name="Message").fill("Maintenance tonight. " * 10)
    form.get_by_role("button", name="Send", exact=True).click()
    confirm = page.get_by_role("dialog", name="Confirm the send")
    expect(confirm).to_contain_text("2 recipients")
    expect(page.get_by_role("region", name=re.compile("^Phone"))).to_have_count(0)
    confirm.get_by_role("button", name="Send", exact=True).click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    for number in ("+33600000001", "+33600000002"):
        phone = page.get_by_role("region", name=f"Phone {number}")
        expect(phone).to_contain_text("Maintenance tonight.")
    expect(channel_post(page, "Ticket")).to_contain_text("Cost")
