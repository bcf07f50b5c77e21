"""The gateway's network settings are read from the environment (once, when the client
is built): a company proxy is used, with its login, ``NO_PROXY`` is respected, and the
gateway's certificate is checked against the environment's CA bundle."""

from __future__ import annotations

import base64
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from bot.octopush import (
    Balance,
    OctopushClient,
    OctopushConnectionError,
    Recipient,
    SmsCampaign,
)

PROXIES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy")


def gateway(base_url: str) -> OctopushClient:
    """A client of ``base_url``, built now: it reads the environment as it is."""
    return OctopushClient(
        api_login="ops@example.com",
        api_key="k-secret",
        base_url=base_url,
        timeout=(0.5, 0.5),
    )


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
    with gateway("http://octopush.example.invalid/v1/public") as octopush:
        assert octopush.get_balance() == Balance(amount=3.5, unit="euros")
    assert seen == ["octopush.example.invalid"]


def test_no_proxy_sends_straight_to_the_gateway(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    httpserver.expect_request(BALANCE).respond_with_json({"amount": 1, "unit": "euros"})
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    with gateway(httpserver.url_for("/v1/public")) as octopush:
        assert octopush.get_balance() == Balance(amount=1.0, unit="euros")


def test_a_proxy_login_in_its_url_is_sent_to_the_proxy(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    logins: list[str | None] = []

    def proxy(request: Request) -> Response:
        logins.append(request.headers.get("Proxy-Authorization"))
        return Response(
            '{"amount": 2, "unit": "euros"}', content_type="application/json"
        )

    httpserver.expect_request(BALANCE).respond_with_handler(proxy)
    where = f"{httpserver.host}:{httpserver.port}"
    monkeypatch.setenv("HTTP_PROXY", f"http://ops%40corp:p%3Ass@{where}/")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    with gateway("http://octopush.example.invalid/v1/public") as octopush:
        assert octopush.get_balance() == Balance(amount=2.0, unit="euros")
    assert logins == ["Basic " + base64.b64encode(b"ops@corp:p:ss").decode()]


def test_a_proxy_the_client_cannot_use_stops_a_send_before_it_leaves(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in PROXIES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "socks5://127.0.0.1:9")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    with gateway("https://octopush.example.invalid/v1/public") as octopush:
        with pytest.raises(OctopushConnectionError) as caught:
            octopush.send_sms_campaign(
                SmsCampaign(
                    text="db-1 is down",
                    recipients=[Recipient(phone_number="+33612345678")],
                    type="sms_premium",
                    purpose="alert",
                    request_id="req-socks",
                )
            )
    assert caught.value.maybe_sent is False
    assert caught.value.retryable is False
    assert "socks5" in caught.value.message


@pytest.fixture
def tls_gateway(tmp_path: Path) -> Iterator[tuple[HTTPServer, Path]]:
    """An HTTPS gateway on 127.0.0.1 whose certificate a test CA signed; the CA's
    bundle is the path given."""
    authority = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(context)
    bundle = tmp_path / "company-ca.pem"
    authority.cert_pem.write_to_path(str(bundle))
    server = HTTPServer(host="127.0.0.1", port=0, ssl_context=context)
    server.start()
    try:
        yield server, bundle
    finally:
        server.clear()
        if server.is_running():
            server.stop()


def test_the_gateway_certificate_is_checked_against_the_environment_bundle(
    tls_gateway: tuple[HTTPServer, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, bundle = tls_gateway
    server.expect_request(BALANCE).respond_with_json({"amount": 4, "unit": "euros"})
    for name in (*PROXIES, "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)

    def balance() -> Balance:
        with gateway(server.url_for("/v1/public")) as octopush:
            return octopush.get_balance()

    # Unknown to the default bundle (certifi's): refused, and not worth a retry.
    with pytest.raises(OctopushConnectionError) as caught:
        balance()
    assert caught.value.retryable is False
    assert "certificate" in caught.value.message
    assert server.log == []

    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    assert balance() == Balance(amount=4.0, unit="euros")
