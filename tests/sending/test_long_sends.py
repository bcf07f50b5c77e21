"""A batched send that runs longer than the sweep's patience is never taken over.

The CLI sends 1,200 numbers (three batches) through a slow local gateway in its own
process, with a lease shorter than the send (so it must be renewed), while the real
sweep runs in this process against the same database, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from bot.audit import AuditStore
from bot.domain import Actor, AuditStatus, SendDraft, Source
from bot.octopush import OctopushClient
from bot.sending.recovery import Settled, recover_pending
from bot.sending.rules import SendDefaults
from bot.sending.service import SmsService
from tests.conftest import OCTOPUSH_KEY
from tests.fakes.octopush import FakeOctopush

REPO = Path(__file__).resolve().parents[2]
SEND_PATH = "/v1/public/sms-campaign/send"
NUMBERS = [f"+336120{i:05d}" for i in range(1200)]
COST = 0.0333
#: The CLI with a lease of argv[1] seconds (renewed every third of it).
CLI_WITH_LEASE = """
import sys
from datetime import timedelta
import bot.sending.lease
bot.sending.lease.SEND_LEASE = timedelta(seconds=float(sys.argv[1]))
from bot.cli.main import main
sys.exit(main(sys.argv[2:]))
"""


def cli_env(database_url: str, octopush_url: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("OCTOPUSH_", "SLACK_", "SMS_", "LC_"))
        and k not in ("LANG", "LANGUAGE", "DATABASE_URL")
    }
    env.update(
        OCTOPUSH_API_LOGIN="ops@example.com",
        OCTOPUSH_API_KEY=OCTOPUSH_KEY,
        OCTOPUSH_BASE_URL=octopush_url,
        DATABASE_URL=database_url,
        SMS_MAX_RECIPIENTS="2000",
        PYTHONPATH=str(REPO),
    )
    return env


def slow_gateway(httpserver: HTTPServer, delay: float) -> list[dict[str, object]]:
    """Answer each send after ``delay`` s, counting SMS per batch; repeats get 120."""
    received: list[dict[str, object]] = []

    def answer(request: Request) -> Response:
        body = json.loads(request.get_data())
        seen = [r["request_id"] for r in received]
        received.append(body)
        time.sleep(delay)
        if body["request_id"] in seen:
            return Response(
                json.dumps({"code": 120, "message": "request_id already used"}),
                status=400,
                content_type="application/json",
            )
        count = len(body["recipients"])
        return Response(
            json.dumps(
                {
                    "sms_ticket": f"sms_batch{len(received)}",
                    "number_of_contacts": count,
                    "number_of_sms_needed": count,  # this gateway counts every SMS
                    "total_cost": round(count * COST, 4),
                    "residual_credit": 500.0,
                }
            ),
            status=201,
            content_type="application/json",
        )

    httpserver.expect_request(SEND_PATH, method="POST").respond_with_handler(answer)
    return received


def test_the_sweep_never_takes_over_a_long_batched_send_from_the_cli(
    httpserver: HTTPServer, database_url: str, octopush_url: str
) -> None:
    # Each batch takes 2 s, the whole send 6 s: twice the lease, so it is renewed.
    received = slow_gateway(httpserver, delay=2.0)
    store = AuditStore.from_url(database_url)  # migrated before the CLI starts
    sweeper = SmsService(
        octopush=OctopushClient(
            api_login="ops@example.com",
            api_key=OCTOPUSH_KEY,
            base_url=octopush_url,
            timeout=(0.5, 5),
            backoff=0,
        ),
        store=store,
        defaults=SendDefaults(),
    )
    settled: list[Settled] = []
    notices: list[str] = []
    done = threading.Event()

    def sweep() -> None:
        while not done.wait(0.05):
            # No minimum age at all: only the lease keeps the sweep off the send.
            settled.extend(
                recover_pending(sweeper, min_age=timedelta(0), report=notices.append)
            )

    thread = threading.Thread(target=sweep)
    thread.start()
    try:
        cli = subprocess.run(
            [sys.executable, "-c", CLI_WITH_LEASE, "3", "send", "--to"]
            + [",".join(NUMBERS), "--request-id", "nightly-batch", "db-1 is down"],
            env=cli_env(database_url, octopush_url),
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        done.set()
        thread.join(timeout=30)
        sweeper.octopush.close()

    try:
        assert cli.returncode == 0, cli.stderr
        assert "Traceback" not in cli.stderr
        assert "already sent" not in cli.stderr
        # One request per batch: the sweep resent nothing.
        assert [body["request_id"] for body in received] == [
            "nightly-batch-1",
            "nightly-batch-2",
            "nightly-batch-3",
        ]
        assert [len(body["recipients"]) for body in received] == [500, 500, 200]  # type: ignore[arg-type]
        assert settled == []
        assert notices == []  # no "left pending by a crash" for the admin channel
        record = store.find_by_request_id("nightly-batch")
        assert record is not None
        assert record.status is AuditStatus.SENT
        assert record.sms_ticket == "sms_batch1,sms_batch2,sms_batch3"
        assert record.number_of_contacts == 1200
        assert record.number_of_sms_needed == 1200
        assert record.total_cost == pytest.approx(1200 * COST)
        assert record.error_message is None
        for ticket in ("sms_batch1", "sms_batch2", "sms_batch3"):
            found = store.find_by_ticket(ticket)
            assert found is not None and found.id == record.id
        assert "sms_batch1" in cli.stdout
    finally:
        store.close()


def test_a_batched_send_answered_per_contact_keeps_the_per_contact_count(
    store: AuditStore,
) -> None:
    # The local fake counts SMS per contact (1 each): the send needs one SMS each.
    fake = FakeOctopush().start()
    client = OctopushClient(
        api_login="ops@example.com", api_key=OCTOPUSH_KEY, base_url=fake.url
    )
    service = SmsService(octopush=client, store=store, defaults=SendDefaults())
    try:
        outcome = service.send(
            SendDraft(recipients=tuple(NUMBERS), text="db-1 is down"),
            Actor(source=Source.CLI),
        )
    finally:
        client.close()
        fake.stop()

    assert fake.state.sends == 3
    record = store.get(outcome.audit_id)
    assert record.status is AuditStatus.SENT
    assert record.number_of_contacts == 1200
    assert record.number_of_sms_needed == 1
    assert record.total_cost == pytest.approx(1200 * COST)
