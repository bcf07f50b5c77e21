"""The playground draws messages as Slack would, in a real browser.

A ``#ops`` mention stays on its line, ``*bold*…`` is bold, hidden labels do not make the
page taller than the window, a reply that lands in an older thread out of view is
announced (an unread mark and a "show it" button), and a phone that just got an SMS
comes first.
"""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.browser.test_playground import channel_post, type_command


def test_a_channel_mention_stays_on_its_line(page: Any) -> None:
    type_command(page, "deploy in #ops today, ask @bob first")
    message = channel_post(page, "deploy in")
    mention = message.locator(".mention.channel")
    expect(mention).to_have_text("#ops")
    text = message.locator(".bk-text").first
    mention_box, text_box = mention.bounding_box(), text.bounding_box()
    assert mention_box is not None and text_box is not None
    line = float(text.evaluate("e => parseFloat(getComputedStyle(e).lineHeight)"))
    assert text_box["height"] < 1.5 * line  # one line: nothing broke it
    assert abs(mention_box["y"] - text_box["y"]) < line / 2
    assert mention.evaluate("e => getComputedStyle(e).display") == "inline"


def test_bold_right_before_an_ellipsis_is_bold(page: Any) -> None:
    type_command(page, "then *bold*… and *also*' and “*quoted*” done")
    message = channel_post(page, "then")
    expect(message.locator("b")).to_have_text(["bold", "also", "quoted"])
    expect(message).not_to_contain_text("*")


def test_hidden_labels_do_not_make_the_page_taller_than_the_window(page: Any) -> None:
    phones = page.get_by_role("region", name=re.compile("^Phone"))
    for n in range(10, 16, 2):  # 2 a send: more asks for a confirmation (above 3 SMS)
        type_command(page, f"/sms +336000000{n}, +336000000{n + 1} Drill")
        expect(phones).to_have_count(n - 8)
    heights = page.evaluate(
        "() => [document.documentElement.scrollHeight, window.innerHeight,"
        " document.documentElement.scrollWidth, window.innerWidth]"
    )
    assert heights[0] <= heights[1] and heights[2] <= heights[3], heights


def test_a_reply_in_an_older_thread_out_of_view_is_announced(page: Any) -> None:
    page.get_by_label("Delivery receipts").select_option(
        label="None (use the phone's buttons)"
    )
    type_command(page, "/sms @bob Server db-1 is down")
    post = channel_post(page, "Server db-1 is down")
    expect(post).to_contain_text("Ticket")
    for _ in range(3):  # long answers push the post out of view
        type_command(page, "/sms help")
    log = page.get_by_role("log", name="Messages", exact=True)
    expect(log.locator("article.ephemeral")).to_have_count(4)
    phone = page.get_by_role("region", name="Phone +33600000002")
    phone.get_by_role("textbox", name="Reply").fill("on it")
    phone.get_by_role("button", name="Send reply").click()
    expect(post.get_by_role("group", name="Thread")).to_contain_text("on it")
    expect(post.locator("details.thread summary")).to_contain_text("1 new")
    notice = page.get_by_role("button", name="New reply in a thread above")
    expect(notice).to_be_visible()
    notice.click()
    expect(post.get_by_role("group", name="Thread")).to_be_in_viewport()
    expect(notice).to_be_hidden()
    expect(post.locator("details.thread summary")).not_to_contain_text("new")


def test_a_phone_that_just_got_an_sms_comes_first(page: Any) -> None:
    type_command(page, "/sms +33600000010 first")
    type_command(page, "/sms +33600000011 second")
    phones = page.get_by_role("region", name=re.compile("^Phone"))
    expect(phones).to_have_count(2)
    expect(phones.first).to_have_accessible_name("Phone +33600000010")
    type_command(page, "/sms +33600000011 third")
    expect(phones.first).to_contain_text("third")
    expect(phones.first).to_have_accessible_name("Phone +33600000011")
