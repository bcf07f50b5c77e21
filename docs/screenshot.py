"""Retake docs/playground.png: a quick send, then a page acknowledged by SMS.

Run ``sms-bot playground`` first, then ``python docs/screenshot.py http://127.0.0.1:3000/``
(headless Chromium through Playwright, with the system browser).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from playwright.sync_api import expect, sync_playwright


def main(url: str) -> None:
    browser_path = shutil.which("chromium") or shutil.which("google-chrome")
    if browser_path is None:
        raise SystemExit("no Chromium found: apt-get install chromium")
    out = Path(__file__).with_name("playground.png")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=browser_path)
        page = browser.new_page(viewport={"width": 1400, "height": 860})
        page.goto(url)
        composer = page.get_by_role("main").get_by_role("textbox", name="Message")
        composer.fill("/sms @bob Deploy of api-2 starts at 18:00")
        composer.press("Enter")
        bob = page.get_by_role("region", name="Phone +33600000002")
        expect(bob.get_by_role("log")).to_contain_text("· delivered", timeout=15_000)
        composer.fill("/sms page db-oncall Database db-1 unreachable")
        composer.press("Enter")
        alice = page.get_by_role("region", name="Phone +33600000001")
        expect(alice).to_contain_text("db-1 unreachable", timeout=15_000)
        expect(alice.get_by_role("log")).to_contain_text("· delivered", timeout=15_000)
        alice.get_by_role("textbox", name="Reply").fill("ACK on my way")
        alice.get_by_role("button", name="Send reply").click()
        thread = page.get_by_role("group", name="Thread").last
        expect(thread).to_contain_text("Acknowledged", timeout=15_000)
        page.wait_for_timeout(500)
        page.get_by_role("log", name="Messages", exact=True).evaluate(
            "box => box.scrollTop = box.scrollHeight"
        )
        page.screenshot(path=str(out))
        browser.close()
    print(out)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:3000/")
