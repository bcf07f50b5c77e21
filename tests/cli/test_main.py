"""The CLI end to end: a real subprocess against a local fake Octopush (and fake Slack)."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

from pytest_httpserver import HTTPServer

from bot.audit import CONTRACT_FIELDS
from tests.conftest import OCTOPUSH_KEY, SENT, SIGNING_SECRET, SLACK_BOT_TOKEN
from tests.fakes.slack import FakeSlack

SEND_PATH = "/v1/public/sms-campaign/send"
BALANCE_PATH = "/v1/public/wallet/check-balance"


def run(
    args: list[str], env: dict[str, str], cwd: Path, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env=env,
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def audit_json(env: dict[str, str], cwd: Path) -> list[dict[str, object]]:
    result = run(["audit", "--format", "json"], env, cwd)
    assert result.returncode == 0, result.stderr
    records: list[dict[str, object]] = json.loads(result.stdout)
    return records


def test_send_prints_ticket_count_and_cost_and_leaves_a_sent_record(
    httpserver: HTTPServer, env: dict[str, str], tmp_path: Path
) -> None:
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_json(
        SENT, status=201
    )
    result = run(["send", "--to", "+33612345678", "hello"], env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "sms_5fec89fe97109" in result.stdout
    assert "1 SMS" in result.stdout
    assert "cost €0.0333" in result.stdout
    assert "credit left €99.50" in result.stdout
    (record,) = audit_json(env, tmp_path)
    assert record["status"] == "sent"
    assert record["source"] == "cli"
    assert record["recipients"] == ["+33612345678"]
    assert record["sms_ticket"] == "sms_5fec89fe97109"
    request, _ = httpserver.log[0]
    assert request.headers["api-key"] == OCTOPUSH_KEY
    assert request.headers["api-login"] == "ops@example.com"


def test_send_json_output_and_message_from_stdin(
    httpserver: HTTPServer, env: dict[str, str], tmp_path: Path
) -> None:
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_json(
        SENT, status=201
    )
    result = run(
        ["send", "--to", "0612345678,+33698765432", "--simulate", "--json", "-"],
        env,
        tmp_path,
        stdin="line one\nline two\n",
    )
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout)
    assert outcome["status"] == "sent"
    assert outcome["recipients"] == ["+33612345678", "+33698765432"]
    assert outcome["simulation"] is True
    body = json.loads(httpserver.log[0][0].get_data())
    assert body["text"] == "line one\nline two"
    assert body["simulation_mode"] is True


def test_octopush_error_prints_code_and_message_and_leaves_a_failed_record(
    httpserver: HTTPServer, env: dict[str, str], tmp_path: Path
) -> None:
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_json(
        {
            "code": 121,
            "message": "STOP mention ([STOP au 30101]) is missing from your text.",
        },
        status=400,
    )
    result = run(["send", "--to", "+33612345678", "hello"], env, tmp_path)
    assert result.returncode == 1
    assert "[121]" in result.stderr
    assert "STOP mention" in result.stderr
    assert "Traceback" not in result.stderr
    (record,) = audit_json(env, tmp_path)
    assert record["status"] == "failed"
    assert record["error_code"] == "121"


def test_unreachable_octopush_fails_with_one_clear_line(
    env: dict[str, str], tmp_path: Path
) -> None:
    env["OCTOPUSH_BASE_URL"] = "http://127.0.0.1:9/v1/public"
    result = run(["send", "--to", "+33612345678", "hello"], env, tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("Not sent")
    (record,) = audit_json(env, tmp_path)
    assert record["status"] == "failed"


def test_bad_number_is_rejected_with_exit_2_and_a_rejected_record(
    httpserver: HTTPServer, env: dict[str, str], tmp_path: Path
) -> None:
    result = run(["send", "--to", "+33612345678,hello-there", "hi"], env, tmp_path)
    assert result.returncode == 2
    assert "'hello-there'" in result.stderr
    assert "nothing was sent" in result.stderr
    assert httpserver.log == []
    (record,) = audit_json(env, tmp_path)
    assert record["status"] == "rejected"


def test_missing_settings_name_each_variable_and_never_show_a_secret(
    env: dict[str, str], tmp_path: Path
) -> None:
    del env["OCTOPUSH_API_LOGIN"]
    env["SLACK_BOT_TOKEN"] = "oops-SECRET-value"
    result = run(["send", "--to", "+33612345678", "hello"], env, tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines[0] == "sms-bot: settings are missing or malformed:"
    assert any(line.strip().startswith("OCTOPUSH_API_LOGIN: missing") for line in lines)
    assert any(
        line.strip().startswith("SLACK_BOT_TOKEN: must be a bot token")
        for line in lines
    )
    assert "SECRET" not in result.stderr
    assert "Traceback" not in result.stderr


def test_balance_prints_amount_and_unit(
    httpserver: HTTPServer, env: dict[str, str], tmp_path: Path
) -> None:
    httpserver.expect_request(BALANCE_PATH, method="GET").respond_with_json(
        {"amount": 12.54, "unit": "euros"}
    )
    result = run(["balance"], env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "€12.54"
    result = run(["balance", "--json"], env, tmp_path)
    assert json.loads(result.stdout) == {"amount": 12.54, "unit": "euros"}


def test_audit_formats_table_json_and_csv(
    httpserver: HTTPServer, env: dict[str, str], tmp_path: Path
) -> None:
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_json(
        SENT, status=201
    )
    assert run(["send", "--to", "+33612345678", "first"], env, tmp_path).returncode == 0
    assert run(["send", "--to", "bad", "second"], env, tmp_path).returncode == 2
    table = run(["audit"], env, tmp_path).stdout.splitlines()
    assert table[0].split()[:4] == ["id", "created_at", "source", "status"]
    assert "rejected" in table[1] and "sent" in table[2]
    records = audit_json(env, tmp_path)
    assert [r["status"] for r in records] == ["rejected", "sent"]
    assert tuple(records[0]) == CONTRACT_FIELDS
    rows = list(
        csv.DictReader(
            io.StringIO(
                run(["audit", "--format", "csv", "--limit", "1"], env, tmp_path).stdout
            )
        )
    )
    assert len(rows) == 1
    assert rows[0]["status"] == "rejected"


def test_check_reports_octopush_and_slack(
    httpserver: HTTPServer, env: dict[str, str], tmp_path: Path, fake_slack: FakeSlack
) -> None:
    httpserver.expect_request(BALANCE_PATH, method="GET").respond_with_json(
        {"amount": 3.5, "unit": "euros"}
    )
    env.update(
        SLACK_BOT_TOKEN=SLACK_BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=fake_slack.api_url,
    )
    result = run(["check"], env, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok   Octopush reached: credit €3.50" in result.stdout
    assert "ok   Slack reached: sms-bot in Test" in result.stdout
    assert "ok   audit store answers" in result.stdout


def test_check_names_missing_scopes_and_bad_credentials(
    httpserver: HTTPServer, env: dict[str, str], tmp_path: Path, fake_slack: FakeSlack
) -> None:
    httpserver.expect_request(BALANCE_PATH, method="GET").respond_with_json(
        {"code": 101, "message": "Incorrect login"}, status=401
    )
    fake_slack.state.scopes = "commands,chat:write"
    env.update(
        SLACK_BOT_TOKEN=SLACK_BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=fake_slack.api_url,
    )
    result = run(["check"], env, tmp_path)
    assert result.returncode == 1
    assert "FAIL Octopush" in result.stdout
    assert "[101]" in result.stdout
    assert (
        "scopes are missing: chat:write.public, usergroups:read, users.profile:read"
        in result.stdout
    )
    assert OCTOPUSH_KEY not in result.stdout + result.stderr


def test_help_is_available_for_every_command(
    env: dict[str, str], tmp_path: Path
) -> None:
    for command in (
        [],
        ["send"],
        ["balance"],
        ["audit"],
        ["audit", "purge"],
        ["check"],
        ["serve"],
    ):
        result = run([*command, "--help"], env, tmp_path)
        assert result.returncode == 0, result.stderr
        assert "usage: sms-bot" in result.stdout


def test_serve_without_slack_settings_names_them(
    env: dict[str, str], tmp_path: Path
) -> None:
    result = run(["serve"], env, tmp_path)
    assert result.returncode == 2
    assert "SLACK_BOT_TOKEN: missing" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_with_a_bad_directory_names_the_problems(
    env: dict[str, str], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("people:\n  alice: {phone: 'nope'}\n")
    env.update(
        SLACK_BOT_TOKEN=SLACK_BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SMS_DIRECTORY=str(bad),
    )
    result = run(["serve"], env, tmp_path)
    assert result.returncode == 2
    assert "SMS_DIRECTORY" in result.stderr and "line 2" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_cli_send_under_the_low_credit_threshold_tells_the_admin_channel(
    httpserver: HTTPServer, env: dict[str, str], tmp_path: Path, fake_slack: FakeSlack
) -> None:
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_json(
        SENT, status=201
    )
    env.update(
        SLACK_BOT_TOKEN=SLACK_BOT_TOKEN,
        SLACK_API_URL=fake_slack.api_url,
        SMS_LOW_CREDIT="100",
        SMS_ADMIN_CHANNEL="CADMIN",
    )
    assert run(["send", "--to", "+33612345678", "one"], env, tmp_path).returncode == 0
    assert run(["send", "--to", "+33612345678", "two"], env, tmp_path).returncode == 0
    (notice,) = fake_slack.calls("chat.postMessage")
    assert notice.args["channel"] == "CADMIN"
    assert "credit is low" in notice.args["text"]


def test_a_request_id_longer_than_the_column_is_a_clear_error_and_audited(
    httpserver: HTTPServer, env: dict[str, str], tmp_path: Path
) -> None:
    too_long = "x" * 129
    result = run(
        ["send", "--to", "+33612345678", "--request-id", too_long, "hello"],
        env,
        tmp_path,
    )
    assert result.returncode == 2
    assert "request_id: is 129 characters long; at most 128" in result.stderr
    assert "Traceback" not in result.stderr
    assert "nothing was sent" in result.stderr
    assert httpserver.log == []
    (record,) = audit_json(env, tmp_path)
    assert record["status"] == "rejected"
    assert str(record["request_id"]).startswith("x" * 100)


def test_check_says_http_mode_needs_the_signing_secret_with_an_app_token(
    httpserver: HTTPServer, env: dict[str, str], tmp_path: Path, fake_slack: FakeSlack
) -> None:
    """An app token makes serve use Socket Mode, but the Procfile serves HTTP, which
    verifies every request: check says that setup cannot run over HTTP."""
    httpserver.expect_request(BALANCE_PATH, method="GET").respond_with_json(
        {"amount": 3.5, "unit": "euros"}
    )
    env.update(
        SLACK_BOT_TOKEN=SLACK_BOT_TOKEN,
        SLACK_APP_TOKEN="xapp-1-test-app-token",
        SLACK_API_URL=fake_slack.api_url,
    )
    env.pop("SLACK_SIGNING_SECRET", None)
    result = run(["check"], env, tmp_path)
    assert "ok   settings (Socket Mode" in result.stdout
    assert (
        "skip HTTP mode (Procfile, gunicorn): SLACK_SIGNING_SECRET is missing, so only "
        "Socket Mode (sms-bot serve) can run"
    ) in result.stdout
    assert "xapp-1-test-app-token" not in result.stdout + result.stderr
