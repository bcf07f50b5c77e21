"""One send to many recipients: wall time and peak memory at 500, 5,000 and 50,000.

Each size runs in a fresh process (so peak RSS is that send's), through the real send
path: ``load_settings`` → ``wiring.build_service`` → ``SmsService.send`` (rules, guard
rails, audit trail, Octopush client in batches of 500) against the fake Octopush. The
send is timed untraced, then repeated under ``tracemalloc`` for its peak. Baseline in
the same run: POSTing the same batches with a plain ``requests.Session`` (no parsing,
no audit), the floor of moving that many recipients over HTTP. Growth is linear when
the time and memory per recipient stay flat as the size grows tenfold.

``python -m bench.bulk``
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
import tracemalloc
import uuid
from typing import Any

import requests

from bench.harness import (
    MAX_RECIPIENTS,
    RATE_LIMIT,
    Verdict,
    at_most,
    base_env,
    context,
    first_line,
    print_verdicts,
    workspace,
)

SIZES = (500, 5_000, 50_000)
BATCH = 500
TEXT = "Exercise: datacenter failover drill tonight 22:00 CET. Reply STOP to leave."
#: Linear growth: per-recipient figures at 10x the size within this factor.
LIMIT = 1.5
LOGIN, KEY = "bench@example.com", "bench-octopush-key"


def numbers(count: int) -> tuple[str, ...]:
    """``count`` distinct, valid French mobile numbers (+33 6 …)."""
    return tuple(f"+336{10_000_000 + n:08d}" for n in range(count))


def _rss_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def child(size: int) -> dict[str, Any]:
    """Runs in the fresh process: one warm-up send, one timed, one traced."""
    from bot.config import load_settings
    from bot.domain import Actor, SendDraft, Source
    from bot.log import configure_logging
    from bot.runtime.wiring import OCTOPUSH_REQUIRED, build_service

    settings = load_settings(required=OCTOPUSH_REQUIRED)
    configure_logging("WARNING", secrets=[KEY])
    service = build_service(settings)
    actor = Actor(source=Source.CLI)
    recipients = numbers(size)

    def send(who: tuple[str, ...]) -> float:
        draft = SendDraft(
            recipients=who, text=TEXT, request_id=f"bulk-{uuid.uuid4().hex}"
        )
        started = time.perf_counter()
        outcome = service.send(draft, actor)
        took = time.perf_counter() - started
        if outcome.status != "sent" or outcome.number_of_contacts != len(who):
            raise RuntimeError(f"send of {len(who)} ended {outcome.status}: {outcome}")
        return took

    send(recipients[:2])  # imports, connection, SQLite pages
    rss_before = _rss_kib()
    wall = send(recipients)
    rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    tracemalloc.start()
    send(recipients)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "size": size,
        "wall": wall,
        "plain": plain(settings.octopush.base_url, recipients),
        "traced_peak": traced_peak,
        "rss_growth": max(0, rss_peak - rss_before) * 1024,
    }


def plain(base_url: str, recipients: tuple[str, ...]) -> float:
    """The floor: the same batches POSTed with a bare session, JSON built inline."""
    url = base_url.rstrip("/") + "/sms-campaign/send"
    headers = {"api-login": LOGIN, "api-key": KEY, "Content-Type": "application/json"}
    started = time.perf_counter()
    with requests.Session() as session:
        for start in range(0, len(recipients), BATCH):
            body = {
                "text": TEXT,
                "recipients": [
                    {"phone_number": n} for n in recipients[start : start + BATCH]
                ],
                "type": "sms_premium",
                "purpose": "alert",
                "request_id": f"plain-{uuid.uuid4().hex}",
            }
            session.post(url, data=json.dumps(body), headers=headers, timeout=30)
    return time.perf_counter() - started


def run(sizes: tuple[int, ...] = SIZES) -> list[Verdict]:
    figures: dict[int, dict[str, Any]] = {}
    with workspace("bulk") as procs:
        env = base_env()
        fake = procs.start(
            "fake-octopush",
            [sys.executable, "-m", "tests.fakes.octopush"],
            env,
            pipe=True,
        )
        octopush_url = first_line(fake)
        print(
            f"one send to N recipients ({BATCH} per Octopush request), fresh process each"
        )
        for size in sizes:
            child_env = base_env(
                OCTOPUSH_API_LOGIN=LOGIN,
                OCTOPUSH_API_KEY=KEY,
                OCTOPUSH_BASE_URL=octopush_url,
                DATABASE_URL=f"sqlite:///{procs.workdir}/audit-{size}.db",
                SMS_MAX_RECIPIENTS=str(MAX_RECIPIENTS),
                SMS_RATE_LIMIT=RATE_LIMIT,
            )
            done = subprocess.run(
                [sys.executable, "-m", "bench.bulk", "--child", str(size)],
                cwd=procs.workdir,
                env=child_env,
                capture_output=True,
                text=True,
                timeout=300,
            )
            if done.returncode != 0:
                raise RuntimeError(f"bulk {size} failed:\n{done.stderr[-2000:]}")
            f = figures[size] = json.loads(done.stdout.strip().splitlines()[-1])
            print(
                f"  {size:>6} recipients: {f['wall']:7.3f} s "
                f"({f['wall'] / size * 1e6:6.1f} us/recipient; plain POSTs "
                f"{f['plain']:6.3f} s) | tracemalloc peak {f['traced_peak'] / 2**20:6.1f} MiB "
                f"({f['traced_peak'] / size:6.0f} B/recipient) | RSS growth "
                f"{f['rss_growth'] / 2**20:6.1f} MiB",
                flush=True,
            )
    verdicts: list[Verdict] = []
    for size in sizes:
        f = figures[size]
        verdicts.append(context(f"{size} recipients: wall", f["wall"], f["plain"], "s"))
    for small, big in zip(sizes, sizes[1:], strict=False):
        a, b = figures[small], figures[big]
        label = f"{big} vs {small}"
        verdicts.append(
            at_most(
                f"time per recipient, {label}",
                b["wall"] / big * 1e6,
                a["wall"] / small * 1e6,
                "us",
                LIMIT,
            )
        )
        verdicts.append(
            at_most(
                f"peak memory per recipient, {label}",
                b["traced_peak"] / big,
                a["traced_peak"] / small,
                "B",
                LIMIT,
            )
        )
    print_verdicts("bulk (baseline: the smaller size; wall: plain POSTs)", verdicts)
    return verdicts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child)))
    else:
        run()


if __name__ == "__main__":
    main()
