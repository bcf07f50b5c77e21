"""Plumbing shared by the benchmarks: processes, loopback ports, signed requests, verdicts.

Every process is started in its own session and killed as a group when the benchmark
ends, whatever happens; every request goes to 127.0.0.1 with a timeout.
"""

from __future__ import annotations

import json
import math
import os
import select
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlencode

import requests
from slack_sdk.signature import SignatureVerifier

REPO = Path(__file__).resolve().parent.parent
LOOPBACK = "127.0.0.1"
SIGNING_SECRET = "bench-signing-secret-0123456789abcdef"
BOT_TOKEN = "xoxb-0000-0000-bench-token"
OCTOPUSH_LOGIN = "bench@example.com"
OCTOPUSH_KEY = "bench-octopush-key"
GUNICORN_CONFIG = "python:bot.runtime.gunicorn_conf"
OUR_APP = "bot.runtime.web:application()"
BARE_APP = "bench.bare_app:application()"
#: The bare app runs under our gunicorn configuration, whose ``when_ready`` would start
#: a ``sms-bot sender`` beside it: the baseline has no sender, so none is started.
BARE_ENV = {"SMS_SENDER": "external"}
SLACK_PATH = "/slack/events"
#: Guard rails opened for the benchmarks (see :func:`app_env`).
RATE_LIMIT = "1000000/minute"
MAX_RECIPIENTS = 100_000
#: Concurrent clients of the concurrent runs (the issue's "16 concurrent").
CLIENTS = 16

_verifier = SignatureVerifier(SIGNING_SECRET)


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


# --------------------------------------------------------------------------- processes


class Processes:
    """The processes one benchmark started; ``close`` kills each one's process group."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self._started: list[subprocess.Popen[bytes]] = []

    def start(
        self, name: str, argv: Sequence[str], env: dict[str, str], *, pipe: bool = False
    ) -> subprocess.Popen[bytes]:
        """Start ``argv`` in a new session; output goes to ``<workdir>/<name>.log``.

        With ``pipe`` stdout is a pipe (for :func:`first_line`), stderr the log.
        """
        log = open(self.workdir / f"{name}.log", "ab")  # noqa: SIM115 (closed with proc)
        # Its own HOME: gunicorn >= 25 opens a control socket under ~/.gunicorn, which
        # two servers (or a developer's) would otherwise share.
        home = self.workdir / f"home-{name}"
        home.mkdir(exist_ok=True)
        env = {**env, "HOME": str(home)}
        proc = subprocess.Popen(
            list(argv),
            cwd=self.workdir,  # no developer .env is read: cwd is a fresh directory
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE if pipe else log,
            stderr=log,
            start_new_session=True,
        )
        log.close()  # the child has its own copy
        self._started.append(proc)
        return proc

    def stop(self, proc: subprocess.Popen[bytes], *, grace: float = 5.0) -> None:
        """SIGTERM the process group, SIGKILL it after ``grace`` seconds."""
        if proc.poll() is None:
            _signal_group(proc, signal.SIGTERM)
            try:
                proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                pass
        _signal_group(proc, signal.SIGKILL)  # stragglers of the group, e.g. a worker
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL is not refused
            pass
        if proc.stdout is not None:
            proc.stdout.close()
        if proc in self._started:
            self._started.remove(proc)

    def close(self) -> None:
        for proc in reversed(list(self._started)):
            self.stop(proc, grace=3.0)


def _signal_group(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


@contextmanager
def workspace(prefix: str) -> Iterator[Processes]:
    """A temporary directory and the processes started in it; both gone afterwards."""
    with tempfile.TemporaryDirectory(prefix=f"sms-bot-{prefix}-") as tmp:
        procs = Processes(Path(tmp))
        try:
            yield procs
        finally:
            procs.close()


def first_line(proc: subprocess.Popen[bytes], timeout: float = 20.0) -> str:
    """The first line a child prints on stdout (a fake's URL), or an error after timeout."""
    stream: IO[bytes] | None = proc.stdout
    if stream is None:
        raise RuntimeError("start the process with pipe=True")
    ready, _, _ = select.select([stream], [], [], timeout)
    line = stream.readline().decode().strip() if ready else ""
    if not line:
        raise RuntimeError(
            f"{proc.args!r} printed nothing in {timeout} s (see its log)"
        )
    return line


def base_env(**settings: str) -> dict[str, str]:
    """This environment without any sms-bot setting, plus ``settings`` and the repo path."""
    ours = ("SLACK_", "OCTOPUSH_", "SMS_")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(ours) and key not in ("DATABASE_URL", "PORT")
    }
    env["PYTHONPATH"] = os.pathsep.join(
        part for part in (str(REPO), env.get("PYTHONPATH", "")) if part
    )
    env["PYTHONUNBUFFERED"] = "1"  # log lines reach the log file as they happen
    env.update(settings)
    return env


def app_env(
    *, port: int, slack_api_url: str, octopush_url: str, database_url: str
) -> dict[str, str]:
    """The settings ``sms-bot serve`` needs, pointing at the fakes and a temp SQLite.

    The per-user rate limit and the recipient cap are opened wide: a benchmark sends
    hundreds of commands as one user, and must measure the send path, not a refusal.
    """
    return base_env(
        SMS_RATE_LIMIT=RATE_LIMIT,
        SMS_MAX_RECIPIENTS=str(MAX_RECIPIENTS),
        PORT=str(port),
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=slack_api_url,
        OCTOPUSH_API_LOGIN=OCTOPUSH_LOGIN,
        OCTOPUSH_API_KEY=OCTOPUSH_KEY,
        OCTOPUSH_BASE_URL=octopush_url,
        DATABASE_URL=database_url,
    )


def gunicorn_argv(app: str, port: int) -> list[str]:
    """Gunicorn exactly as the Procfile runs it (``bot/gunicorn_conf.py``), on loopback."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "--config",
        GUNICORN_CONFIG,
        "--bind",
        f"{LOOPBACK}:{port}",
        app,
    ]


def wait_http(
    url: str,
    *,
    timeout: float = 60.0,
    interval: float = 0.005,
    proc: subprocess.Popen[bytes] | None = None,
    log: Path | None = None,
) -> float:
    """Poll ``GET url`` until it answers 200; return ``time.perf_counter()`` then.

    Gives up after ``timeout`` seconds, or at once when ``proc`` has exited; the error
    then carries the end of ``log``.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and (proc is None or proc.poll() is None):
        try:
            if requests.get(url, timeout=1.0).status_code == 200:
                return time.perf_counter()
        except requests.RequestException:
            pass
        time.sleep(interval)
    tail = ""
    if log is not None and log.exists():
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
    raise RuntimeError(f"{url} did not answer 200 within {timeout} s\n{tail}")


def serve(
    procs: Processes, name: str, argv: Sequence[str], env: dict[str, str], port: int
) -> tuple[subprocess.Popen[bytes], str]:
    """Start a server on ``port`` and wait for its ``/healthz``; its process and URL."""
    proc = procs.start(name, argv, env)
    url = f"http://{LOOPBACK}:{port}"
    wait_http(f"{url}/healthz", proc=proc, log=procs.workdir / f"{name}.log")
    return proc, url


def tree_cpu_seconds(root: int) -> float:
    """User + system CPU of ``root`` and every process under it (gunicorn's master,
    its worker, the sender it started), from ``/proc``: the way BENCHMARKS.md counts
    CPU per send. Linux only."""
    total, pending, seen = 0.0, [root], set()
    ticks = os.sysconf("SC_CLK_TCK")
    while pending:
        pid = pending.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            fields = stat.rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
            for task in Path(f"/proc/{pid}/task").iterdir():
                children = (task / "children").read_text().split()
                pending.extend(int(child) for child in children)
        except (OSError, ValueError, IndexError):
            continue  # gone meanwhile
    return total


# ------------------------------------------------------------------------------- fakes


@dataclass
class Fakes:
    """The fake Slack and fake Octopush, each in its own process (its own GIL)."""

    slack_api_url: str
    slack_control: str
    octopush_url: str

    @property
    def octopush_root(self) -> str:
        return self.octopush_url.removesuffix("/v1/public")

    @property
    def response_url(self) -> str:
        return self.slack_api_url.removesuffix("/api/") + "/webhook/command"

    def slack_count(self, method: str) -> int:
        count: int = self._slack("count", method=method)["count"]
        return count

    def slack_wait(self, method: str, count: int, timeout: float) -> float | None:
        """Wait until the fake Slack got ``count`` calls of ``method``; the
        ``time.monotonic()`` of the ``count``-th, or ``None`` on timeout."""
        answer = self._slack("wait", method=method, count=count, timeout=timeout)
        found: float | None = answer["time"]
        return found

    def octopush_stats(self) -> dict[str, Any]:
        stats: dict[str, Any] = requests.get(
            f"{self.octopush_root}/_fake/stats", timeout=10
        ).json()
        return stats

    def set_octopush_delay(self, seconds: float) -> None:
        requests.post(
            f"{self.octopush_root}/_fake/delay",
            params={"seconds": seconds},
            timeout=10,
        ).raise_for_status()

    def reset_octopush(self) -> None:
        requests.post(
            f"{self.octopush_root}/_fake/reset", timeout=10
        ).raise_for_status()

    def _slack(self, what: str, **params: Any) -> dict[str, Any]:
        wait = float(params.get("timeout", 0))
        response = requests.get(
            f"{self.slack_control}/{what}", params=params, timeout=wait + 10
        )
        response.raise_for_status()
        answer: dict[str, Any] = response.json()
        return answer


def start_fakes(procs: Processes, *, octopush_delay: float = 0.0) -> Fakes:
    """Start the fake Slack (``bench.fakeslack``) and fake Octopush processes."""
    env = base_env()
    slack = procs.start(
        "fake-slack", [sys.executable, "-m", "bench.fakeslack"], env, pipe=True
    )
    octopush = procs.start(
        "fake-octopush",
        [sys.executable, "-m", "tests.fakes.octopush", "--delay", str(octopush_delay)],
        env,
        pipe=True,
    )
    urls = json.loads(first_line(slack))
    return Fakes(
        slack_api_url=urls["api_url"],
        slack_control=urls["control_url"],
        octopush_url=first_line(octopush),
    )


# ----------------------------------------------------------------------------- requests


def command_body(
    text: str, *, trigger: str, response_url: str, channel: str = "C0BENCH"
) -> str:
    """A ``/sms`` slash command form body, as Slack sends it."""
    return urlencode(
        {
            "token": "legacy",
            "team_id": "T0BENCH",
            "team_domain": "bench",
            "channel_id": channel,
            "channel_name": "ops",
            "user_id": "U0BENCH",
            "user_name": "bench",
            "command": "/sms",
            "text": text,
            "api_app_id": "A0BENCH",
            "response_url": response_url,
            "trigger_id": trigger,
        }
    )


def signed_headers(body: str) -> dict[str, str]:
    """The headers Slack adds: timestamp and ``v0=`` HMAC-SHA256 signature."""
    timestamp = str(int(time.time()))
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": str(
            _verifier.generate_signature(timestamp=timestamp, body=body)
        ),
    }


BodyFactory = Callable[[int, int], str]


@dataclass
class LoadResult:
    """Per-request latencies (seconds, warm-up excluded) and the run's wall time."""

    latencies: list[float]
    wall: float
    errors: int
    started: float  # time.monotonic() when the first client started

    @property
    def p50(self) -> float:
        return percentile(self.latencies, 50)

    @property
    def p99(self) -> float:
        return percentile(self.latencies, 99)


def run_clients(
    url: str,
    body: BodyFactory,
    *,
    clients: int,
    requests_per_client: int,
    warmup: int = 0,
    timeout: float = 10.0,
    after: Callable[[int, int], None] | None = None,
) -> LoadResult:
    """``clients`` threads, each with its own keep-alive session, POST signed bodies
    back to back; ``body(client, i)`` makes request ``i`` of ``client``.

    Latency is ``perf_counter`` around one ``Session.post`` (signing excluded); the
    first ``warmup`` requests of each client are not counted. ``after(client, i)``,
    when given, runs (untimed) after each request, e.g. to wait for its lazy work.
    """
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    barrier = threading.Barrier(clients + 1)

    def client(number: int) -> None:
        with requests.Session() as session:
            barrier.wait()
            for i in range(warmup + requests_per_client):
                data = body(number, i)
                headers = signed_headers(data)
                started = time.perf_counter()
                try:
                    response = session.post(
                        url, data=data, headers=headers, timeout=timeout
                    )
                    ok = response.status_code == 200
                except requests.RequestException:
                    ok = False
                elapsed = time.perf_counter() - started
                if i >= warmup:
                    latencies[number].append(elapsed)
                if not ok:
                    errors[number] += 1
                if after is not None:
                    after(number, i)

    threads = [
        threading.Thread(target=client, args=(n,), daemon=True) for n in range(clients)
    ]
    for thread in threads:
        thread.start()
    barrier.wait()
    started_mono = time.monotonic()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    return LoadResult(
        latencies=[x for per in latencies for x in per],
        wall=wall,
        errors=sum(errors),
        started=started_mono,
    )


# ------------------------------------------------------------------------------ figures


def percentile(samples: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (no interpolation: p99 is a latency that happened)."""
    if not samples:
        return math.nan
    ordered = sorted(samples)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def median(samples: Sequence[float]) -> float:
    return statistics.median(samples) if samples else math.nan


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


@dataclass(frozen=True)
class Verdict:
    """One target: our figure, the baseline's from the same run, the ratio, the limit."""

    name: str
    ours: float
    base: float
    unit: str
    ratio: float
    target: str
    passed: bool | None  # None: context only, no target

    @property
    def status(self) -> str:
        return "-" if self.passed is None else ("PASS" if self.passed else "MISS")


def at_most(name: str, ours: float, base: float, unit: str, limit: float) -> Verdict:
    """Lower is better: pass when ``ours / base <= limit``."""
    ratio = ours / base if base else math.inf
    return Verdict(name, ours, base, unit, ratio, f"<= {limit:g}x", ratio <= limit)


def at_least(name: str, ours: float, base: float, unit: str, limit: float) -> Verdict:
    """Higher is better: pass when ``ours / base >= limit``."""
    ratio = ours / base if base else 0.0
    return Verdict(name, ours, base, unit, ratio, f">= {limit:g}x", ratio >= limit)


def context(name: str, ours: float, base: float, unit: str) -> Verdict:
    """A ratio shown for context, without a target."""
    ratio = ours / base if base else math.nan
    return Verdict(name, ours, base, unit, ratio, "", None)


def _figure(value: float, unit: str) -> str:
    if unit == "s":
        return ms(value) if value < 1 else f"{value:.2f} s"
    if unit == "MiB":
        return f"{value:.1f} MiB"
    return f"{value:,.1f} {unit}".strip()


def print_verdicts(title: str, verdicts: Sequence[Verdict]) -> None:
    """A fixed-width table: figure, ours, baseline, ratio, target, PASS/MISS."""
    print(f"\n== {title}")
    width = max((len(v.name) for v in verdicts), default=10)
    print(
        f"{'figure':<{width}}  {'ours':>12}  {'baseline':>12}  {'ratio':>7}  "
        f"{'target':>8}  verdict"
    )
    for v in verdicts:
        print(
            f"{v.name:<{width}}  {_figure(v.ours, v.unit):>12}  "
            f"{_figure(v.base, v.unit):>12}  {v.ratio:>6.2f}x  {v.target:>8}  {v.status}"
        )
    sys.stdout.flush()
