"""Issue 11, case 7: two processes on one PostgreSQL; a failed receipt on one and the
escalation timer on the other race for the same move, and the next member is paged once."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.audit import AuditStore
from bot.directory.source import DirectorySource, directory_resolver
from bot.domain import Actor, Source
from bot.octopush import OctopushClient
from bot.paging.pager import Pager
from bot.sending.rules import SendDefaults
from bot.sending.service import SmsService
from tests.conftest import _drop_audit_tables as drop_audit_tables
from tests.conftest import go_together
from tests.fakes.raw_http import Answer, RecordingOctopush, ticket_for
from tests.paging.conftest import DIRECTORY

REPO = Path(__file__).resolve().parents[2]
#: When the page starts; both processes run two seconds later (its timer is due).
STARTED = datetime(2026, 12, 1, 10, tzinfo=UTC)

#: One instance: ``timer`` runs the due escalations, ``receipt`` fails the page over.
INSTANCE = """
import json, sys
from datetime import datetime
from bot.audit import AuditStore
from bot.directory.source import DirectorySource, directory_resolver
from bot.octopush import OctopushClient
from bot.paging.pager import Pager
from bot.sending.rules import SendDefaults
from bot.sending.service import SmsService

url, base_url, directory, role, audit_id, now = sys.argv[1:7]
store = AuditStore.from_url(url)
client = OctopushClient(api_login="ops@example.com", api_key="k", base_url=base_url,
                        timeout=(2, 5), backoff=0)
service = SmsService(octopush=client, store=store, defaults=SendDefaults())
source = DirectorySource(__import__("pathlib").Path(directory), region="FR")
at = datetime.fromisoformat(now)
pager = Pager(service=service, directory=source, store=store, clock=lambda: at)
resolve = directory_resolver(source)
print("ready", flush=True)  # imported and connected
sys.stdin.readline()  # the test says go to both processes at once
if role == "timer":
    runs = pager.escalate_due(resolve=resolve)
else:
    run = pager.fail_over(int(audit_id), reason="NOT_DELIVERED receipt", resolve=resolve)
    runs = [run] if run is not None else []
print(json.dumps([[a.member for a in run.attempts] for run in runs]), flush=True)
"""


def test_a_receipt_failover_and_a_timer_in_two_processes_page_the_next_member_once(
    postgres_url: str, tmp_path: Path
) -> None:
    drop_audit_tables(postgres_url)
    directory = tmp_path / "directory.yml"
    directory.write_text(DIRECTORY)

    def slow_ticket(body: dict[str, Any], number: int) -> Answer:
        time.sleep(0.1)  # widen the window in which both could claim the move
        return 201, ticket_for(number)

    try:
        with RecordingOctopush(slow_ticket) as octopush:
            store = AuditStore.from_url(postgres_url)
            client = OctopushClient(
                api_login="ops@example.com",
                api_key="k",
                base_url=octopush.url,
                timeout=(2, 5),
                backoff=0,
            )
            source = DirectorySource(directory, region="FR")
            pager = Pager(
                service=SmsService(
                    octopush=client, store=store, defaults=SendDefaults()
                ),
                directory=source,
                store=store,
                clock=lambda: STARTED,
            )
            actor = Actor(source=Source.PAGE, slack_user_id="U1")
            run = pager.page(
                "db-oncall",
                "DB down",
                actor,
                resolve=directory_resolver(source),
                request_id="page-race",
            )
            client.close()
            store.close()
            first = run.attempts[0]
            assert first.reached and first.audit_id is not None
            later = (STARTED + timedelta(seconds=2)).isoformat()
            bots = [
                subprocess.Popen(
                    [
                        sys.executable,
                        "-c",
                        INSTANCE,
                        postgres_url,
                        octopush.url,
                        str(directory),
                        role,
                        str(first.audit_id),
                        later,
                    ],
                    cwd=REPO,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
                for role in ("timer", "receipt")
            ]
            go_together(bots)  # once both imported and connected
            moved: list[list[str]] = []
            for bot in bots:
                out, err = bot.communicate(timeout=60)
                assert bot.returncode == 0, err[-2000:]
                moved += json.loads(out.strip().splitlines()[-1])
            numbers = [
                [r["phone_number"] for r in body["recipients"]]
                for body in octopush.bodies
            ]
    finally:
        drop_audit_tables(postgres_url)
    members = list(run.page.members)
    assert moved == [[members[1]]]  # one process moved the page, to the next member
    assert len(numbers) == 2  # the first page and exactly one next page
