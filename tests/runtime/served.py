"""Serving the app the way production does, in a child process: the Procfile's gunicorn
command or ``sms-bot serve``, with settings from the environment only."""

from __future__ import annotations

import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.conftest import OCTOPUSH_KEY, SIGNING_SECRET, SLACK_BOT_TOKEN

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def procfile_command() -> list[str]:
    (line,) = [
        t
        for t in (ROOT / "Procfile").read_text().splitlines()
        if t.strip() and not t.startswith("#")
    ]
    words = shlex.split(line.partition(":")[2])
    assert words[0] == "gunicorn"
    return [sys.executable, "-m", "gunicorn", *words[1:]]


def serve_command() -> list[str]:
    return [sys.executable, "-m", "bot", "serve"]


def sender_command() -> list[str]:
    """``sms-bot sender``, as the gunicorn master starts it and as one runs it by hand."""
    return [sys.executable, "-m", "bot", "sender"]


def base_environment(
    tmp_path: Path, *, port: int, slack_url: str, octopush_url: str, database: str
) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("OCTOPUSH_", "SLACK_", "SMS_", "PROMETHEUS_"))
        and key not in ("DATABASE_URL", "PORT")
    }
    env.update(
        HOME=str(tmp_path),
        PORT=str(port),
        DATABASE_URL=database,
        SLACK_BOT_TOKEN=SLACK_BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=slack_url,
        OCTOPUSH_API_LOGIN="ops@example.com",
        OCTOPUSH_API_KEY=OCTOPUSH_KEY,
        OCTOPUSH_BASE_URL=octopush_url,
        PYTHONPATH=str(ROOT),
        # The web process sends itself: no sender process to start and stop for each
        # server (test_sender_processes.py tests the other modes, the default first).
        SMS_SENDER="inline",
    )
    return env


class Server:
    """A command serving HTTP on ``port``, in its own process group."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: Path) -> None:
        self.log = cwd / "server.log"
        with open(self.log, "wb") as out:
            self.process = subprocess.Popen(
                argv, env=env, cwd=cwd, stdout=out, stderr=out, start_new_session=True
            )
        self.url = f"http://127.0.0.1:{env['PORT']}"

    def wait_until_up(self) -> None:
        deadline = time.monotonic() + 120
        while True:
            try:
                if requests.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except (requests.ConnectionError, requests.Timeout):
                pass  # not listening yet, or listening while the worker still boots
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(self.log.read_text())
            time.sleep(0.2)

    def stop(self) -> int:
        """SIGTERM, then wait: gunicorn's worker finishes its sends before it exits."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            return self.process.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(5)
            raise AssertionError("the server did not stop on SIGTERM") from None


class Background:
    """A command in its own process group (no HTTP), its output in ``cwd/<name>.log``."""

    def __init__(
        self, argv: list[str], env: dict[str, str], cwd: Path, name: str
    ) -> None:
        self.log = cwd / f"{name}.log"
        with open(self.log, "wb") as out:
            self.process = subprocess.Popen(
                argv, env=env, cwd=cwd, stdout=out, stderr=out, start_new_session=True
            )

    def signal_group(self, signum: int) -> None:
        kill_group(self.process.pid, signum)

    def stop(self, timeout: float = 30) -> int:
        """``SIGTERM`` to the group, then its exit code (killed after ``timeout``)."""
        self.signal_group(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.signal_group(signal.SIGKILL)
            self.process.wait(5)
            raise AssertionError(
                f"no exit on SIGTERM:\n{self.log.read_text()}"
            ) from None


def kill_group(pgid: int, signum: int) -> None:
    """Signal every process of group ``pgid`` (none left: nothing to do)."""
    try:
        os.killpg(pgid, signum)
    except ProcessLookupError:
        pass


def group_members(pgid: int) -> dict[int, str]:
    """The live processes of group ``pgid``: pid -> command line."""
    return {
        pid: command
        for pid, (_, group, _, command) in process_table().items()
        if group == pgid
    }


def process_table() -> dict[int, tuple[int, int, str, str]]:
    """Linux: every live process by pid, as (parent pid, process group, state, cmdline).

    Zombies are left out: they have exited and only wait to be reaped.
    """
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:  # exited meanwhile
            continue
        # "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
        state, ppid, pgrp = stat.rpartition(")")[2].split()[:3]
        if state in ("Z", "X"):
            continue
        command = cmdline.replace(b"\0", b" ").decode(errors="replace").strip()
        table[int(entry.name)] = (int(ppid), int(pgrp), state, command)
    return table
