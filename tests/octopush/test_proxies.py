"""The gateway's proxy settings are read from the environment (once, when the client is
built): a company proxy is used, and ``NO_PROXY`` is respected."""

from __future__ import annotations

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from bot.octopush import Balance, OctopushClient

BALANCE = "/v1/public/wallet/check-balance"


def test_requests_go_through_the_proxy_of_the_environment(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []

    def proxy(request: Request) -> Response:
        seen.append(request.headers.get("Host", ""))
        return Response(
            '{"amount": 3.5, "unit": "euros"}', content_type="application/json"
        )

    httpserver.expect_request(BALANCE).respond_with_handler(proxy)
    monkeypatch.setenv("HTTP_PROXY", httpserver.url_for("/"))
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    # A name that never resolves: only the proxy can answer for it.
    with OctopushClient(
        api_login="ops@example.com",
        api_key="k-secret",
        base_url="http://octopush.example.invalid/v1/public",
        timeout=(0.5, 0.5),
    ) as octopush:
        assert octopush.get_balance() == Balance(amount=3.5, unit="euros")
    assert seen == ["octopush.example.invalid"]


def test_no_proxy_sends_straight_to_the_gateway(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    httpserver.expect_request(BALANCE).respond_with_json({"amount": 1, "unit": "euros"})
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    with OctopushClient(
        api_login="ops@example.com",
        api_key="k-secret",
        base_url=httpserver.url_for("/v1/public"),
        timeout=(0.5, 0.5),
    ) as octopush:
        assert octopush.get_balance() == Balance(amount=1.0, unit="euros")
