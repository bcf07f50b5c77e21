"""The operator commands end to end, in a subprocess: directory, opt-outs, recovery."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pytest_httpserver import HTTPServer

from bot.audit import AuditStore, NewAttempt
from bot.directory.files import parse_directory
from bot.domain import Source
from tests.cli.test_main import SEND_PATH, audit_json, run
from tests.conftest import SENT

GOOD = """\
people:
  alice: {phone: "+33612345678"}
  bob:   {phone: "06 98 76 54 32"}
groups:
  ops: {members: [alice, bob]}
  night-shift:
    members: [alice, bob]
    rotation: daily
    start: 2026-11-02T09:00:00+01:00
    escalate_after: 5m
"""


def test_directory_check_prints_who_is_on_call(
    env: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "directory.yml"
    path.write_text(GOOD)
    env["SMS_DIRECTORY"] = str(path)
    result = run(["directory", "check"], env, tmp_path)
    assert result.returncode == 0, result.stderr
    rotation = parse_directory(GOOD, region="FR").rotations["night-shift"]
    now = rotation.shift(datetime.now(UTC))
    assert "Directory OK: 2 people, 1 group, 1 rotation." in result.stdout
    assert f"now:  {now.member}, until" in result.stdout
    assert (
        f"next: {rotation.next_shift(datetime.now(UTC)).member}, from" in result.stdout
    )


def test_directory_check_names_every_problem_with_its_line(
    env: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "bad.yml"
    path.write_text(
        "people:\n  alice: {phone: '12'}\ngroups:\n  ops: {members: [alice, zed]}\n"
    )
    result = run(["directory", "check", "--file", str(path)], env, tmp_path)
    assert result.returncode == 2
    assert "line 2" in result.stderr and "line 4" in result.stderr
    assert "zed" in result.stderr
    assert "Traceback" not in result.stderr


def test_send_to_a_directory_group_texts_every_member(
    httpserver: HTTPServer, env: dict[str, str], tmp_path: Path
) -> None:
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_json(
        SENT, status=201
    )
    path = tmp_path / "directory.yml"
    path.write_text(GOOD)
    env["SMS_DIRECTORY"] = str(path)
    result = run(["send", "--to", "ops", "backup failed"], env, tmp_path)
    assert result.returncode == 0, result.stderr
    body = json.loads(httpserver.log[0][0].get_data())
    assert [r["phone_number"] for r in body["recipients"]] == [
        "+33612345678",
        "+33698765432",
    ]


def test_optout_add_list_and_remove(
    httpserver: HTTPServer, env: dict[str, str], tmp_path: Path
) -> None:
    assert (
        run(["optout", "add", "06 12 34 56 78"], env, tmp_path).stdout.strip()
        == "+33612345678 opted out"
    )
    listed = run(["optout", "list"], env, tmp_path).stdout
    assert "+33612345678" in listed and "(admin)" in listed
    refused = run(["send", "--to", "+33612345678", "hi"], env, tmp_path)
    assert refused.returncode == 2
    assert "replied STOP" in refused.stderr
    assert httpserver.log == []
    removed = run(["optout", "remove", "+33612345678"], env, tmp_path)
    assert removed.stdout.strip() == "+33612345678 may be texted again"
    assert run(["optout", "add", "nonsense"], env, tmp_path).returncode == 2


def test_audit_recover_settles_a_pending_attempt(
    httpserver: HTTPServer, env: dict[str, str], tmp_path: Path
) -> None:
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_json(
        {"code": 120, "message": "duplicate request_id"}, status=400
    )
    store = AuditStore.from_url(env["DATABASE_URL"])
    store._clock = lambda: datetime.now(UTC) - timedelta(minutes=3)  # type: ignore[method-assign]
    store.begin(
        NewAttempt(
            source=Source.CLI,
            recipients=("+33612345678",),
            text="hello",
            sms_type="sms_premium",
            purpose="alert",
            simulation=False,
            request_id="crashed-1",
        )
    )
    store.close()
    result = run(["audit", "recover"], env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "1 pending attempt settled" in result.stdout
    (record,) = audit_json(env, tmp_path)
    # Code 120: Octopush already had it, so the crashed attempt got through.
    assert record["status"] == "sent"
    assert record["sms_ticket"] is None
    assert json.loads(httpserver.log[0][0].get_data())["request_id"] == "crashed-1"


def test_audit_purge_needs_a_retention(env: dict[str, str], tmp_path: Path) -> None:
    refused = run(["audit", "purge"], env, tmp_path)
    assert refused.returncode == 2
    assert "SMS_AUDIT_RETENTION_DAYS" in refused.stderr
    done = run(["audit", "purge", "--days", "30"], env, tmp_path)
    assert done.returncode == 0
    assert "removed 0 audit records older than 30 days" in done.stdout
