"""End-to-end sends per second: slash command → Octopush → channel post, 16 concurrent.

Ours: ``CLIENTS`` threads post signed ``/sms NUMBER TEXT`` commands to sms-bot under
gunicorn; the clock stops when the fake Slack has received the N-th result post
(completion, not acks). Baseline: a plain ``requests.Session`` loop in as many threads
POSTing the same JSON to the same fake Octopush N times. For context, a bare Bolt
app whose lazy listener only makes the two calls (``bench/bare_app.py``,
``BENCH_BARE_SENDS=1``): the floor of a send under Bolt and gunicorn. Measured with the gateway
answering at once (the bot's own cost) and in 100 ms (a real gateway's latency, where
concurrency decides), plus a burst of 16 pages while the gateway takes 1 s: how long
until all 16 are sent, which is where queueing shows.

``python -m bench.throughput``
"""

from __future__ import annotations

import argparse
import itertools
import json
import threading
import time
import uuid
from dataclasses import dataclass

import requests

from bench.harness import (
    BARE_APP,
    BARE_ENV,
    CLIENTS,
    OCTOPUSH_KEY,
    OCTOPUSH_LOGIN,
    OUR_APP,
    SLACK_PATH,
    Fakes,
    Verdict,
    app_env,
    at_least,
    at_most,
    command_body,
    context,
    free_port,
    gunicorn_argv,
    print_verdicts,
    run_clients,
    serve,
    start_fakes,
    tree_cpu_seconds,
    workspace,
)

SEND_TEXT = "+33612345678 db-1 is down, failover in progress"
#: The target: our sends per second at least this share of the plain loop's.
LIMIT = 0.8
#: The burst target: all pages sent within this factor of the plain loop's time.
BURST_LIMIT = 1.5
ROUNDS = 2
#: CPU per send of our server processes, at most this factor of the bare sender's.
CPU_LIMIT = 1.5


@dataclass(frozen=True)
class Phase:
    name: str
    delay: float  # the fake Octopush's answer time, seconds
    sends: int  # per round


PHASES = (
    Phase("gateway 0 ms", 0.0, 320),
    Phase("gateway 100 ms", 0.1, 160),
)
BURST = Phase("burst of 16, gateway 1 s", 1.0, CLIENTS)


def octopush_body() -> dict[str, object]:
    """What ``OctopushClient`` sends for ``/sms NUMBER TEXT`` (one recipient)."""
    return {
        "text": "db-1 is down, failover in progress",
        "recipients": [{"phone_number": "+33612345678"}],
        "type": "sms_premium",
        "purpose": "alert",
        "request_id": f"plain-{uuid.uuid4().hex}",
    }


def plain_loop(fakes: Fakes, sends: int, clients: int = CLIENTS) -> float:
    """``sends`` POSTs to the fake Octopush from ``clients`` threads; seconds taken."""
    url = fakes.octopush_url + "/sms-campaign/send"
    headers = {
        "api-login": OCTOPUSH_LOGIN,
        "api-key": OCTOPUSH_KEY,
        "Content-Type": "application/json",
        "Accept": "application/json",
    }
    jobs = itertools.count()
    failures: list[int] = []
    barrier = threading.Barrier(clients + 1)

    def client() -> None:
        with requests.Session() as session:
            barrier.wait()
            while next(jobs) < sends:
                data = json.dumps(octopush_body()).encode()
                response = session.post(url, data=data, headers=headers, timeout=30)
                if response.status_code != 201:
                    failures.append(response.status_code)

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    took = time.perf_counter() - started
    if failures:
        raise RuntimeError(f"plain loop: {len(failures)} failed POSTs")
    return took


class Ours:
    """sms-bot under gunicorn, driven by signed slash commands."""

    def __init__(self, url: str, fakes: Fakes, pid: int) -> None:
        self.url = url + SLACK_PATH
        self.fakes = fakes
        self.pid = pid
        self._runs = itertools.count()

    def sends(self, sends: int, clients: int = CLIENTS) -> tuple[float, float]:
        """Send ``sends`` commands; seconds until the last result post, and until the
        last Octopush call (from the fake Octopush's clock)."""
        run = next(self._runs)
        posted = self.fakes.slack_count("chat.postMessage")
        self.fakes.reset_octopush()
        per_client = -(-sends // clients)
        total = per_client * clients
        result = run_clients(
            self.url,
            lambda c, i: command_body(
                SEND_TEXT,
                trigger=f"bench-tp-{run}-{c}-{i}",
                response_url=self.fakes.response_url,
            ),
            clients=clients,
            requests_per_client=per_client,
        )
        if result.errors:
            raise RuntimeError(f"ours: {result.errors} commands were not acked")
        done = self.fakes.slack_wait("chat.postMessage", posted + total, timeout=180)
        if done is None:
            raise RuntimeError(f"ours: {total} results not posted within 180 s")
        reached = max(self.fakes.octopush_stats()["send_times"])
        return done - result.started, reached - result.started


def run() -> list[Verdict]:
    verdicts: list[Verdict] = []
    with workspace("throughput") as procs:
        fakes = start_fakes(procs)
        servers: dict[str, Ours] = {}
        for name, app, extra in (
            ("ours", OUR_APP, {}),
            ("bare-sender", BARE_APP, {**BARE_ENV, "BENCH_BARE_SENDS": "1"}),
        ):
            port = free_port()
            env = app_env(
                port=port,
                slack_api_url=fakes.slack_api_url,
                octopush_url=fakes.octopush_url,
                database_url=f"sqlite:///{procs.workdir}/audit.db",
            )
            proc, url = serve(
                procs, name, gunicorn_argv(app, port), {**env, **extra}, port
            )
            servers[name] = Ours(url, fakes, proc.pid)
            servers[name].sends(CLIENTS)  # warm-up: connections, caches, SQLite pages
        ours, bare = servers["ours"], servers["bare-sender"]
        plain_loop(fakes, CLIENTS)
        print(f"end-to-end sends, {CLIENTS} concurrent clients ({ROUNDS} rounds each)")
        for phase in PHASES:
            fakes.set_octopush_delay(phase.delay)
            ours_time = plain_time = bare_time = ours_cpu = bare_cpu = 0.0
            for _ in range(ROUNDS):
                plain_time += plain_loop(fakes, phase.sends)
                before = tree_cpu_seconds(ours.pid)
                ours_time += ours.sends(phase.sends)[0]
                ours_cpu += tree_cpu_seconds(ours.pid) - before
                before = tree_cpu_seconds(bare.pid)
                bare_time += bare.sends(phase.sends)[0]
                bare_cpu += tree_cpu_seconds(bare.pid) - before
            n = phase.sends * ROUNDS
            if phase.delay == 0:
                # Every process of each server (gunicorn, its worker, our sender).
                verdicts.append(
                    at_most(
                        "CPU per send (server processes)",
                        ours_cpu / n * 1000,
                        bare_cpu / n * 1000,
                        "ms",
                        CPU_LIMIT,
                    )
                )
            ours_rate, plain_rate, bare_rate = (
                n / ours_time,
                n / plain_time,
                n / bare_time,
            )
            print(
                f"  {phase.name:<16} ours {ours_rate:7.1f} sends/s | plain loop "
                f"{plain_rate:7.1f} sends/s | bare Bolt sender {bare_rate:7.1f} sends/s "
                f"| {n} sends each",
                flush=True,
            )
            verdicts.append(
                at_least(f"sends/s, {phase.name}", ours_rate, plain_rate, "/s", LIMIT)
            )
            verdicts.append(
                context("  same, vs a bare Bolt sender", ours_rate, bare_rate, "/s")
            )

        fakes.set_octopush_delay(BURST.delay)
        plain_time = plain_loop(fakes, BURST.sends, clients=BURST.sends)
        ours_time, reached = ours.sends(BURST.sends, clients=BURST.sends)
        print(
            f"  {BURST.name}: all posted after {ours_time:.2f} s (the last page reached "
            f"Octopush after {reached:.2f} s) | plain loop {plain_time:.2f} s",
            flush=True,
        )
        verdicts.append(
            at_most(f"{BURST.name}: all sent", ours_time, plain_time, "s", BURST_LIMIT)
        )
    print_verdicts("throughput (baseline: plain requests.Session loop)", verdicts)
    return verdicts


def main() -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    run()


if __name__ == "__main__":
    main()
