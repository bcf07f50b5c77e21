"""Issue 20, item 1: alert integrations in the directory file, checked with lines."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime

import pytest

from bot.directory.files import parse_directory
from bot.directory.model import DirectoryError
from bot.directory.report import check_report

BASE = """\
people:
  alice: {phone: "+33612345678"}
groups:
  db-oncall:
    members: [alice]
    rotation: weekly
    start: 2026-11-02T09:00:00+01:00
"""


def test_integrations_are_read_with_their_keys() -> None:
    directory = parse_directory(
        BASE
        + textwrap.dedent(
            """\
            integrations:
              Prometheus:
                pages: db-oncall
                channel: C0OPS
                token_env: SMS_HOOK_TOKEN_PROM
                page_severities: [Critical, error]
                hmac_secret_env: SMS_HOOK_HMAC
                templates:
                  fr: "{summary} ({severity})"
            """
        ),
        region="FR",
    )
    found = directory.integrations["prometheus"]
    assert (found.pages, found.channel, found.token_env) == (
        "db-oncall",
        "C0OPS",
        "SMS_HOOK_TOKEN_PROM",
    )
    assert found.page_severities == ("critical", "error")
    assert found.pages_for("CRITICAL") and not found.pages_for("warning")
    assert found.hmac_secret_env == "SMS_HOOK_HMAC"
    assert found.template("fr") == "{summary} ({severity})"
    report = check_report(
        directory, datetime(2026, 12, 5, tzinfo=UTC), env={"SMS_HOOK_TOKEN_PROM": "x"}
    )
    assert (
        "integration prometheus: pages db-oncall, posts in C0OPS, token set" in report
    )


def test_a_bad_integration_is_refused_with_every_problem_and_its_line() -> None:
    bad = BASE + textwrap.dedent(
        """\
        integrations:
          prom:
            pages: nobody
            channel: "#ops"
            token_env: "s3cr3t-token"
            colour: red
          grafana:
            channel: C0OPS
            token_env: SMS_HOOK_GRAFANA
        """
    )
    with pytest.raises(DirectoryError) as raised:
        parse_directory(bad, region="FR")
    problems = raised.value.problems
    assert problems == [
        "line 10, integrations.prom.pages: 'nobody' is not a person, group or "
        "rotation of this file",
        "line 11, integrations.prom.channel: '#ops' is not a Slack channel id",
        "line 12, integrations.prom.token_env: 's3cr3t-token' is not an environment "
        "variable name (write its name, never the secret itself)",
        "line 13, integrations.prom: unknown key 'colour'; expected pages, channel, "
        "token_env, page_severities, hmac_secret_env, templates",
        "line 14, integrations.grafana.pages: missing; write pages: …",
    ]


def test_a_template_with_an_unknown_field_is_refused_with_its_line() -> None:
    bad = BASE + textwrap.dedent(
        """\
        integrations:
          prom:
            pages: db-oncall
            channel: C0OPS
            token_env: SMS_HOOK_TOKEN_PROM
            templates:
              en: "{summary} on {host}"
        """
    )
    with pytest.raises(DirectoryError) as raised:
        parse_directory(bad, region="FR")
    [problem] = raised.value.problems
    assert problem.startswith("line 14, integrations.prom.templates.en: '{host}'")
