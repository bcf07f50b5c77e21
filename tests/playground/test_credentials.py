"""Real credentials in the environment or in .env are never used by the playground."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from pytest_httpserver import HTTPServer

from bot.playground.app import Playground
from tests.playground.conftest import Running, wait_for

REAL = {
    "SLACK_BOT_TOKEN": "xoxb-REAL-production-token",
    "SLACK_SIGNING_SECRET": "REAL-signing-secret",
    "SLACK_APP_TOKEN": "xapp-REAL-app-token",
    "SLACK_CLIENT_ID": "REAL.client",
    "SLACK_CLIENT_SECRET": "REAL-client-secret",
    "OCTOPUSH_API_LOGIN": "ops@real.example",
    "OCTOPUSH_API_KEY": "REAL-octopush-key",
    "SMS_ALLOWED_CHANNELS": "CREALONLY",
}


def _trap(httpserver: HTTPServer) -> dict[str, str]:
    """Real-looking settings that point at a server that must see no request."""
    httpserver.expect_request("").respond_with_json({"ok": True})
    return {
        **REAL,
        "SLACK_API_URL": httpserver.url_for("/api/"),
        "OCTOPUSH_BASE_URL": httpserver.url_for("/v1/public"),
        "DATABASE_URL": "sqlite:///real-production.db",
    }


def test_environment_and_dotenv_credentials_are_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, httpserver: HTTPServer
) -> None:
    trap = _trap(httpserver)
    for name, value in trap.items():
        monkeypatch.setenv(name, value)
    (tmp_path / ".env").write_text(
        "".join(f"{name}={value}\n" for name, value in trap.items())
        + "SMS_DEFAULT_SENDER=RealCorp\n"
    )
    monkeypatch.chdir(tmp_path)
    before = dict(os.environ)
    playground = Playground(port=0, workdir=tmp_path, receipt_delay=0.1)
    started = playground.start()
    try:
        running = Running(playground, started)
        running.ui("message", user="U0ALICE", channel="C0OPS", text="/sms @bob hi")
        phone = wait_for(lambda: running.state()["phones"])
        assert phone[0]["messages"][0]["sender"] == "Playground"
        assert os.environ.get("SLACK_CLIENT_ID") is None
    finally:
        playground.stop()
    assert httpserver.log == []
    assert set(REAL) | {"SMS_DEFAULT_SENDER", "DATABASE_URL"} <= set(started.ignored)
    assert started.audit_file == tmp_path / "sms-bot.db"
    assert not (tmp_path / "real-production.db").exists()
    assert dict(os.environ) == before


def test_the_command_says_what_it_ignores_and_never_prints_secrets(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    environment = {**os.environ, **_trap(httpserver)}
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "playground", "--port", "0"],
        cwd=tmp_path,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith("sms-bot playground: open http://127.0.0.1:"), first
        url = first.split("open ", 1)[1].strip()
        lines = [process.stdout.readline() for _ in range(4)]
        ignored = next(line for line in lines if line.strip().startswith("Ignored"))
        for name in ("SLACK_BOT_TOKEN", "OCTOPUSH_API_KEY", "SLACK_SIGNING_SECRET"):
            assert name in ignored
        deadline = time.monotonic() + 20
        while requests.get(f"{url}healthz", timeout=5).status_code != 200:
            assert time.monotonic() < deadline
            time.sleep(0.1)
    finally:
        process.terminate()
        out, err = process.communicate(timeout=30)
    shown = "".join(lines) + out + err
    for value in REAL.values():
        assert value not in shown
    assert process.returncode == 0
    assert httpserver.log == []


def test_a_busy_port_is_a_clear_message(tmp_path: Path, running: Running) -> None:
    port = running.base.rsplit(":", 1)[1]
    done = subprocess.run(
        [sys.executable, "-m", "bot", "playground", "--port", port],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
    assert "Traceback" not in done.stderr
