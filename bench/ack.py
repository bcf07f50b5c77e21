"""Ack latency of ``/sms NUMBER TEXT`` and ``/sms`` (form) against a bare Bolt app.

Both apps run under gunicorn with ``bot/gunicorn_conf.py`` on loopback; clients sign
each request like Slack and time one keep-alive POST. Runs alternate floor/ours
(``ROUNDS`` times) and pool their samples, so the machine's drift hits both.

Our lazy work (rules, audit trail, Octopush, channel post; or ``views.open``) is real
and runs in the same worker process as the acks, so three load shapes are measured:
one page at a time (the next command 10 ms after the previous one's result was
posted; the floor pauses 10 ms after each ack too),
back to back from one client, and back to back from 16 clients; in the last two the
lazy work piles up behind the acks and competes with them. Last, the fake Octopush
takes 10 s per answer and the send acks are measured again: an ack must not wait for
the gateway.

``python -m bench.ack``
"""

from __future__ import annotations

import argparse
import itertools
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bench.harness import (
    BARE_APP,
    BARE_ENV,
    CLIENTS,
    OUR_APP,
    SLACK_PATH,
    Fakes,
    LoadResult,
    Processes,
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
    run_clients,
    serve,
    start_fakes,
    workspace,
)

SEND_TEXT = "+33612345678 db-1 is down, failover in progress"
FORM_TEXT = ""
#: The target: our ack p99 within this factor of the bare app's.
LIMIT = 1.5
#: The slow gateway of the last phase, in seconds (the issue's "Octopush takes 10 s").
SLOW_GATEWAY = 10.0
ROUNDS = 3
#: One page at a time: the pause after a command's post (ours) or ack (the floor), for
#: the rest of its lazy work (the audit record of the post's ``ts``) to finish.
SETTLE = 0.01


@dataclass(frozen=True)
class Mode:
    name: str
    clients: int
    per_client: int
    warmup: int
    #: Wait for each command's lazy work (its post) before sending the next one.
    paced: bool = False


PACED = Mode("one at a time", clients=1, per_client=150, warmup=10, paced=True)
SEQUENTIAL = Mode("sequential", clients=1, per_client=150, warmup=10)
CONCURRENT = Mode(f"{CLIENTS} concurrent", clients=CLIENTS, per_client=12, warmup=2)
MODES = (PACED, SEQUENTIAL, CONCURRENT)


#: Gunicorn's access log line (``bot/gunicorn_conf.py``): request, status, size, time.
ACCESS = re.compile(rb'"POST /slack/events HTTP/1.1" 200 \d+ (\d+)us')


@dataclass
class Pool:
    """Latencies pooled over rounds: client-side, and server-side from gunicorn's log."""

    samples: list[float] = field(default_factory=list)
    server: list[float] = field(default_factory=list)
    errors: int = 0

    def add(self, result: LoadResult, server: list[float] | None = None) -> None:
        self.samples.extend(result.latencies)
        self.server.extend(server or [])
        self.errors += result.errors

    @property
    def p50(self) -> float:
        return percentile(self.samples, 50)

    @property
    def p99(self) -> float:
        return percentile(self.samples, 99)


class Bench:
    """The servers and the fakes of one run: the floor, ours, and a bare sender."""

    def __init__(self, procs: Processes, fakes: Fakes) -> None:
        self.procs = procs
        self.fakes = fakes
        self._runs = itertools.count()
        self.urls: dict[str, str] = {}
        self.servers = {}
        for name, app, extra in (
            ("floor", BARE_APP, BARE_ENV),
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
            argv = gunicorn_argv(app, port)
            self.servers[name], self.urls[name] = serve(
                procs, name, argv, {**env, **extra}, port
            )

    def run(
        self, who: str, text: str, mode: Mode, *, drain: bool = True
    ) -> tuple[LoadResult, list[float]]:
        """One load run; unless it is the floor, wait until every command's lazy work
        is done (``drain``), so the next run starts on an idle server. Returns the
        client-side result and the server-side times (gunicorn's ``%(D)s``) of the
        measured requests."""
        log = self.procs.workdir / f"{who}.log"
        offset = log.stat().st_size
        run = next(self._runs)
        completion = "views.open" if text == FORM_TEXT else "chat.postMessage"
        lazy = who != "floor"
        before = self.fakes.slack_count(completion) if lazy and drain else 0

        def body(client: int, i: int) -> str:
            return command_body(
                text,
                trigger=f"bench-{who}-{run}-{client}-{i}",
                response_url=self.fakes.response_url,
            )

        def settle(client: int, i: int) -> None:
            if lazy and self.fakes.slack_wait(completion, before + i + 1, 30) is None:
                raise RuntimeError(f"{who}: command {i} had no {completion} in 30 s")
            time.sleep(SETTLE)

        after: Callable[[int, int], None] | None = settle if mode.paced else None
        result = run_clients(
            self.urls[who] + SLACK_PATH,
            body,
            clients=mode.clients,
            requests_per_client=mode.per_client,
            warmup=mode.warmup,
            after=after,
        )
        if lazy and drain:
            total = before + mode.clients * (mode.per_client + mode.warmup)
            if self.fakes.slack_wait(completion, total, timeout=120) is None:
                raise RuntimeError(f"{who}: lazy work not done within 120 s")
        time.sleep(0.05)  # the access log lines of the last requests
        with log.open("rb") as lines:
            lines.seek(offset)
            server = [int(m[1]) / 1e6 for m in ACCESS.finditer(lines.read())]
        return result, server[mode.clients * mode.warmup :]


def measure(
    bench: Bench, label: str, text: str, mode: Mode, who: tuple[str, ...]
) -> dict[str, Pool]:
    pools = {name: Pool() for name in who}
    for _ in range(ROUNDS):
        for name in who:
            pools[name].add(*bench.run(name, text, mode))
    shown = " | ".join(
        f"{name} p50 {ms(pool.p50)} p99 {ms(pool.p99)} "
        f"(server {ms(percentile(pool.server, 50))} / {ms(percentile(pool.server, 99))})"
        for name, pool in pools.items()
    )
    errors = sum(pool.errors for pool in pools.values())
    print(f"  {label:<18} {mode.name:<14} {shown} | errors {errors}", flush=True)
    return pools


def run() -> list[Verdict]:
    verdicts: list[Verdict] = []
    with workspace("ack") as procs:
        fakes = start_fakes(procs)
        bench = Bench(procs, fakes)
        for name in bench.urls:  # warm-up: connections, imports, SQLite pages
            bench.run(name, SEND_TEXT, PACED)
        print(
            f"ack latency over loopback, gunicorn gthread, {ROUNDS} rounds alternated"
        )
        floors: dict[str, Pool] = {}
        for label, text in (
            ("/sms NUMBER TEXT", SEND_TEXT),
            ("/sms (form)", FORM_TEXT),
        ):
            for mode in MODES:
                who: tuple[str, ...] = ("floor", "ours")
                if text == SEND_TEXT and mode is not PACED:
                    who = ("floor", "ours", "bare-sender")
                pools = measure(bench, label, text, mode, who)
                floor, ours = pools["floor"], pools["ours"]
                if text == SEND_TEXT:
                    floors[mode.name] = floor
                name = f"ack {label}, {mode.name}"
                verdicts.append(context(f"{name}, p50", ours.p50, floor.p50, "s"))
                verdicts.append(
                    at_most(f"{name}, p99", ours.p99, floor.p99, "s", LIMIT)
                )
                verdicts.append(
                    context(
                        "  server-side p99 (gunicorn access log)",
                        percentile(ours.server, 99),
                        percentile(floor.server, 99),
                        "s",
                    )
                )
                if "bare-sender" in pools:
                    sender = pools["bare-sender"].p99
                    verdicts.append(
                        context(
                            "  bare Bolt sender, p99 (same load)",
                            sender,
                            floor.p99,
                            "s",
                        )
                    )

        # The gateway now answers in 10 s. Acks are measured once more against the
        # floors above; the lazy sends pile up behind the slow gateway and are
        # abandoned when the server is stopped.
        fakes.set_octopush_delay(SLOW_GATEWAY)
        for mode in (SEQUENTIAL, CONCURRENT):
            slow = Pool()
            for _ in range(ROUNDS):
                slow.add(*bench.run("ours", SEND_TEXT, mode, drain=False))
            print(
                f"  {'Octopush 10 s':<18} {mode.name:<14} ours p50 {ms(slow.p50)} "
                f"p99 {ms(slow.p99)} (server {ms(percentile(slow.server, 50))} / "
                f"{ms(percentile(slow.server, 99))}) | errors {slow.errors}",
                flush=True,
            )
            name = f"ack /sms NUMBER TEXT, {mode.name}, Octopush 10 s, p99"
            verdicts.append(at_most(name, slow.p99, floors[mode.name].p99, "s", LIMIT))
            verdicts.append(
                context(
                    "  server-side p99 (gunicorn access log)",
                    percentile(slow.server, 99),
                    percentile(floors[mode.name].server, 99),
                    "s",
                )
            )
        procs.stop(bench.servers["ours"], grace=2.0)  # abandons the stuck lazy sends
    print_verdicts("ack latency (baseline: bare Bolt app, same gunicorn)", verdicts)
    return verdicts


def main() -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    run()


if __name__ == "__main__":
    main()
