"""The gunicorn configuration reads the settings when a run starts, not when imported."""

from __future__ import annotations

import importlib
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import requests
from gunicorn.config import Config

from bot.runtime import gunicorn_conf
from tests.conftest import OCTOPUSH_KEY, SIGNING_SECRET, SLACK_BOT_TOKEN
from tests.fakes.slack import FakeSlack

ROOT = Path(__file__).resolve().parents[2]


def a_master() -> Any:
    """What ``on_starting`` gets from gunicorn: the arbiter, holding the config."""
    return SimpleNamespace(cfg=Config())


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith(("OCTOPUSH_", "SLACK_", "SMS_")) or name in (
            "PORT",
            "DATABASE_URL",
        ):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no developer .env
    # on_starting prepares the metrics directory in os.environ: restored after the test.
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "metrics"))


def test_importing_the_config_reads_no_settings(
    clean_environment: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PORT", "not-a-port")
    module = importlib.reload(gunicorn_conf)  # used to exit here
    assert module.workers == 1
    assert not hasattr(module, "bind")


def test_starting_a_run_binds_the_port_from_the_settings(
    clean_environment: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMS_DEFAULT_REGION", "BE")  # any setting: read, not imported
    server = a_master()
    gunicorn_conf.on_starting(server)
    assert server.cfg.bind == ["0.0.0.0:3000"]  # the settings' default PORT
    monkeypatch.setenv("PORT", "8123")
    gunicorn_conf.on_starting(server := a_master())
    assert server.cfg.bind == ["0.0.0.0:8123"]


def test_a_bind_on_the_command_line_still_wins(clean_environment: None) -> None:
    server = a_master()
    server.cfg.set("bind", ["127.0.0.1:9999"])
    gunicorn_conf.on_starting(server)
    assert server.cfg.bind == ["127.0.0.1:9999"]


def test_starting_a_run_with_bad_settings_stops_naming_them(
    clean_environment: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("SMS_RATE_LIMIT", "lots")
    server = a_master()
    default_bind = server.cfg.bind
    with pytest.raises(SystemExit) as exc_info:
        gunicorn_conf.on_starting(server)
    assert exc_info.value.code == 2
    assert server.cfg.bind == default_bind
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "sms-bot: settings are missing or malformed:"
    assert any(line.strip().startswith("SMS_RATE_LIMIT:") for line in lines[1:])
    assert "Traceback" not in "\n".join(lines)


def test_bad_settings_are_reported_in_the_terminals_language(
    clean_environment: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("SMS_RATE_LIMIT", "lots")
    monkeypatch.setenv("LANG", "fr_FR.UTF-8")
    for name in ("LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(SystemExit):
        gunicorn_conf.on_starting(a_master())
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "sms-bot: des réglages manquent ou sont mal formés :"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _procfile_command() -> list[str]:
    (line,) = [
        text
        for text in (ROOT / "Procfile").read_text().splitlines()
        if text.strip()
        and not text.startswith("#")  # comments: Procfile readers skip them
    ]
    kind, _, command = line.partition(":")
    assert kind == "web"
    words = shlex.split(command)
    assert words[0] == "gunicorn"
    return [sys.executable, "-m", "gunicorn", *words[1:]]


def test_the_procfile_command_serves_on_the_settings_port(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    port = _free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("OCTOPUSH_", "SLACK_", "SMS_"))
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    env.update(
        HOME=str(tmp_path),
        PORT=str(port),
        DATABASE_URL=f"sqlite:///{tmp_path}/audit.db",
        SLACK_BOT_TOKEN=SLACK_BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=fake_slack.api_url,
        OCTOPUSH_API_LOGIN="ops@example.com",
        OCTOPUSH_API_KEY=OCTOPUSH_KEY,
        OCTOPUSH_BASE_URL="http://127.0.0.1:9/v1/public",
        PYTHONPATH=str(ROOT),
    )
    process = subprocess.Popen(
        _procfile_command(),
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        health = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and process.poll() is None:
            try:
                health = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except requests.ConnectionError:
                time.sleep(0.2)
        assert health is not None, f"gunicorn did not answer on {port}"
        assert health.status_code == 200
        assert health.json()["audit_store"] == "ok"
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            _, errors = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            _, errors = process.communicate()
    assert process.returncode == 0, errors


def test_the_procfile_command_stops_on_bad_settings(tmp_path: Path) -> None:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("OCTOPUSH_", "SLACK_", "SMS_"))
    }
    env.update(SMS_RATE_LIMIT="lots", PYTHONPATH=str(ROOT))
    result = subprocess.run(
        _procfile_command(),
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "sms-bot: settings are missing or malformed:" in result.stderr
    assert "  SMS_RATE_LIMIT:" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_and_the_procfile_read_the_same_values() -> None:
    for name, value in gunicorn_conf.OPTIONS.items():
        assert getattr(gunicorn_conf, name) == value, name
