"""``python -m bench.scale``: the hot paths at 1,000 and at 1,000,000 audit records.

Each path is what one event costs the audit store: a delivery receipt, an SMS reply,
``/sms history``, the policy counts (rate per user, budget per day), the escalation
poll, the pending sweep, a send's request id lookup, one callback through the inbox,
one ``/sms`` command through the queue, and on SQLite the same command through the
acks' own intake file (the layout ``open_command_queue`` gives a SQLite audit trail:
the intake and the queue seeded with as many commands, run and emptied, as the trail
has records). It runs on SQLite, and on PostgreSQL when ``BENCH_DATABASE_URL`` (or
``TEST_DATABASE_URL``) answers. Target: each path's
median at the large size is at most 1.5× its median at the small one.
``--small`` is a quick run (1,000 vs 20,000 records) to check the benchmark works.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench.seed import Seeded, seed
from bot.audit import AuditStore
from bot.audit.commands import CommandQueue, open_command_queue
from bot.audit.deliveries import DeliveryLog
from bot.audit.inbox import CallbackInbox
from bot.audit.ledger import SendLedger
from bot.audit.pages import PageStore
from bot.paging.inbound import FINAL_STATUSES

TARGET = 1.5
SIZES = (1_000, 1_000_000)
SMALL_SIZES = (1_000, 20_000)
Path_ = Callable[[AuditStore, Seeded, int], object]


def receipt(store: AuditStore, seeded: Seeded, i: int) -> object:
    """What one delivery receipt costs: find the ticket, store it, reread for the post."""
    ticket, _ = seeded.tickets[i % len(seeded.tickets)]
    record = store.find_by_ticket(ticket)
    assert record is not None, ticket
    log = DeliveryLog(store)
    log.record(
        audit_id=record.id,
        message_id=ticket,
        number=f"+3370{i:07d}",
        status="DELIVERED",
        raw_status="DELIVERED",
        final_statuses=FINAL_STATUSES,
    )
    PageStore(store).for_audit(record.id)
    return log.for_audit(record.id)


def reply(store: AuditStore, seeded: Seeded, i: int) -> object:
    """An SMS reply: find the ticket it answers, and the page it may acknowledge."""
    ticket, _ = seeded.tickets[(i * 7) % len(seeded.tickets)]
    record = store.find_by_ticket(ticket)
    assert record is not None, ticket
    return PageStore(store).for_audit(record.id)


def history(store: AuditStore, seeded: Seeded, i: int) -> object:
    """``/sms history`` in a channel, and across the workspace."""
    channel = seeded.channels[i % len(seeded.channels)]
    return store.recent(limit=10, channel_id=channel), store.recent(limit=10)


def rate(store: AuditStore, seeded: Seeded, i: int) -> object:
    """The per-user rate limit: attempts in the last hour (the guard's read)."""
    user = seeded.users[i % len(seeded.users)]
    ledger = SendLedger(store)
    with store.transaction("bench the rate") as conn:
        return ledger.send_window(
            conn, user_id=user, since=seeded.now - timedelta(hours=1)
        )


def budget(store: AuditStore, seeded: Seeded, i: int) -> object:
    """The daily budget: spent and in flight since midnight, and the last unit price."""
    midnight = seeded.now.replace(hour=0, minute=0, second=0, microsecond=0)
    ledger = SendLedger(store)
    with store.transaction("bench the budget") as conn:
        return ledger.spending(conn, midnight), ledger.last_priced(conn, limit=1)


def escalation(store: AuditStore, seeded: Seeded, i: int) -> object:
    """The escalation poll: open pages whose time has come."""
    return PageStore(store).due()


def pending(store: AuditStore, seeded: Seeded, i: int) -> object:
    """The pending sweep: attempts stuck for a minute whose lease ran out."""
    return SendLedger(store).unsettled(age=timedelta(minutes=1))


def request_key(store: AuditStore, seeded: Seeded, i: int) -> object:
    """A send's idempotency lookup: the attempts tried under one request id."""
    with store.transaction("bench the request key") as conn:
        return SendLedger(store).latest(conn, f"bench-{seeded.size}-{i}")


def inbox(store: AuditStore, seeded: Seeded, i: int) -> object:
    """One callback through the inbox: store it, claim it, mark it handled."""
    callbacks = CallbackInbox(store)
    callbacks.put(
        f'{{"bench": {i}, "size": {seeded.size}}}'.encode(), "application/json"
    )
    for item in callbacks.claim("bench"):
        callbacks.finish(item.id, "bench", "handled")
    return None


def commands(store: AuditStore, seeded: Seeded, i: int) -> object:
    """One ``/sms`` command through the queue: stored by the ack, claimed by a sender,
    finished; and what ``/healthz`` and ``/metrics`` read (the oldest waiting, how many
    wait, the last heartbeat)."""
    queue = CommandQueue(store)
    queue.put_command("send", f"bench-{seeded.size}-{i}", {"text": "bench"})
    for item in queue.claim("bench", limit=1):
        queue.finish(item.id, "bench", "run")
    queue.heartbeat("bench", started_at=queue.now())
    queue.oldest_waiting()
    queue.waiting()
    queue.last_heartbeat()
    return None


#: Each SQLite trail's queue in its own files, seeded once (at the warm-up).
_SIDE_QUEUES: dict[int, CommandQueue] = {}


def intake(store: AuditStore, seeded: Seeded, i: int) -> object:
    """One ``/sms`` command through the acks' intake on SQLite: the ack's insert, a
    sender's claim (with the copy from the intake) and finish, the upkeep that empties
    the copied bodies, and what ``/healthz`` reads."""
    queue = _side_queue(store, seeded)
    queue.put_command("send", f"bench-intake-{seeded.size}-{i}", {"text": "bench"})
    for item in queue.claim("bench", limit=1):
        queue.finish(item.id, "bench", "run")
    queue.empty_copied()
    queue.oldest_waiting()
    queue.waiting()
    return None


def _side_queue(store: AuditStore, seeded: Seeded) -> CommandQueue:
    """``store``'s queue in its own files, seeded with ``seeded.size`` commands run,
    copied and emptied (a week of history), as a sender leaves them."""
    queue = _SIDE_QUEUES.get(id(store))
    if queue is not None:
        return queue
    queue = open_command_queue(store)
    assert queue.intake is not None, "SQLite only"
    intake_rows = (
        (n, f"2026-01-01 00:00:00.{n % 1_000_000:06d}", "send", b"", f"{n:064x}")
        for n in range(1, seeded.size + 1)
    )
    _load_raw(
        queue.intake,
        "INSERT INTO command_intake (id, received_at, content_type, body, digest) "
        "VALUES (?, ?, ?, ?, ?)",
        intake_rows,
    )
    queue_rows = (
        (
            f"2026-01-01 00:00:00.{n % 1_000_000:06d}",
            f"{n:064x}",
            f"2026-01-01 00:00:01.{n % 1_000_000:06d}",
        )
        for n in range(1, seeded.size + 1)
    )
    _load_raw(
        queue.store,
        "INSERT INTO stored_commands (received_at, content_type, body, digest, "
        "attempts, processed_at, outcome) VALUES (?, 'send', x'', ?, 1, ?, 'run')",
        queue_rows,
    )
    _load_raw(
        queue.store,
        "INSERT INTO command_intake_marks (id, copied_id, digest, emptied_id) "
        "VALUES (1, ?, ?, ?)",
        [(seeded.size, f"{seeded.size:064x}", seeded.size)],
    )
    _SIDE_QUEUES[id(store)] = queue
    return queue


def _load_raw(store: AuditStore, sql: str, rows: Iterable[tuple[Any, ...]]) -> None:
    """Insert ``rows`` with the driver's ``executemany`` (a million in seconds)."""
    with store.transaction("seed the command queue", write=True) as conn:
        raw = conn.connection.driver_connection
        assert raw is not None
        raw.executemany(sql, rows)


def close_side_queues() -> None:
    for queue in _SIDE_QUEUES.values():
        queue.close()
    _SIDE_QUEUES.clear()


PATHS: dict[str, Path_] = {
    "receipt": receipt,
    "reply": reply,
    "history": history,
    "rate (per user)": rate,
    "budget (per day)": budget,
    "escalation poll": escalation,
    "pending sweep": pending,
    "request key": request_key,
    "callback inbox": inbox,
    "command queue": commands,
    "command intake": intake,
}
#: The paths that exist on one backend only.
SQLITE_ONLY = frozenset({"command intake"})


@dataclass(frozen=True)
class Timing:
    backend: str
    path: str
    size: int
    median_s: float


def measure(
    stores: Sequence[tuple[AuditStore, Seeded]], *, repeat: int, backend: str
) -> dict[tuple[str, int], float]:
    """Median seconds per call of each path at each size, keyed (path, size).

    The sizes take turns call by call, so a busy moment of a shared machine costs
    both sizes alike instead of skewing their ratio.
    """
    medians: dict[tuple[str, int], float] = {}
    for name, path in PATHS.items():
        if name in SQLITE_ONLY and backend != "sqlite":
            continue
        samples: dict[int, list[float]] = {seeded.size: [] for _, seeded in stores}
        for store, seeded in stores:
            for i in range(3):  # warm-up
                path(store, seeded, i)
        for i in range(repeat):
            for store, seeded in stores:
                started = time.perf_counter()
                path(store, seeded, i + 3)
                samples[seeded.size].append(time.perf_counter() - started)
        for size, values in samples.items():
            medians[(name, size)] = statistics.median(values)
    return medians


def fresh_postgres(url: str) -> str | None:
    """``url`` with every table dropped, or None when it does not answer."""
    engine = sa.create_engine(url, connect_args={"connect_timeout": 3})
    try:
        existing = sa.MetaData()
        existing.reflect(engine)
        existing.drop_all(engine)
        with engine.begin() as conn:
            conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
    except sa.exc.SQLAlchemyError:
        return None
    finally:
        engine.dispose()
    return url


def run_backend(
    backend: str, url_for: Callable[[int], str], sizes: Sequence[int], repeat: int
) -> list[Timing]:
    stores: list[tuple[AuditStore, Seeded]] = []
    try:
        for size in sizes:
            store = AuditStore.from_url(url_for(size))
            started = time.perf_counter()
            seeded = seed(store.engine, size)
            stores.append((store, seeded))
            print(
                f"{backend}: seeded {size:,} records in "
                f"{time.perf_counter() - started:.1f} s",
                flush=True,
            )
        medians = measure(stores, repeat=repeat, backend=backend)
    finally:
        close_side_queues()
        for store, _ in stores:
            store.close()
    return [
        Timing(backend, name, size, median) for (name, size), median in medians.items()
    ]


def postgres_for(url: str, size: int, sizes: Sequence[int]) -> str:
    """An emptied database per size: ``url`` for the first, ``<db>_<size>`` after."""
    if size == sizes[0]:
        return fresh_postgres(url) or url
    parsed = sa.make_url(url)
    name = f"{parsed.database}_{size}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
            ).first()
            if exists is None:
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    other = parsed.set(database=name).render_as_string(hide_password=False)
    return fresh_postgres(other) or other


def report(timings: Sequence[Timing], sizes: Sequence[int]) -> list[str]:
    """One line per backend and path: both medians, the ratio, PASS or MISS."""
    small, large = sizes[0], sizes[-1]
    by_key = {(t.backend, t.path, t.size): t.median_s for t in timings}
    lines = [
        f"{'backend':10} {'path':18} {small:>10,} {large:>12,}  ratio  (≤ {TARGET}×)"
    ]
    for backend in dict.fromkeys(t.backend for t in timings):
        # The paths this backend ran (the intake's is SQLite's only).
        for path in dict.fromkeys(t.path for t in timings if t.backend == backend):
            low, high = by_key[(backend, path, small)], by_key[(backend, path, large)]
            ratio = high / low
            verdict = "PASS" if ratio <= TARGET else "MISS"
            lines.append(
                f"{backend:10} {path:18} {low * 1000:8.3f}ms {high * 1000:10.3f}ms"
                f"  {ratio:4.2f}×  {verdict}"
            )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="1k vs 20k, quick")
    parser.add_argument("--sizes", type=int, nargs=2, metavar=("SMALL", "LARGE"))
    parser.add_argument("--repeat", type=int, default=200, help="calls per path")
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument(
        "--postgres-only", action="store_true", help="skip SQLite (a re-run)"
    )
    args = parser.parse_args(argv)
    sizes = tuple(args.sizes or (SMALL_SIZES if args.small else SIZES))
    timings: list[Timing] = []
    with tempfile.TemporaryDirectory(prefix="sms-bot-scale-") as tmp:
        if not args.postgres_only:
            timings += run_backend(
                "sqlite",
                lambda n: f"sqlite:///{Path(tmp)}/audit-{n}.db",
                sizes,
                args.repeat,
            )
    pg = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if pg and not args.sqlite_only:
        if fresh_postgres(pg) is None:
            print("postgresql: unreachable, skipped")
        else:
            timings += run_backend(
                "postgresql",
                lambda n: postgres_for(pg, n, sizes),
                sizes,
                args.repeat,
            )
            for size in sizes:
                fresh_postgres(postgres_for(pg, size, sizes))
    else:
        print("postgresql: BENCH_DATABASE_URL / TEST_DATABASE_URL not set, skipped")
    lines = report(timings, sizes)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
