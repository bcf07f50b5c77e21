"""Alertmanager (v4), Grafana (webhook contact point) and PagerDuty Events v2 bodies.

Parsed with pydantic into one :class:`AlertEvent`: what the handler needs, whatever
sent it. Unknown fields are ignored (the senders add fields over time); a body that
is not the expected shape raises :class:`PayloadError` naming the problem, answered
400 (the sender does not retry a 4xx).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

#: How a resolved event and a firing one are called here, whatever the sender says.
FIRING, RESOLVED, ACKNOWLEDGE = "firing", "resolved", "acknowledge"


class PayloadError(ValueError):
    """The body is not the expected shape; the message names the problem (no secrets)."""


class _Loose(BaseModel):
    model_config = ConfigDict(extra="ignore")


class AmAlert(_Loose):
    status: Literal["firing", "resolved"]
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    generatorURL: str | None = None  # noqa: N815 (the sender's name)
    silenceURL: str | None = None  # noqa: N815 (Grafana)
    dashboardURL: str | None = None  # noqa: N815 (Grafana)
    panelURL: str | None = None  # noqa: N815 (Grafana)
    fingerprint: str | None = None


class AmPayload(_Loose):
    """Alertmanager's ``version: "4"``; Grafana's ``version: "1"`` adds the last three."""

    version: str
    groupKey: str  # noqa: N815
    status: Literal["firing", "resolved"]
    receiver: str
    alerts: list[AmAlert]
    groupLabels: dict[str, str] = Field(default_factory=dict)  # noqa: N815
    commonLabels: dict[str, str] = Field(default_factory=dict)  # noqa: N815
    commonAnnotations: dict[str, str] = Field(default_factory=dict)  # noqa: N815
    externalURL: str | None = None  # noqa: N815
    truncatedAlerts: int = 0  # noqa: N815
    title: str | None = None
    state: str | None = None
    message: str | None = None


class PdPayloadBody(_Loose):
    summary: str = Field(max_length=1024)
    source: str
    severity: Literal["critical", "error", "warning", "info"]
    component: str | None = None
    group: str | None = None


class PdLink(_Loose):
    href: str
    text: str | None = None


class PdEvent(_Loose):
    routing_key: str
    event_action: Literal["trigger", "acknowledge", "resolve"]
    dedup_key: str | None = Field(default=None, max_length=255)
    payload: PdPayloadBody | None = None
    links: list[PdLink] = Field(default_factory=list)
    client: str | None = None
    client_url: str | None = None


@dataclass(frozen=True)
class AlertEvent:
    """One alert event, whatever sent it."""

    kind: str
    dedup_key: str
    action: str
    summary: str
    severity: str | None
    source: str | None
    #: ``(label, url)``: generator, silence, dashboard, runbook.
    links: tuple[tuple[str, str], ...]
    firing: int
    labels: tuple[tuple[str, str], ...] = ()


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise PayloadError(
            f"the body is not JSON ({error.__class__.__name__})"
        ) from None


def _problem(error: ValidationError) -> PayloadError:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "body"
    return PayloadError(f"{where}: {first['msg']}")


def parse_alertmanager(body: bytes) -> AlertEvent:
    """An Alertmanager or Grafana webhook body."""
    try:
        payload = AmPayload.model_validate(_json(body))
    except ValidationError as error:
        raise _problem(error) from None
    if payload.version not in ("4", "1"):
        raise PayloadError(
            f"version: {payload.version!r} is not Alertmanager's 4 or Grafana's 1"
        )
    key = hashlib.sha256((payload.receiver + payload.groupKey).encode()).hexdigest()
    firing = [a for a in payload.alerts if a.status == FIRING]
    shown = firing or payload.alerts
    newest = shown[-1] if shown else None
    annotations = {
        **payload.commonAnnotations,
        **(newest.annotations if newest else {}),
    }
    labels = {**payload.commonLabels, **(newest.labels if newest else {})}
    summary = (
        annotations.get("summary")
        or payload.title
        or labels.get("alertname")
        or payload.groupLabels.get("alertname")
        or "alert"
    )
    return AlertEvent(
        kind="alertmanager",
        dedup_key=key,
        action=payload.status,
        summary=summary,
        severity=labels.get("severity"),
        source=labels.get("instance") or labels.get("job"),
        links=_am_links(newest, annotations),
        firing=len(firing) + (payload.truncatedAlerts if firing else 0),
        labels=tuple(sorted(labels.items())),
    )


def _am_links(
    alert: AmAlert | None, annotations: dict[str, str]
) -> tuple[tuple[str, str], ...]:
    found = []
    if alert is not None:
        for label, url in (
            ("Source", alert.generatorURL),
            ("Silence", alert.silenceURL),
            ("Dashboard", alert.dashboardURL or alert.panelURL),
        ):
            if url and url.startswith(("http://", "https://")):
                found.append((label, url))
    for name in ("runbook_url", "runbook"):
        url = annotations.get(name)
        if url and url.startswith(("http://", "https://")):
            found.append(("Runbook", url))
            break
    return tuple(found)


def parse_events_v2(body: bytes) -> tuple[str, AlertEvent]:
    """A PagerDuty Events v2 body: its routing key and the event."""
    try:
        event = PdEvent.model_validate(_json(body))
    except ValidationError as error:
        raise _problem(error) from None
    if event.event_action == "trigger" and event.payload is None:
        raise PayloadError("payload: a trigger needs payload.summary, source, severity")
    if event.event_action != "trigger" and not event.dedup_key:
        raise PayloadError(
            f"dedup_key: {event.event_action} needs the alert's dedup_key"
        )
    action = {"trigger": FIRING, "resolve": RESOLVED}.get(
        event.event_action, ACKNOWLEDGE
    )
    links = tuple(
        (link.text or "Link", link.href)
        for link in event.links
        if link.href.startswith(("http://", "https://"))
    )
    if event.client_url and event.client_url.startswith(("http://", "https://")):
        links += ((event.client or "Source", event.client_url),)
    body_ = event.payload
    return event.routing_key, AlertEvent(
        kind="events_v2",
        # A trigger without dedup_key always opens a new alert (PagerDuty's rule).
        dedup_key=event.dedup_key or uuid.uuid4().hex,
        action=action,
        summary=body_.summary if body_ else "",
        severity=body_.severity if body_ else None,
        source=body_.source if body_ else None,
        links=links,
        firing=1 if action == FIRING else 0,
    )


def parse_stored(kind: str, body: bytes, dedup_key: str) -> AlertEvent:
    """A stored event read back by the worker (its key as it was answered)."""
    if kind == "events_v2":
        _, event = parse_events_v2(body)
        return AlertEvent(
            kind=event.kind,
            dedup_key=dedup_key,
            action=event.action,
            summary=event.summary,
            severity=event.severity,
            source=event.source,
            links=event.links,
            firing=event.firing,
        )
    return parse_alertmanager(body)
