"""End-to-end latency: ``/sms NUMBER TEXT`` → the Octopush call, and → the channel post.

For each command: the ack (HTTP answer to Slack), the moment the fake Octopush received
the send, and the moment the fake Slack received the result's ``chat.postMessage``, all
on the machine's monotonic clock (the fakes run in their own processes and stamp each
call with ``time.monotonic()``). p50 and p99, for sms-bot and for a bare Bolt app whose
lazy listener makes only those two calls (``bench/bare_app.py``, ``BENCH_BARE_SENDS=1``).

Two loads: one command at a time (each waits for its post), and the flood: 16 clients
sending back to back. In the flood, commands are paired with Octopush calls and posts in
arrival order (the n-th command sent with the n-th call received), which is exact for a
first-in first-out server and close to it otherwise. Targets (issue 23): the ack p99 ≤
1.5× the bare app's (Bolt's floor), the Octopush call's p50 one at a time ≤ 1.5× the
bare sender's, and the flood drained (first command sent → last result posted) in ≤
1.5× the bare sender's time; the other end-to-end figures are context.

``python -m bench.e2e [--sends N] [--flood-sends N]``
"""

from __future__ import annotations

import argparse
import itertools
import threading
import time
from dataclasses import dataclass, field

import requests

from bench.harness import (
    BARE_APP,
    BARE_ENV,
    CLIENTS,
    OUR_APP,
    SLACK_PATH,
    Fakes,
    Verdict,
    app_env,
    at_most,
    command_body,
    context,
    free_port,
    gunicorn_argv,
    ms,
    percentile,
    print_verdicts,
    serve,
    signed_headers,
    start_fakes,
    workspace,
)

SEND_TEXT = "+33612345678 db-1 is down, failover in progress"
#: The ack target, as in ``bench.ack``: our p99 at most this many times Bolt's floor.
ACK_LIMIT = 1.5
SEQUENTIAL_SENDS = 60
FLOOD_SENDS = 160  # 10 per client
WAIT_SECONDS = 120.0


@dataclass
class Timings:
    """Seconds from each command's POST to its ack, Octopush call and channel post."""

    ack: list[float] = field(default_factory=list)
    octopush: list[float] = field(default_factory=list)
    post: list[float] = field(default_factory=list)
    #: A flood's time from its first command sent to its last result posted.
    drained: list[float] = field(default_factory=list)

    def extend(self, other: Timings) -> None:
        self.ack += other.ack
        self.octopush += other.octopush
        self.post += other.post
        self.drained += other.drained


class Server:
    """One app under gunicorn, and the fakes it talks to."""

    def __init__(self, name: str, url: str, fakes: Fakes) -> None:
        self.name = name
        self.url = url + SLACK_PATH
        self.fakes = fakes
        self._ids = itertools.count()

    def _post(self, session: requests.Session) -> tuple[float, float]:
        body = command_body(
            SEND_TEXT,
            trigger=f"bench-e2e-{self.name}-{next(self._ids)}",
            response_url=self.fakes.response_url,
        )
        headers = signed_headers(body)
        started = time.monotonic()
        response = session.post(self.url, data=body, headers=headers, timeout=10)
        acked = time.monotonic()
        if response.status_code != 200:
            raise RuntimeError(f"{self.name}: /sms answered {response.status_code}")
        return started, acked

    def sequential(self, sends: int) -> Timings:
        """One command at a time; each waits for its channel post."""
        timings = Timings()
        self.fakes.reset_octopush()
        posted = self.fakes.slack_count("chat.postMessage")
        starts: list[float] = []
        with requests.Session() as session:
            for i in range(sends):
                started, acked = self._post(session)
                done = self.fakes.slack_wait(
                    "chat.postMessage", posted + i + 1, WAIT_SECONDS
                )
                if done is None:
                    raise RuntimeError(f"{self.name}: send {i} was never posted")
                starts.append(started)
                timings.ack.append(acked - started)
                timings.post.append(done - started)
        reached = self.fakes.octopush_stats()["send_times"]
        timings.octopush = [
            call - start for call, start in zip(reached, starts, strict=False)
        ]
        return timings

    def flood(self, sends: int, clients: int = CLIENTS) -> Timings:
        """``clients`` threads send back to back; pairs in arrival order."""
        self.fakes.reset_octopush()
        posted = self.fakes.slack_count("chat.postMessage")
        per_client = -(-sends // clients)
        starts: list[float] = []
        acks: list[float] = []
        lock = threading.Lock()
        barrier = threading.Barrier(clients)
        failures: list[str] = []

        def client() -> None:
            with requests.Session() as session:
                barrier.wait()
                for _ in range(per_client):
                    try:
                        started, acked = self._post(session)
                    except (RuntimeError, requests.RequestException) as error:
                        failures.append(str(error))
                        continue
                    with lock:
                        starts.append(started)
                        acks.append(acked - started)

        threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if failures:
            raise RuntimeError(f"{self.name}: {len(failures)} commands failed")
        total = per_client * clients
        if (
            self.fakes.slack_wait("chat.postMessage", posted + total, WAIT_SECONDS)
            is None
        ):
            raise RuntimeError(f"{self.name}: not every flood send was posted")
        posts = self._post_times(posted, total)
        reached = sorted(self.fakes.octopush_stats()["send_times"])
        starts.sort()
        return Timings(
            ack=acks,
            octopush=[
                call - start for call, start in zip(reached, starts, strict=False)
            ],
            post=[done - start for done, start in zip(posts, starts, strict=False)],
            drained=[max(posts) - starts[0]],
        )

    def _post_times(self, before: int, count: int) -> list[float]:
        return [
            found
            for n in range(before + 1, before + count + 1)
            if (found := self.fakes.slack_wait("chat.postMessage", n, 1.0)) is not None
        ]


def line(name: str, timings: Timings) -> str:
    def pair(samples: list[float]) -> str:
        return (
            f"p50 {ms(percentile(samples, 50)):>9} p99 {ms(percentile(samples, 99)):>9}"
        )

    return (
        f"  {name:<22} ack {pair(timings.ack)} | Octopush {pair(timings.octopush)} "
        f"| post {pair(timings.post)} ({len(timings.ack)} sends)"
    )


def run(sends: int = SEQUENTIAL_SENDS, flood_sends: int = FLOOD_SENDS) -> list[Verdict]:
    verdicts: list[Verdict] = []
    with workspace("e2e") as procs:
        fakes = start_fakes(procs)
        servers: dict[str, Server] = {}
        for name, app, extra in (
            ("ours", OUR_APP, {}),
            ("bare", BARE_APP, {**BARE_ENV, "BENCH_BARE_SENDS": "1"}),
        ):
            port = free_port()
            env = app_env(
                port=port,
                slack_api_url=fakes.slack_api_url,
                octopush_url=fakes.octopush_url,
                database_url=f"sqlite:///{procs.workdir}/audit-{name}.db",
            )
            _, url = serve(
                procs, name, gunicorn_argv(app, port), {**env, **extra}, port
            )
            servers[name] = Server(name, url, fakes)
            servers[name].sequential(5)  # warm-up: connections, caches, SQLite pages
        ours, bare = servers["ours"], servers["bare"]
        for title, measure, count in (
            ("one at a time", "sequential", sends),
            (f"flood, {CLIENTS} clients", "flood", flood_sends),
        ):
            pooled = {"ours": Timings(), "bare": Timings()}
            for _ in range(2):  # alternate, so drift hits both sides
                for server in (bare, ours):
                    pooled[server.name].extend(getattr(server, measure)(count // 2))
            print(f"end to end, {title}")
            print(line("sms-bot", pooled["ours"]))
            print(line("bare Bolt sender", pooled["bare"]), flush=True)
            ours_t, bare_t = pooled["ours"], pooled["bare"]
            verdicts.append(
                at_most(
                    f"ack p99, {title}",
                    percentile(ours_t.ack, 99),
                    percentile(bare_t.ack, 99),
                    "s",
                    ACK_LIMIT,
                )
            )
            for what, label in (
                ("octopush", "Octopush call"),
                ("post", "channel post"),
            ):
                for q in (50, 99):
                    name = f"  /sms → {label} p{q}"
                    figures = (
                        percentile(getattr(ours_t, what), q),
                        percentile(getattr(bare_t, what), q),
                    )
                    targeted = (
                        measure == "sequential" and what == "octopush" and q == 50
                    )
                    verdicts.append(
                        at_most(name, *figures, "s", ACK_LIMIT)
                        if targeted
                        else context(name, *figures, "s")
                    )
            if ours_t.drained:
                verdicts.append(
                    at_most(
                        "  flood drained (first sent → last posted)",
                        sum(ours_t.drained) / len(ours_t.drained),
                        sum(bare_t.drained) / len(bare_t.drained),
                        "s",
                        ACK_LIMIT,
                    )
                )
    print_verdicts(
        "end-to-end latency (baseline: bare Bolt app, same two calls)", verdicts
    )
    return verdicts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sends", type=int, default=SEQUENTIAL_SENDS)
    parser.add_argument("--flood-sends", type=int, default=FLOOD_SENDS)
    args = parser.parse_args()
    run(args.sends, args.flood_sends)


if __name__ == "__main__":
    main()
