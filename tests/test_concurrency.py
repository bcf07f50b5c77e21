"""Many sends at once through ``SmsService``, on SQLite and PostgreSQL.

Octopush is ``RecordingOctopush``, a threaded fake: pytest-httpserver answers one
request at a time, which would serialise the very thing under test. Clients get a 5 s
read timeout: a timeout here would make the client retry (a second request for one
send), and these tests are about the audit trail under load, not about timing.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest

from bot.audit import AuditStore
from bot.audit.ledger import SendLedger
from bot.domain import Actor, AuditStatus, RateLimit, SendDraft, SendOutcome, Source
from bot.errors import PolicyError
from bot.octopush import OctopushClient
from bot.sending.guard import Guard
from bot.sending.policy import Policy
from bot.sending.rules import SendDefaults
from bot.sending.service import SmsService
from tests.conftest import OCTOPUSH_KEY, go_together
from tests.conftest import _drop_audit_tables as drop_audit_tables
from tests.fakes.raw_http import Answer, RecordingOctopush, ticket_for

CLI = Actor(source=Source.CLI)
NUMBER = "+33612345678"
REPO = Path(__file__).resolve().parents[1]
T = TypeVar("T")


@contextmanager
def sms_service(
    database_url: str, octopush_url: str, policy: Policy | None = None
) -> Iterator[SmsService]:
    """A service of its own: its own store (engine, pool) and Octopush client; with
    ``policy``, the admin's rules run by the real guard."""
    store = AuditStore.from_url(database_url)
    guard = Guard(policy=policy, store=store) if policy is not None else None
    client = OctopushClient(
        api_login="ops@example.com",
        api_key=OCTOPUSH_KEY,
        base_url=octopush_url,
        timeout=(2, 5),
        backoff=0,
    )
    try:
        yield SmsService(
            octopush=client, store=store, defaults=SendDefaults(), policy=guard
        )
    finally:
        client.close()
        store.close()


def all_at_once(calls: list[Callable[[], T]]) -> tuple[list[T], list[BaseException]]:
    """Run each call on its own thread, released together; return results and errors."""
    start = threading.Barrier(len(calls))
    results: list[T] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(call: Callable[[], T]) -> None:
        try:
            start.wait(timeout=10)
            result = call()
        except BaseException as exc:  # collected: the caller asserts there are none
            with lock:
                errors.append(exc)
        else:
            with lock:
                results.append(result)

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a sender hung"
    return results, errors


def sender(service: SmsService, draft: SendDraft) -> Callable[[], SendOutcome]:
    return lambda: service.send(draft, CLI)


def test_50_concurrent_sends_each_get_a_sent_record_and_one_octopush_request(
    database_url: str,
) -> None:
    with (
        RecordingOctopush() as octopush,
        sms_service(database_url, octopush.url) as service,
    ):
        drafts = [
            SendDraft(recipients=(NUMBER,), text=f"alert {n}", request_id=f"burst-{n}")
            for n in range(50)
        ]

        outcomes, errors = all_at_once([sender(service, d) for d in drafts])

        assert errors == []
        assert len(outcomes) == 50
        assert {o.status for o in outcomes} == {AuditStatus.SENT}
        assert not any(o.duplicate for o in outcomes)
        records = service.store.recent(limit=100)
    assert len(records) == 50
    assert {r.status for r in records} == {AuditStatus.SENT}
    assert {r.request_id for r in records} == {f"burst-{n}" for n in range(50)}
    assert {r.id for r in records} == {o.audit_id for o in outcomes}
    # Each record holds the ticket of its own request, not a neighbour's.
    assert len({r.sms_ticket for r in records}) == 50
    for record in records:
        assert record.text == f"alert {record.request_id.removeprefix('burst-')}"
    assert len(octopush.bodies) == 50
    assert sorted(str(b["request_id"]) for b in octopush.bodies) == sorted(
        r.request_id for r in records
    )


def test_20_simultaneous_submits_of_one_request_id_send_once(
    database_url: str,
) -> None:
    def slow_ticket(body: dict[str, Any], number: int) -> Answer:
        time.sleep(0.2)  # keep the first send in flight while the others arrive
        return 201, ticket_for(number)

    with (
        RecordingOctopush(slow_ticket) as octopush,
        sms_service(database_url, octopush.url) as service,
    ):
        draft = SendDraft(recipients=(NUMBER,), text="db-1 down", request_id="modal-7")

        outcomes, errors = all_at_once([sender(service, draft) for _ in range(20)])

        assert errors == []
        assert len(outcomes) == 20
        (record,) = service.store.recent(limit=10)
    assert len(octopush.bodies) == 1
    assert octopush.bodies[0]["request_id"] == "modal-7"
    assert record.status is AuditStatus.SENT
    assert record.sms_ticket == "sms_rec0001"
    (fresh,) = [o for o in outcomes if not o.duplicate]
    assert fresh.status is AuditStatus.SENT
    assert fresh.sms_ticket == "sms_rec0001"
    duplicates = [o for o in outcomes if o.duplicate]
    assert len(duplicates) == 19
    assert {o.audit_id for o in outcomes} == {record.id}
    assert {o.request_id for o in outcomes} == {"modal-7"}
    # A late submit sees the first result; one during the send sees it still pending.
    assert {o.status for o in duplicates} <= {AuditStatus.PENDING, AuditStatus.SENT}
    for outcome in duplicates:
        if outcome.status is AuditStatus.SENT:
            assert outcome.sms_ticket == "sms_rec0001"


def test_two_stores_on_one_database_sending_25_each_at_once_lose_no_record(
    database_url: str,
) -> None:
    with (
        RecordingOctopush() as octopush,
        sms_service(database_url, octopush.url) as first,
        sms_service(database_url, octopush.url) as second,
    ):
        calls = [
            sender(
                service,
                SendDraft(
                    recipients=(NUMBER,), text=f"{name} {n}", request_id=f"{name}-{n}"
                ),
            )
            for n in range(25)
            for name, service in (("first", first), ("second", second))
        ]

        outcomes, errors = all_at_once(calls)

        assert errors == []
        assert {o.status for o in outcomes} == {AuditStatus.SENT}
        seen_by_first = first.store.recent(limit=100)
        seen_by_second = second.store.recent(limit=100)
    assert len(seen_by_first) == 50
    assert seen_by_first == seen_by_second
    assert {r.status for r in seen_by_first} == {AuditStatus.SENT}
    assert {r.request_id for r in seen_by_first} == {
        f"{name}-{n}" for name in ("first", "second") for n in range(25)
    }
    assert len({r.id for r in seen_by_first}) == 50
    assert len({r.sms_ticket for r in seen_by_first}) == 50
    assert len(octopush.bodies) == 50


# -- limits under a burst (issue 10.6) ---------------------------------------------------

SLACK_USER = Actor(
    source=Source.SLASH, slack_team_id="T1", slack_user_id="U1", slack_channel_id="C1"
)


def slow_counts(monkeypatch: pytest.MonkeyPatch, seconds: float = 0.05) -> None:
    """Widen the gap between counting and recording: a check-then-insert that is not
    atomic then lets every simultaneous send through, whatever the timing."""
    window, spent = SendLedger.send_window, SendLedger.spending

    def slow_window(self: SendLedger, *args: Any, **kwargs: Any) -> Any:
        found = window(self, *args, **kwargs)
        time.sleep(seconds)
        return found

    def slow_spent(self: SendLedger, *args: Any, **kwargs: Any) -> Any:
        found = spent(self, *args, **kwargs)
        time.sleep(seconds)
        return found

    monkeypatch.setattr(SendLedger, "send_window", slow_window)
    monkeypatch.setattr(SendLedger, "spending", slow_spent)


def attempt(service: SmsService, draft: SendDraft, actor: Actor) -> Callable[[], str]:
    """One send; its audit status, or the rule that refused it."""

    def run() -> str:
        try:
            return service.send(draft, actor).status.value
        except PolicyError as refusal:
            return refusal.rule

    return run


def test_8_simultaneous_sends_at_a_rate_of_3_an_hour_send_exactly_3(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    slow_counts(monkeypatch)

    def slow_ticket(body: dict[str, Any], number: int) -> Answer:
        time.sleep(0.1)  # the first sends are still pending while the others count
        return 201, ticket_for(number)

    policy = Policy(rate=RateLimit(3, 3600, "3/hour"))
    with (
        RecordingOctopush(slow_ticket) as octopush,
        sms_service(database_url, octopush.url, policy) as service,
    ):
        calls = [
            attempt(
                service,
                SendDraft(recipients=(NUMBER,), text=f"n{n}", request_id=f"rate-{n}"),
                SLACK_USER,
            )
            for n in range(8)
        ]

        results, errors = all_at_once(calls)

        assert errors == []
        records = service.store.recent(limit=20)
    assert sorted(results) == ["SMS_RATE_LIMIT"] * 5 + ["sent"] * 3
    assert len(octopush.bodies) == 3
    assert sorted(r.status.value for r in records) == ["rejected"] * 5 + ["sent"] * 3


def test_simultaneous_sends_count_in_flight_ones_toward_the_daily_budget(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 0.0333 a send: with 0.1 a day, the first send leaves room for exactly two more.
    policy = Policy(daily_budget=0.1)

    def slow_ticket(body: dict[str, Any], number: int) -> Answer:
        time.sleep(0.1 if number > 1 else 0)
        return 201, ticket_for(number)

    with (
        RecordingOctopush(slow_ticket) as octopush,
        sms_service(database_url, octopush.url, policy) as service,
    ):
        first = service.send(
            SendDraft(recipients=(NUMBER,), text="first", request_id="b-0"), CLI
        )
        assert first.status is AuditStatus.SENT
        slow_counts(monkeypatch)
        calls = [
            attempt(
                service,
                SendDraft(recipients=(NUMBER,), text=f"n{n}", request_id=f"b-{n}"),
                CLI,
            )
            for n in range(1, 7)
        ]

        results, errors = all_at_once(calls)

        assert errors == []
    assert sorted(results) == ["SMS_DAILY_BUDGET"] * 4 + ["sent"] * 2
    assert len(octopush.bodies) == 3


#: One process of the two-process test: 4 sends at once by user U1, rate 3/hour.
BURST = """
import sys, threading
from bot.audit import AuditStore
from bot.domain import Actor, RateLimit, SendDraft, Source
from bot.errors import PolicyError
from bot.octopush import OctopushClient
from bot.sending.guard import Guard
from bot.sending.policy import Policy
from bot.sending.rules import SendDefaults
from bot.sending.service import SmsService

url, base_url, name = sys.argv[1:4]
store = AuditStore.from_url(url)
client = OctopushClient(api_login="ops@example.com", api_key="k", base_url=base_url,
                        timeout=(2, 5), backoff=0)
guard = Guard(policy=Policy(rate=RateLimit(3, 3600, "3/hour")), store=store)
service = SmsService(octopush=client, store=store, defaults=SendDefaults(), policy=guard)
actor = Actor(source=Source.SLASH, slack_team_id="T1", slack_user_id="U1")
start = threading.Barrier(4)

def send(n):
    start.wait()
    draft = SendDraft(recipients=("+33612345678",), text="x", request_id=f"{name}-{n}")
    try:
        service.send(draft, actor)
    except PolicyError:
        pass

print("ready", flush=True)  # imported and connected
sys.stdin.readline()  # the test says go to both processes at once
threads = [threading.Thread(target=send, args=(n,)) for n in range(4)]
for t in threads: t.start()
for t in threads: t.join()
print("done", flush=True)
"""


def test_two_processes_on_one_postgresql_send_exactly_the_rate_limit(
    postgres_url: str,
) -> None:
    drop_audit_tables(postgres_url)
    AuditStore.from_url(postgres_url).close()  # migrate once, before the race

    def slow_ticket(body: dict[str, Any], number: int) -> Answer:
        time.sleep(0.1)
        return 201, ticket_for(number)

    try:
        with RecordingOctopush(slow_ticket) as octopush:
            bots = [
                subprocess.Popen(
                    [sys.executable, "-c", BURST, postgres_url, octopush.url, name],
                    cwd=REPO,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
                for name in ("one", "two")
            ]
            go_together(bots)  # once both imported and connected
            for bot in bots:
                out, err = bot.communicate(timeout=60)
                assert bot.returncode == 0, err[-2000:]
                assert out.strip() == "done"
            bodies = list(octopush.bodies)
        store = AuditStore.from_url(postgres_url)
        try:
            records = store.recent(limit=20)
        finally:
            store.close()
    finally:
        drop_audit_tables(postgres_url)
    assert len(bodies) == 3
    assert sorted(r.status.value for r in records) == ["rejected"] * 5 + ["sent"] * 3
