"""Browser tests: the playground, started as a person starts it, driven in headless
Chromium through Playwright with the system browser (never a downloaded one)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def system_chromium() -> str | None:
    """The system's Chromium (``PLAYWRIGHT_CHROMIUM`` wins), or None."""
    explicit = os.environ.get("PLAYWRIGHT_CHROMIUM")
    if explicit:
        return explicit
    return next((path for name in BROWSERS if (path := shutil.which(name))), None)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip(
        "playwright.sync_api",
        reason="Playwright is not installed (pip install -e '.[dev]')",
    )
    executable = system_chromium()
    if executable is None:
        reason = (
            "no Chromium found: install Debian's chromium (apt-get install chromium)"
        )
        if os.environ.get("REQUIRE_BROWSER_TESTS"):
            pytest.fail(reason)  # CI installs it: a missing browser is a broken CI
        pytest.skip(reason)
    sync_api.expect.set_options(timeout=15_000)
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, headless=True)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def playground_argv() -> list[str]:
    """How the playground is started (a test module may override this fixture)."""
    return [sys.executable, "-m", "bot", "playground", "--port", "0"]


@pytest.fixture
def playground_url(tmp_path: Path, playground_argv: list[str]) -> Iterator[str]:
    """``sms-bot playground --port 0`` in an empty folder, with no settings at all."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("SLACK_", "OCTOPUSH_", "SMS_"))
    }
    process = subprocess.Popen(
        playground_argv,
        cwd=tmp_path,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert "open http://127.0.0.1:" in first, first + process.stderr.read()
        url = first.split("open ", 1)[1].strip()
        deadline = time.monotonic() + 30
        while requests.get(f"{url}healthz", timeout=5).status_code != 200:
            assert time.monotonic() < deadline, "the playground did not become healthy"
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


@pytest.fixture
def page(browser: Any, playground_url: str) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    opened.goto(playground_url)
    try:
        yield opened
    finally:
        context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"
