"""Octopush callbacks: two tokens during a rotation, and an allow-list of networks.

Through the real WSGI app on 127.0.0.1 (so the TCP peer is always 127.0.0.1): a
callback let in is stored and handled (a ``STOP`` opts the number out); a refused one
gets the same 404 whatever the reason, stores nothing, is counted on ``/metrics`` by
reason and logged without the token.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from ipaddress import ip_network
from pathlib import Path
from typing import Any

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from bot.audit import AuditStore, OptOutList
from bot.audit.inbox import CallbackInbox
from bot.config import OctopushSettings, Settings, load_settings
from bot.errors import SettingsError
from bot.i18n import translator
from bot.runtime.callback_gate import CallbackGate
from bot.runtime.web import create_wsgi_app
from bot.runtime.wiring import secrets_of
from tests.conftest import CALLBACK_TOKEN, SlackHarness, make_settings
from tests.fakes.slack import FakeSlack
from tests.fakes.wsgi import serve_wsgi
from tests.runtime.served import Server, base_environment, free_port, procfile_command

OLD_TOKEN = "callback-OLD-token-before-rotation"
METRICS_TOKEN = "metrics-SECRET-token-for-gate"
MakeHarness = Callable[..., SlackHarness]


def stop(number: str) -> str:
    return json.dumps(
        {"message_id": "sms_x", "number": number, "text": "STOP", "stop_date": "x"}
    )


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def rotated(settings: Settings, **octopush: Any) -> Settings:
    """``settings`` with other ``OCTOPUSH_*`` values, validated (never from .env)."""
    values = {**settings.octopush.model_dump(), **octopush}
    return Settings(
        octopush=OctopushSettings(_env_file=None, **values),  # type: ignore[call-arg]
        slack=settings.slack,
        sms=settings.sms,
        app=settings.app,
    )


class Gated:
    """The real app's WSGI surface behind a gate, served on 127.0.0.1."""

    def __init__(self, url: str, harness: SlackHarness | None = None) -> None:
        self.url, self.harness = url, harness

    def callback(
        self, body: str, *, token: str = CALLBACK_TOKEN, forwarded: str | None = None
    ) -> requests.Response:
        headers = {"Content-Type": "application/json"}
        if forwarded is not None:
            headers["X-Forwarded-For"] = forwarded
        return requests.post(
            f"{self.url}/octopush/callback/{token}",
            data=body.encode(),
            headers=headers,
            timeout=10,
        )

    def refused(self, reason: str) -> float:
        response = requests.get(
            f"{self.url}/metrics",
            headers={"Authorization": f"Bearer {METRICS_TOKEN}"},
            timeout=10,
        )
        assert response.status_code == 200
        for family in text_string_to_metric_families(response.text):
            for sample in family.samples:
                if sample.name == "smsbot_callbacks_refused_total" and (
                    sample.labels == {"reason": reason}
                ):
                    return float(sample.value)
        return 0.0

    def opted_out(self, *numbers: str) -> list[str]:
        assert self.harness is not None
        return list(OptOutList(self.harness.store).among(list(numbers)))

    def settle(self) -> None:
        """Wait until every stored callback was handled by the inbox worker."""
        assert self.harness is not None
        inbox = CallbackInbox(self.harness.store)
        wait_until(lambda: inbox.unprocessed() == 0)


@pytest.fixture
def gated(
    make_harness: MakeHarness, database_url: str
) -> Iterator[Callable[[CallbackGate], Gated]]:
    harness = make_harness(database_url=database_url)
    with ExitStack() as stack:

        def serve(gate: CallbackGate) -> Gated:
            wsgi = create_wsgi_app(
                harness.stack.app,
                store=harness.store,
                inbound=harness.stack.inbound,
                callback_gate=gate,
                metrics_token=METRICS_TOKEN,
            )
            stack.callback(wsgi.close)  # its inbox worker, after the server stops
            return Gated(stack.enter_context(serve_wsgi(wsgi)), harness)

        yield serve


A, B, C = "+33611111111", "+33622222222", "+33633333333"


def test_during_a_rotation_both_tokens_open_the_callback_url(
    gated: Callable[[CallbackGate], Gated], tmp_path: Path
) -> None:
    settings = rotated(make_settings(tmp_path), callback_token_previous=OLD_TOKEN)
    app = gated(CallbackGate.from_settings(settings))
    refused_before = app.refused("token")

    assert app.callback(stop(A), token=CALLBACK_TOKEN).status_code == 200
    assert app.callback(stop(B), token=OLD_TOKEN).status_code == 200
    wrong = app.callback(stop(C), token="guessed-token")
    assert wrong.status_code == 404 and wrong.json() == {"error": "not found"}
    app.settle()

    assert app.opted_out(A, B, C) == [A, B]
    assert app.refused("token") == refused_before + 1


def test_once_the_previous_token_is_unset_it_is_refused(
    gated: Callable[[CallbackGate], Gated],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = gated(CallbackGate.from_settings(make_settings(tmp_path)))
    refused_before = app.refused("token")
    caplog.set_level(logging.WARNING, logger="bot.runtime.web")

    assert app.callback(stop(A), token=OLD_TOKEN).status_code == 404
    assert app.callback(stop(B)).status_code == 200  # then wait for it: handled
    app.settle()

    assert app.opted_out(A, B) == [B]
    assert app.refused("token") == refused_before + 1
    assert "Octopush callback refused: unknown token" in caplog.text
    assert OLD_TOKEN not in caplog.text and CALLBACK_TOKEN not in caplog.text


ALLOWED = "192.0.2.0/24"  # Octopush's network, in this test


@pytest.mark.parametrize(
    ("trusted", "forwarded", "accepted"),
    [
        # No trusted proxy: the peer (127.0.0.1) is the client, whatever the header.
        ((), None, False),
        ((), "192.0.2.9", False),
        # Behind a trusted proxy, the address it appended is the client.
        (("127.0.0.1",), "192.0.2.9", True),
        (("127.0.0.1",), "[::ffff:192.0.2.9]:4711", True),
        (("127.0.0.1",), "198.51.100.7", False),
        # A client writing an allowed address itself: its proxy appends the real one.
        (("127.0.0.1",), "192.0.2.9, 198.51.100.7", False),
        (("127.0.0.1",), "198.51.100.7, 192.0.2.9", True),
        # Two trusted proxies in a row are skipped, from the right.
        (("127.0.0.1", "10.0.0.0/8"), "192.0.2.9, 10.1.2.3", True),
        (("127.0.0.1", "10.0.0.0/8"), "198.51.100.7, 10.1.2.3", False),
        # What cannot be read is not let in.
        (("127.0.0.1",), "unknown", False),
        # Without a header, the trusted proxy itself is the client.
        (("127.0.0.1",), None, False),
    ],
)
def test_the_allow_list_reads_the_client_address_behind_trusted_proxies_only(
    gated: Callable[[CallbackGate], Gated],
    trusted: tuple[str, ...],
    forwarded: str | None,
    accepted: bool,
) -> None:
    gate = CallbackGate(
        tokens=(CALLBACK_TOKEN,),
        allow=(ip_network(ALLOWED),),
        trusted_proxies=tuple(ip_network(n) for n in trusted),
    )
    app = gated(gate)
    refused_before = app.refused("source")

    response = app.callback(stop(A), forwarded=forwarded)
    assert app.callback(stop(B), token="wrong", forwarded=forwarded).status_code == 404
    app.settle()

    if accepted:
        assert response.status_code == 200
        assert app.opted_out(A, B) == [A]
        assert app.refused("source") == refused_before
    else:
        assert response.status_code == 404  # the same answer as a wrong token
        assert response.json() == {"error": "not found"}
        assert app.opted_out(A, B) == []
        assert app.refused("source") == refused_before + 2


def test_an_allowed_peer_needs_no_proxy(
    gated: Callable[[CallbackGate], Gated],
) -> None:
    app = gated(
        CallbackGate(tokens=(CALLBACK_TOKEN,), allow=(ip_network("127.0.0.0/8"),))
    )
    assert app.callback(stop(A), forwarded="198.51.100.7").status_code == 200
    app.settle()
    assert app.opted_out(A) == [A]


# --- settings --------------------------------------------------------------------------


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith(("OCTOPUSH_", "SLACK_", "SMS_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_the_three_settings_are_read(
    environment: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OCTOPUSH_CALLBACK_TOKEN", CALLBACK_TOKEN)
    monkeypatch.setenv("OCTOPUSH_CALLBACK_TOKEN_PREVIOUS", OLD_TOKEN)
    monkeypatch.setenv("OCTOPUSH_CALLBACK_ALLOW", "192.0.2.0/24, 2001:db8::/32")
    monkeypatch.setenv("SMS_TRUSTED_PROXIES", "10.0.0.1,172.16.0.0/12")
    settings = load_settings(env_file=None)
    gate = CallbackGate.from_settings(settings)
    assert gate.tokens == (CALLBACK_TOKEN, OLD_TOKEN)
    # Both are redacted from every log line (the filter configure_logging installs).
    assert {CALLBACK_TOKEN, OLD_TOKEN} <= set(secrets_of(settings))
    assert gate.allow == (ip_network("192.0.2.0/24"), ip_network("2001:db8::/32"))
    assert gate.trusted_proxies == (
        ip_network("10.0.0.1/32"),
        ip_network("172.16.0.0/12"),
    )
    assert OLD_TOKEN not in repr(gate) and CALLBACK_TOKEN not in repr(gate)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("OCTOPUSH_CALLBACK_ALLOW", "192.0.2.0/33"),
        ("OCTOPUSH_CALLBACK_ALLOW", "192.0.2.0/24, octopush.com"),
        ("SMS_TRUSTED_PROXIES", "10.0.0.300"),
    ],
)
def test_a_bad_network_stops_the_start_naming_the_variable(
    environment: None, monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as raised:
        load_settings(env_file=None)
    (problem,) = raised.value.problems
    assert problem.startswith(f"{variable}: ")
    assert "is not an address or a network such as 203.0.113.0/24" in problem
    report = raised.value.report(translator("en"))
    assert "Traceback" not in report


def test_a_previous_token_alone_is_a_settings_error(
    environment: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OCTOPUSH_CALLBACK_TOKEN_PREVIOUS", OLD_TOKEN)
    with pytest.raises(SettingsError) as raised:
        load_settings(env_file=None)
    (problem,) = raised.value.problems
    assert problem.startswith("OCTOPUSH_CALLBACK_TOKEN_PREVIOUS: set without")
    assert OLD_TOKEN not in raised.value.report(translator("en"))


# --- the Procfile app, configured from the environment ---------------------------------


def test_the_procfile_app_takes_both_tokens_and_the_allow_list_from_the_environment(
    tmp_path: Path, fake_slack: FakeSlack, database_url: str, served: list[Server]
) -> None:
    env = base_environment(
        tmp_path,
        port=free_port(),
        slack_url=fake_slack.api_url,
        octopush_url="http://127.0.0.1:9/v1/public",
        database=database_url,
    )
    env.update(
        OCTOPUSH_CALLBACK_TOKEN=CALLBACK_TOKEN,
        OCTOPUSH_CALLBACK_TOKEN_PREVIOUS=OLD_TOKEN,
        OCTOPUSH_CALLBACK_ALLOW=ALLOWED,
        SMS_TRUSTED_PROXIES="127.0.0.1",  # the test plays the load balancer
        SMS_METRICS_TOKEN=METRICS_TOKEN,
    )
    server = Server(procfile_command(), env, tmp_path)
    served.append(server)
    server.wait_until_up()
    app = Gated(server.url)

    assert app.callback(stop(A), token=OLD_TOKEN, forwarded="192.0.2.9").ok
    assert app.callback(stop(B), forwarded="198.51.100.7").status_code == 404
    assert app.callback(stop(B)).status_code == 404  # the proxy itself: not Octopush
    assert (
        app.callback(stop(C), token="guess", forwarded="192.0.2.9").status_code == 404
    )
    assert (app.refused("source"), app.refused("token")) == (2.0, 1.0)
    store = AuditStore.from_url(database_url)
    try:
        wait_until(lambda: CallbackInbox(store).unprocessed() == 0)
        assert OptOutList(store).among([A, B, C]) == [A]
    finally:
        store.close()
    assert server.stop() == 0
    log = server.log.read_text()
    assert "/octopush/callback/[redacted]" in log  # the access log has the lines
    assert OLD_TOKEN not in log and CALLBACK_TOKEN not in log
    assert log.count("Octopush callback refused") == 3
