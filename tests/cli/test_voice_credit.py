"""Issue 22: ``sms-bot check`` says whether voice is enabled; the balance shows it."""

from __future__ import annotations

import json
from pathlib import Path

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.cli.test_main import BALANCE_PATH, run
from tests.conftest import SIGNING_SECRET, SLACK_BOT_TOKEN
from tests.fakes.slack import FakeSlack


def wallet(voice: Response) -> object:
    """The balance endpoint: euros without a product, ``voice`` for ``vocal_sms``."""

    def answer(request: Request) -> Response:
        if request.args.get("product_name") == "vocal_sms":
            assert request.args["country_code"] == "FR"
            return voice
        body = json.dumps({"amount": 3.5, "unit": "euros"})
        return Response(body, status=200, content_type="application/json")

    return answer


def json_response(body: object, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


def check(
    httpserver: HTTPServer,
    env: dict[str, str],
    tmp_path: Path,
    fake_slack: FakeSlack,
    voice: Response,
) -> str:
    httpserver.expect_request(BALANCE_PATH, method="GET").respond_with_handler(
        wallet(voice)
    )
    env.update(
        SLACK_BOT_TOKEN=SLACK_BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=fake_slack.api_url,
    )
    result = run(["check"], env, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_check_says_voice_is_enabled_with_its_credit(
    httpserver: HTTPServer, env: dict[str, str], tmp_path: Path, fake_slack: FakeSlack
) -> None:
    out = check(
        httpserver,
        env,
        tmp_path,
        fake_slack,
        json_response({"amount": 12, "unit": "vocal_sms"}),
    )
    assert "ok   voice calls enabled: credit 12 vocal_sms for FR" in out


def test_check_says_voice_is_not_enabled_without_failing(
    httpserver: HTTPServer, env: dict[str, str], tmp_path: Path, fake_slack: FakeSlack
) -> None:
    refused = json_response({"code": 110, "message": "Product not allowed"}, 400)
    out = check(httpserver, env, tmp_path, fake_slack, refused)
    assert "skip voice calls: not enabled on this Octopush account" in out
    assert "ok   Octopush reached: credit €3.50" in out


def test_check_says_when_there_is_no_voice_credit(
    httpserver: HTTPServer, env: dict[str, str], tmp_path: Path, fake_slack: FakeSlack
) -> None:
    out = check(
        httpserver,
        env,
        tmp_path,
        fake_slack,
        json_response({"amount": 0, "unit": "vocal_sms"}),
    )
    assert "skip voice calls: no voice credit for FR" in out


def test_balance_voice_prints_the_voice_credit(
    httpserver: HTTPServer, env: dict[str, str], tmp_path: Path
) -> None:
    httpserver.expect_request(BALANCE_PATH, method="GET").respond_with_handler(
        wallet(json_response({"amount": 7, "unit": "vocal_sms"}))
    )
    result = run(["balance", "--voice"], env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["€3.50", "voice: 7 vocal_sms"]
    result = run(["balance", "--voice", "--json"], env, tmp_path)
    assert json.loads(result.stdout) == {
        "amount": 3.5,
        "unit": "euros",
        "voice": {"amount": 7.0, "unit": "vocal_sms"},
    }
