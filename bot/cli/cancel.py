"""``sms-bot cancel TICKET``: take back a scheduled send, as ``/sms cancel`` does.

The operator running it may cancel any send (no Slack user to check); Octopush's rules
still apply, and the record says ``cancelled_by: cli``.
"""

from __future__ import annotations

import argparse
import sys

from bot.cli.support import EXIT_FAILED, EXIT_OK, EXIT_USAGE, settings_from
from bot.i18n import Translator, translator
from bot.runtime.wiring import OCTOPUSH_REQUIRED, build_octopush, build_store
from bot.sending.cancel import CancelService, CancelVerdict
from bot.sending.cancel_words import cancel_words

#: Exit status of each verdict: 0 it will not go out, 2 refused before Octopush.
_EXIT = {
    CancelVerdict.CANCELLED: EXIT_OK,
    CancelVerdict.ALREADY: EXIT_OK,
    CancelVerdict.UNRECORDED: EXIT_OK,
    CancelVerdict.NOT_FOUND: EXIT_USAGE,
    CancelVerdict.NOT_ALLOWED: EXIT_USAGE,
    CancelVerdict.REFUSED: EXIT_FAILED,
    CancelVerdict.UNKNOWN: EXIT_FAILED,
}


def add_cancel_command(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    tr: Translator | None = None,
) -> None:
    """Add ``cancel TICKET`` to the ``sms-bot`` sub-commands."""
    _ = (tr or translator()).gettext
    cancel = commands.add_parser(
        "cancel",
        help=_("cancel a scheduled send before it goes out"),
        description=_(
            "Cancel a scheduled send by its Octopush ticket. Octopush allows it for "
            "1 or 2 recipients, more than 10 minutes ahead. Exit 0 when it will not "
            "go out, 1 when Octopush refused or did not answer, 2 when it cannot be "
            "cancelled."
        ),
    )
    cancel.add_argument("ticket", metavar=_("TICKET"), help=_("the send's ticket"))
    cancel.set_defaults(handler=_cancel)


def _cancel(args: argparse.Namespace) -> int:
    chosen = getattr(args, "tr", None)
    tr = chosen if isinstance(chosen, Translator) else translator()
    settings = settings_from(args, OCTOPUSH_REQUIRED)
    store = build_store(settings)
    client = build_octopush(settings)
    try:
        service = CancelService(
            octopush=client, store=store, admins=settings.sms.admins
        )
        ticket = str(args.ticket).strip()
        result = service.cancel_ticket(ticket, by=None)
    finally:
        client.close()
        store.close()
    code = _EXIT[result.verdict]
    print(
        tr.gettext(cancel_words(result, ticket)),
        file=sys.stdout if code == EXIT_OK else sys.stderr,
    )
    return code
