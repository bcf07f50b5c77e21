"""``python -m bench.receipts``: a delivery receipt callback to its ``chat.update``.

Measured from outside, as the issue did: the app runs under gunicorn exactly as in
production, on a SQLite audit trail seeded with ``size`` records; each receipt is a
real ``POST /octopush/callback/<token>`` for one of those sends, and the time runs
until the fake Slack receives the ``chat.update`` of its post. Before the ticket
table this took 16.6 ms at 1,000 records and 219.5 ms at 300,000.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence

import requests

from bench.harness import (
    OUR_APP,
    Processes,
    app_env,
    free_port,
    gunicorn_argv,
    median,
    percentile,
    serve,
    start_fakes,
    workspace,
)
from bench.scale import TARGET
from bench.seed import seed
from bot.audit import AuditStore

TOKEN = "bench-callback-token-0123456789"
SIZES = (1_000, 300_000)
SMALL_SIZES = (1_000, 20_000)


def one_size(procs: Processes, size: int, repeat: int) -> list[float]:
    """Seconds from each receipt POST to its ``chat.update``, at ``size`` records."""
    database = f"sqlite:///{procs.workdir}/receipts-{size}.db"
    store = AuditStore.from_url(database)
    try:
        seeded = seed(store.engine, size)
    finally:
        store.close()
    fakes = start_fakes(procs)
    port = free_port()
    env = app_env(
        port=port,
        slack_api_url=fakes.slack_api_url,
        octopush_url=fakes.octopush_url,
        database_url=database,
    )
    env["OCTOPUSH_CALLBACK_TOKEN"] = TOKEN
    proc, url = serve(procs, f"app-{size}", gunicorn_argv(OUR_APP, port), env, port)
    samples: list[float] = []
    try:
        for i in range(repeat):
            ticket, _ = seeded.tickets[i % len(seeded.tickets)]
            body = {
                "message_id": ticket,
                "number": f"+3371{i:07d}",  # a new recipient: the post changes
                "status": "DELIVERED",
                "delivery_date": "2026-12-01 10:00:00",
            }
            before = fakes.slack_count("chat.update")
            started = time.monotonic()
            response = requests.post(
                f"{url}/octopush/callback/{TOKEN}",
                data=json.dumps(body),
                headers={"Content-Type": "application/json"},
                timeout=10,
            )
            response.raise_for_status()
            done = fakes.slack_wait("chat.update", before + 1, timeout=10)
            if done is None:
                raise RuntimeError(f"no chat.update for receipt {i} at {size}")
            samples.append(done - started)
    finally:
        procs.stop(proc)
    return samples


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="1k vs 20k, quick")
    parser.add_argument("--sizes", type=int, nargs=2, metavar=("SMALL", "LARGE"))
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args(argv)
    sizes = tuple(args.sizes or (SMALL_SIZES if args.small else SIZES))
    results = {}
    for size in sizes:
        with workspace(f"receipts-{size}") as procs:
            results[size] = one_size(procs, size, args.repeat)
    low, high = (median(results[size]) for size in sizes)
    for size in sizes:
        print(
            f"receipt -> chat.update at {size:>9,} records: "
            f"p50 {median(results[size]) * 1000:7.1f} ms, "
            f"p99 {percentile(results[size], 99) * 1000:7.1f} ms"
        )
    verdict = "PASS" if high / low <= TARGET else "MISS"
    print(f"ratio {high / low:.2f}× (≤ {TARGET}×)  {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
