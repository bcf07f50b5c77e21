"""Fixtures shared by the listener tests."""

from __future__ import annotations

import pytest
from pytest_httpserver import HTTPServer

from tests.conftest import SENT

#: Octopush's SMS send, as the fake gateway serves it.
SEND_PATH = "/v1/public/sms-campaign/send"


@pytest.fixture
def sent(httpserver: HTTPServer) -> HTTPServer:
    """A gateway that accepts every send (its log: what was texted)."""
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_json(
        SENT, status=201
    )
    return httpserver
