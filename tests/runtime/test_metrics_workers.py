"""Real gunicorn with two workers: ``/metrics`` adds every worker up, the multiprocess
directory is cleaned at start, and a worker's counts survive its restart."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import (
    CALLBACK_TOKEN,
    OCTOPUSH_KEY,
    SIGNING_SECRET,
    SLACK_BOT_TOKEN,
)
from tests.fakes.slack import FakeSlack

TOKEN = "metrics-SECRET-token-5678"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def metrics_dir(tmp_path: Path) -> Path:
    path = tmp_path / "metrics"
    path.mkdir()
    (path / "counter_99999.db").write_bytes(b"stale garbage from a previous run")
    return path


@pytest.fixture
def gunicorn(tmp_path: Path, fake_slack: FakeSlack, metrics_dir: Path) -> Iterator[str]:
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("OCTOPUSH_", "SLACK_", "SMS_", "PROMETHEUS_"))
    }
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
        OCTOPUSH_CALLBACK_TOKEN=CALLBACK_TOKEN,
        SMS_METRICS_TOKEN=TOKEN,
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
    )
    argv = [
        sys.executable,
        "-m",
        "gunicorn",
        "--config",
        "python:bot.runtime.gunicorn_conf",
        "--workers",
        "2",
        "--bind",
        f"127.0.0.1:{port}",
        "bot.runtime.web:application()",
    ]
    with open(tmp_path / "gunicorn.log", "wb") as log:
        proc = subprocess.Popen(
            argv, env=env, cwd=tmp_path, stdout=log, stderr=log, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError((tmp_path / "gunicorn.log").read_text())
            time.sleep(0.1)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


def refused_callbacks(url: str) -> float:
    response = requests.get(
        f"{url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
    )
    assert response.status_code == 200, response.text
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            if sample.name == "smsbot_callbacks_total" and sample.labels == {
                "kind": "refused"
            }:
                return sample.value
    return 0.0


def worker_pids(metrics_dir: Path) -> set[int]:
    return {int(path.stem.split("_")[-1]) for path in metrics_dir.glob("counter_*.db")}


def test_two_workers_add_up_and_a_restarted_worker_keeps_its_counts(
    gunicorn: str, metrics_dir: Path
) -> None:
    assert 99999 not in worker_pids(metrics_dir)  # cleaned at start
    sent = 0
    while len(worker_pids(metrics_dir)) < 2 and sent < 400:
        # A new connection each time, so either worker may take it.
        with requests.Session() as session:
            session.post(f"{gunicorn}/octopush/callback/wrong", data=b"{}", timeout=5)
        sent += 1
    pids = worker_pids(metrics_dir)
    assert len(pids) == 2, f"one worker took all {sent} requests"
    assert refused_callbacks(gunicorn) == sent

    stopped = min(pids)
    os.kill(stopped, signal.SIGTERM)  # gunicorn starts a new worker in its place
    # Requests until the new worker has counted too (its own file): it has replaced
    # the stopped one, whose counts must still be added up.
    deadline = time.monotonic() + 30
    while not worker_pids(metrics_dir) - pids:
        assert time.monotonic() < deadline, "no new worker in the stopped one's place"
        with requests.Session() as session:
            session.post(f"{gunicorn}/octopush/callback/wrong", data=b"{}", timeout=5)
        sent += 1
        time.sleep(0.05)
    assert stopped in worker_pids(metrics_dir)
    assert refused_callbacks(gunicorn) == sent
