"""What a cancel did, in plain words, for Slack and the CLI alike (translatable).

Once Octopush was called, the words say what happened there: yes, no, or "no answer,
check before counting on it".
"""

from __future__ import annotations

from bot.i18n import N_
from bot.octopush import OctopushConnectionError
from bot.sending.cancel import CancelResult, CancelVerdict
from bot.sending.gateway import gateway_error_text


def cancel_words(result: CancelResult, ticket: str) -> str:
    """One or two sentences about ``result`` (``ticket`` as the person gave it)."""
    record = result.record
    audit_id = record.id if record is not None else "?"
    verdict = result.verdict
    if verdict is CancelVerdict.CANCELLED:
        return N_(
            "Cancelled: the scheduled SMS (ticket %(ticket)s, audit #%(audit_id)s) "
            "will not go out.",
            ticket=ticket,
            audit_id=audit_id,
        )
    if verdict is CancelVerdict.ALREADY:
        return N_(
            "This send was already cancelled (audit #%(audit_id)s): it will not go "
            "out.",
            audit_id=audit_id,
        )
    if verdict is CancelVerdict.NOT_FOUND:
        return N_("No send with the ticket %(ticket)s is on record.", ticket=ticket)
    if verdict is CancelVerdict.NOT_ALLOWED:
        return N_(
            "Not cancelled: %(reason)s", reason=result.reason or N_("not allowed")
        )
    if verdict is CancelVerdict.UNKNOWN:
        return N_(
            "Octopush did not answer the cancel of ticket %(ticket)s (audit "
            "#%(audit_id)s): it may or may not be cancelled. Check the Octopush "
            "dashboard, or try again in a minute.",
            ticket=ticket,
            audit_id=audit_id,
        )
    if verdict is CancelVerdict.UNRECORDED:
        return N_(
            "Octopush cancelled it (ticket %(ticket)s): the SMS will not go out. The "
            "audit record #%(audit_id)s could not be updated and still says sent.",
            ticket=ticket,
            audit_id=audit_id,
        )
    error = gateway_error_text(result.error) if result.error else N_("no answer")
    if isinstance(result.error, OctopushConnectionError):
        return N_(
            "Not cancelled: Octopush could not be reached (%(error)s). The send is "
            "still scheduled; try again in a minute.",
            error=error,
        )
    if result.earlier_unrecorded:
        return N_(
            "Octopush refused (%(error)s). An earlier cancel of this send reached "
            "Octopush and its answer was not recorded: it is probably cancelled "
            "already; check the Octopush dashboard.",
            error=error,
        )
    return N_(
        "Not cancelled: Octopush refused (%(error)s). The send is still scheduled.",
        error=error,
    )
