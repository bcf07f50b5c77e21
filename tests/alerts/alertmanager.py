"""A real Prometheus Alertmanager in a child process, for tests that check how it
talks to a webhook: its config, its ``Authorization`` header, its retries and repeats."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.fakes.wsgi import serve_wsgi
from tests.runtime.served import free_port

BINARIES = ("prometheus-alertmanager", "alertmanager")


def alertmanager_binary() -> str:
    """The system's Alertmanager (``ALERTMANAGER_BINARY`` wins); skip, or fail in CI."""
    explicit = os.environ.get("ALERTMANAGER_BINARY")
    names = (explicit,) if explicit else BINARIES
    found = next((p for n in names if (p := shutil.which(n))), None)
    if found is None:
        reason = (
            "no Alertmanager found: install Debian's prometheus-alertmanager "
            "(apt-get install prometheus-alertmanager)"
        )
        if os.environ.get("REQUIRE_ALERTMANAGER_TESTS"):
            pytest.fail(reason)  # .ci/run installs it: a missing binary is a broken CI
        pytest.skip(reason)
    return found


def wait_until(
    condition: Callable[[], Any], *, timeout: float, what: str, log: Path | None = None
) -> Any:
    """Poll ``condition`` until it is truthy; fail naming ``what`` (and the log) after
    ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            tail = log.read_text()[-4000:] if log is not None else ""
            raise AssertionError(f"timed out waiting for {what}\n{tail}")
        time.sleep(0.1)


def config_yaml(
    *,
    url: str,
    credentials_file: Path,
    group_wait: str = "1s",
    group_interval: str = "1s",
    repeat_interval: str = "2s",
) -> str:
    """One route to one webhook receiver with a Bearer token read from a file, as the
    README's example; intervals in seconds so a test sees repeats."""
    return f"""\
route:
  receiver: sms-bot
  group_by: [alertname]
  group_wait: {group_wait}
  group_interval: {group_interval}
  repeat_interval: {repeat_interval}
receivers:
  - name: sms-bot
    webhook_configs:
      - url: {json.dumps(url)}
        send_resolved: true
        http_config:
          authorization:
            type: Bearer
            credentials_file: {json.dumps(str(credentials_file))}
"""


def alert(
    name: str, *, firing: bool, instance: str = "db1", summary: str = "DB down"
) -> dict[str, Any]:
    """An alert as Prometheus posts it: firing ends in the future, resolved in the past."""
    now = datetime.now(UTC)
    ends = now + timedelta(hours=1) if firing else now - timedelta(seconds=1)
    return {
        "labels": {
            "alertname": name,
            "instance": instance,
            "severity": "critical",
            "env": "prod",
        },
        "annotations": {"summary": summary},
        "startsAt": (now - timedelta(minutes=1)).isoformat(),
        "endsAt": ends.isoformat(),
        "generatorURL": "http://prometheus.example/graph",
    }


class Alertmanager:
    """``prometheus-alertmanager`` on 127.0.0.1 with its own storage, clustering off."""

    def __init__(self, workdir: Path, config: str) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        (workdir / "alertmanager.yml").write_text(config)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = workdir / "alertmanager.log"
        argv = [
            alertmanager_binary(),
            f"--config.file={workdir / 'alertmanager.yml'}",
            f"--storage.path={workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{self.port}",
            "--cluster.listen-address=",
            "--log.level=debug",
        ]
        with open(self.log, "wb") as out:
            self.process = subprocess.Popen(
                argv, stdout=out, stderr=out, start_new_session=True
            )
        wait_until(self._ready, timeout=20, what="Alertmanager to start", log=self.log)

    def _ready(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(self.log.read_text())
        try:
            return requests.get(f"{self.url}/-/ready", timeout=2).status_code == 200
        except requests.ConnectionError:
            return False

    def post(self, *alerts: dict[str, Any]) -> None:
        """Post alerts to the API, as Prometheus does."""
        answer = requests.post(
            f"{self.url}/api/v2/alerts", json=list(alerts), timeout=5
        )
        assert answer.status_code == 200, answer.text

    def log_lines(self, *needles: str) -> list[str]:
        """Lines of its log holding every one of ``needles``."""
        lines = self.log.read_text().splitlines()
        return [line for line in lines if all(n in line for n in needles)]

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)


@contextmanager
def running_alertmanager(workdir: Path, config: str) -> Iterator[Alertmanager]:
    manager = Alertmanager(workdir, config)
    try:
        yield manager
    finally:
        manager.stop()


@dataclass
class Delivery:
    """One webhook request as the receiver saw it, and the status it answered."""

    authorization: str
    body: dict[str, Any]
    status: int


@dataclass
class WebhookSink:
    """A webhook receiver answering the statuses it is told, in order (then 200)."""

    statuses: list[int] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        size = int(environ.get("CONTENT_LENGTH") or 0)
        body = json.loads(environ["wsgi.input"].read(size) or b"{}")
        with self.lock:
            status = self.statuses.pop(0) if self.statuses else 200
            self.deliveries.append(
                Delivery(environ.get("HTTP_AUTHORIZATION", ""), body, status)
            )
        start_response(f"{status} X", [("Content-Type", "application/json")])
        return [b"{}"]

    def seen(self) -> list[Delivery]:
        with self.lock:
            return list(self.deliveries)


@contextmanager
def webhook_sink(
    statuses: list[int] | None = None,
) -> Iterator[tuple[WebhookSink, str]]:
    sink = WebhookSink(statuses=list(statuses or []))
    with serve_wsgi(sink) as url:
        yield sink, url
