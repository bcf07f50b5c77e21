"""Prometheus metrics for operators: ``GET /metrics`` (bearer ``SMS_METRICS_TOKEN``).

Multiprocess mode: gunicorn's master points ``PROMETHEUS_MULTIPROC_DIR`` at a directory
cleaned at start (:func:`prepare_multiprocess_dir`), each worker writes its own files
there and a scrape adds every worker up. ``prometheus_client`` chooses its storage when
it is first imported, so this module imports it only inside functions: importing
``bot.runtime.metrics`` in the master, before the directory is set, changes nothing.
"""

from __future__ import annotations

import hmac
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.audit.pages import Page, PageState
from bot.domain import Actor, AuditStatus, SendOutcome, Source
from bot.errors import InputError, PolicyError
from bot.paging.pager import Pager, PageRun
from bot.sending.rules import Resolver

if TYPE_CHECKING:
    from prometheus_client import Counter, Gauge, Histogram

    from bot.audit import AuditStore
    from bot.audit.commands import CommandQueue

logger = logging.getLogger(__name__)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
METRICS_PATH = "/metrics"
_LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_ACK_BUCKETS = (60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0)


class Series:
    """Every series, created once per process (see :func:`series`)."""

    def __init__(self) -> None:
        from prometheus_client import Counter, Gauge, Histogram

        self.sends: Counter = Counter(
            "smsbot_sends_total",
            "Send attempts by how they ended and where they came from.",
            ["status", "source"],
        )
        self.sms_parts: Counter = Counter(
            "smsbot_sms_parts_total", "SMS parts Octopush counted for sent SMS."
        )
        self.cost: Counter = Counter(
            "smsbot_cost_total", "Octopush cost of sent SMS, in the account currency."
        )
        self.octopush_errors: Counter = Counter(
            "smsbot_octopush_errors_total",
            "Failed sends by Octopush error code.",
            ["code"],
        )
        self.credit: Gauge = Gauge(
            "smsbot_octopush_credit",
            "Credit left, as Octopush last reported it.",
            multiprocess_mode="mostrecent",
        )
        self.octopush_latency: Histogram = Histogram(
            "smsbot_octopush_request_seconds",
            "Octopush send request latency.",
            buckets=_LATENCY_BUCKETS,
        )
        self.ack_latency: Histogram = Histogram(
            "smsbot_slack_ack_seconds",
            "Time to answer a Slack request (the ack) in the WSGI app.",
            buckets=_LATENCY_BUCKETS,
        )
        self.pages: Counter = Counter(
            "smsbot_pages_total",
            "Pages by outcome (paged, refused, acknowledged, escalated, exhausted).",
            ["outcome"],
        )
        self.page_ack: Histogram = Histogram(
            "smsbot_page_ack_seconds",
            "Time from a page to its acknowledgement.",
            buckets=_ACK_BUCKETS,
        )
        self.callbacks: Counter = Counter(
            "smsbot_callbacks_total",
            "Octopush callbacks by kind (receipt, reply, opt-out, invalid, refused).",
            ["kind"],
        )
        self.callback_refusals: Counter = Counter(
            "smsbot_callbacks_refused_total",
            "Octopush callbacks refused, by reason (token, source).",
            ["reason"],
        )
        self.alert_events: Counter = Counter(
            "smsbot_alert_events_total",
            "Alert webhook events by integration and outcome (stored, refused, "
            "opened, deduplicated, resolved...).",
            ["integration", "outcome"],
        )
        self.alert_pages: Counter = Counter(
            "smsbot_alert_pages_total",
            "Pages from alerts by what happened (opened, deduplicated, resolved).",
            ["outcome"],
        )
        self.pending: Gauge = Gauge(
            "smsbot_pending_attempts",
            "Audit records still pending (a crash mid-send leaves some).",
            multiprocess_mode="mostrecent",
        )
        self.commands_waiting: Gauge = Gauge(
            "smsbot_commands_waiting",
            "Stored /sms sends and pages no sender has taken yet.",
            multiprocess_mode="mostrecent",
        )
        self.command_wait: Gauge = Gauge(
            "smsbot_oldest_command_waiting_seconds",
            "How long the oldest stored command has waited for a sender (0: none).",
            multiprocess_mode="mostrecent",
        )
        self.sender_heartbeat_age: Gauge = Gauge(
            "smsbot_sender_heartbeat_age_seconds",
            "Seconds since any sender's last heartbeat (absent: none ever ran).",
            multiprocess_mode="mostrecent",
        )


_series: list[Series] = []
_series_lock = threading.Lock()


def series() -> Series:
    """The one set of series of this process, created on first use.

    Under a lock: the ack thread and a lazy listener can ask first at the same time, and a
    second ``Series()`` would register every name twice (``DuplicateTimeseries``).
    """
    with _series_lock:
        if not _series:
            _series.append(Series())
        return _series[0]


# --- what the app reports ---------------------------------------------------------------


def record_refusal(source: Source) -> None:
    """A send refused by the rules or the policy (audited as ``rejected``)."""
    series().sends.labels(AuditStatus.REJECTED.value, source.value).inc()


def outcome_observer(store: AuditStore) -> Callable[[SendOutcome], None]:
    """An :data:`~bot.sending.service.OutcomeObserver` counting sends, parts, cost."""

    def observe(outcome: SendOutcome) -> None:
        found = series()
        # Carried by the outcome; read back only for one built without it.
        known = outcome.source or store.get(outcome.audit_id).source
        source = known.value
        found.sends.labels(outcome.status.value, source).inc()
        if outcome.duration_ms is not None:
            found.octopush_latency.observe(outcome.duration_ms / 1000)
        if outcome.ok:
            found.sms_parts.inc(outcome.number_of_sms_needed or 0)
            found.cost.inc(max(outcome.total_cost or 0.0, 0.0))
            if outcome.residual_credit is not None:
                found.credit.set(outcome.residual_credit)
        elif outcome.error_code:
            found.octopush_errors.labels(outcome.error_code).inc()

    return observe


def record_callback(kind: str) -> None:
    series().callbacks.labels(kind).inc()


def record_callback_refused(reason: str) -> None:
    """A refused callback: ``kind="refused"`` as before, and why (``token``, ``source``)."""
    found = series()
    found.callbacks.labels("refused").inc()
    found.callback_refusals.labels(reason).inc()


#: The alert outcomes that say what a page did (``smsbot_alert_pages_total``).
ALERT_PAGE_OUTCOMES = frozenset({"opened", "deduplicated", "resolved"})


def record_alert_event(integration: str, outcome: str) -> None:
    """An alert event answered (``stored``, ``unauthorized``...) or handled (what it
    did); ``integration`` is ``unknown`` for a name not in the directory file."""
    found = series()
    found.alert_events.labels(integration, outcome).inc()
    if outcome in ALERT_PAGE_OUTCOMES:
        found.alert_pages.labels(outcome).inc()


def record_page(outcome: str) -> None:
    series().pages.labels(outcome).inc()


def record_page_acknowledged(created_at: datetime, acknowledged_at: datetime) -> None:
    series().pages.labels("acknowledged").inc()
    waited = (acknowledged_at - created_at).total_seconds()
    series().page_ack.observe(max(waited, 0.0))


class MeteredPager(Pager):
    """The pager, counting pages by outcome and the time to acknowledge them."""

    def page(
        self,
        who: str,
        text: str,
        actor: Actor,
        *,
        resolve: Resolver | None,
        request_id: str,
        text_for: Callable[[int], str] | None = None,
    ) -> PageRun:
        try:
            run = super().page(
                who,
                text,
                actor,
                resolve=resolve,
                request_id=request_id,
                text_for=text_for,
            )
        except (InputError, PolicyError):
            record_page("refused")
            raise
        if not run.duplicate:
            record_page("paged" if run.reached is not None else "failed")
        return run

    def acknowledge(self, page_id: int, *, by: str) -> Page | None:
        page = super().acknowledge(page_id, by=by)
        if page is not None and page.acknowledged_at is not None:
            record_page_acknowledged(page.created_at, page.acknowledged_at)
        return page

    def escalate_due(self, *, resolve: Resolver | None) -> list[PageRun]:
        done = super().escalate_due(resolve=resolve)
        for escalation in done:
            exhausted = escalation.page.state is PageState.EXHAUSTED
            record_page("exhausted" if exhausted else "escalated")
        return done


def timed_ack(
    handler: Callable[..., Iterable[bytes]],
) -> Callable[..., Iterable[bytes]]:
    """Wrap the Slack WSGI handler: with ``process_before_response`` it returns at ack."""

    def timed(*args: Any) -> Iterable[bytes]:
        started = time.perf_counter()
        try:
            return handler(*args)
        finally:
            series().ack_latency.observe(time.perf_counter() - started)

    return timed


# --- the endpoint -------------------------------------------------------------------------


def render(
    store: AuditStore | None = None, commands: CommandQueue | None = None
) -> tuple[bytes, str]:
    """The text exposition of every worker's series (one process outside gunicorn)."""
    from prometheus_client import (
        CONTENT_TYPE_LATEST,
        CollectorRegistry,
        generate_latest,
        multiprocess,
    )
    from prometheus_client.registry import REGISTRY

    found = series()
    if store is not None:
        try:
            found.pending.set(len(store.pending_older_than(timedelta(0))))
        except Exception as error:  # a scrape must answer even when the store is down
            logger.warning("metrics: pending attempts unknown: %s", error)
    if commands is not None:
        try:
            _read_commands(found, commands)
        except Exception as error:  # the same: answer, say what is unknown
            logger.warning("metrics: stored commands unknown: %s", error)
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def _read_commands(found: Series, commands: CommandQueue) -> None:
    """The command queue's gauges, read at scrape time (indexed queries)."""
    now = commands.now()
    found.commands_waiting.set(commands.waiting())
    oldest = commands.oldest_waiting()
    found.command_wait.set((now - oldest).total_seconds() if oldest else 0.0)
    seen = commands.last_heartbeat()
    if seen is not None:
        found.sender_heartbeat_age.set(max((now - seen).total_seconds(), 0.0))


def authorized(environ: dict[str, Any], token: str | None) -> int:
    """HTTP status for a scrape: 404 without a token set, 401 if wrong, else 200."""
    if not token:
        return 404
    header = str(environ.get("HTTP_AUTHORIZATION") or "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        given.strip().encode(), token.encode()
    ):
        return 401
    return 200


# --- gunicorn's master ----------------------------------------------------------------------


def prepare_multiprocess_dir() -> Path:
    """Point ``PROMETHEUS_MULTIPROC_DIR`` at a directory and empty it (at start).

    Runs in gunicorn's master before any worker is forked, so every worker inherits it.
    A directory the operator set is kept; otherwise a fresh temporary one is made.
    """
    configured = os.environ.get(MULTIPROC_ENV)
    path = (
        Path(configured)
        if configured
        else Path(tempfile.mkdtemp(prefix="sms-bot-metrics-"))
    )
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        stale.unlink()
    os.environ[MULTIPROC_ENV] = str(path)
    return path


def mark_process_dead(pid: int) -> None:
    """A worker exited: drop its live gauges (gunicorn ``child_exit``)."""
    if not os.environ.get(MULTIPROC_ENV):
        return
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]
