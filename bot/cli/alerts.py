"""``sms-bot audit alerts``: each alert event received and what it did.

The integration, the dedup key (shortened in the table, whole in JSON), the action
(firing, resolved, acknowledge), the outcome (opened, deduplicated, resolved,
flapping, posted, refused...) and the page it opened or touched.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence

from bot.audit.alerts import AlertEventRow, AlertInbox
from bot.cli.support import EXIT_OK, positive, settings_from
from bot.i18n import Translator, translator
from bot.runtime.wiring import build_store


def add_alert_audit(
    audit_commands: argparse._SubParsersAction[argparse.ArgumentParser],
    tr: Translator | None = None,
) -> None:
    _ = (tr or translator()).gettext
    alerts = audit_commands.add_parser(
        "alerts", help=_("alert events received and what each did, newest first")
    )
    alerts.add_argument(
        "--limit",
        type=positive,
        default=50,
        metavar=_("LIMIT"),
        help=_("how many events (default 50)"),
    )
    alerts.add_argument("--format", choices=["table", "json"], default="table")
    alerts.set_defaults(handler=_alerts)


def _alerts(args: argparse.Namespace) -> int:
    store = build_store(settings_from(args))
    try:
        events = AlertInbox(store).recent(limit=args.limit)
    finally:
        store.close()
    chosen = getattr(args, "tr", None)
    tr = chosen if isinstance(chosen, Translator) else translator()
    print(format_alert_events(events, args.format, tr), end="")
    return EXIT_OK


def format_alert_events(
    events: Sequence[AlertEventRow], fmt: str, tr: Translator
) -> str:
    if fmt == "json":
        rows = [
            {
                "id": e.id,
                "received_at": e.received_at.isoformat(),
                "integration": e.integration,
                "kind": e.kind,
                "dedup_key": e.dedup_key,
                "action": e.action,
                "outcome": e.outcome,
                "page_id": e.page_id,
            }
            for e in events
        ]
        return json.dumps(rows, indent=2) + "\n"
    if not events:
        return tr.gettext("no alert events yet") + "\n"
    _ = tr.gettext
    header = (
        _("id"),
        _("received"),
        _("integration"),
        _("dedup key"),
        _("action"),
        _("outcome"),
        _("page"),
    )
    table = [header] + [
        (
            str(e.id),
            e.received_at.strftime("%Y-%m-%d %H:%M:%S"),
            e.integration,
            e.dedup_key if len(e.dedup_key) <= 16 else e.dedup_key[:15] + "…",
            e.action,
            e.outcome or _("waiting"),
            f"#{e.page_id}" if e.page_id else "",
        )
        for e in events
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    return "".join(
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() + "\n"
        for row in table
    )
