"""``sms-bot send --request-id``: safe to retry from cron, end to end (a real subprocess)."""

from __future__ import annotations

import json
from pathlib import Path

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.cli.test_main import SEND_PATH, audit_json, run
from tests.conftest import SENT

NO_CREDIT = {"code": 104, "message": "Not enough credit"}


def test_a_cron_retry_after_a_refusal_sends_and_a_retry_after_a_send_does_not(
    httpserver: HTTPServer, env: dict[str, str], tmp_path: Path
) -> None:
    received: list[str] = []

    def octopush(request: Request) -> Response:
        received.append(json.loads(request.get_data())["request_id"])
        if len(received) == 1:  # no credit the first night; topped up since
            return Response(json.dumps(NO_CREDIT), status=400)
        return Response(json.dumps(SENT), status=201, content_type="application/json")

    httpserver.expect_request(SEND_PATH, method="POST").respond_with_handler(octopush)
    send = ["send", "--to", "+33612345678", "--request-id", "nightly-1", "--json"]

    refused = run([*send, "backup failed"], env, tmp_path)
    retried = run([*send, "backup failed"], env, tmp_path)
    again = run([*send, "backup failed"], env, tmp_path)

    assert refused.returncode == 1, refused.stderr
    assert json.loads(refused.stdout)["error_code"] == "104"
    assert retried.returncode == 0, retried.stderr
    assert json.loads(retried.stdout)["request_id"] == "nightly-1#2"
    assert json.loads(retried.stdout)["sms_ticket"] == SENT["sms_ticket"]
    assert again.returncode == 0, again.stderr
    assert (
        json.loads(again.stdout)["audit_id"] == json.loads(retried.stdout)["audit_id"]
    )
    assert received == ["nightly-1", "nightly-1#2"]
    records = audit_json(env, tmp_path)  # newest first
    assert [(r["request_id"], r["status"]) for r in records] == [
        ("nightly-1#2", "sent"),
        ("nightly-1", "failed"),
    ]
    assert "Traceback" not in refused.stderr + retried.stderr + again.stderr
