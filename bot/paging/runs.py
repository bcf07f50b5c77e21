"""What starting or moving a page did: each member tried, and where the page ended."""

from __future__ import annotations

from dataclasses import dataclass

from bot.audit.pages import Page
from bot.domain import SendOutcome
from bot.i18n import N_


@dataclass(frozen=True)
class Attempt:
    """One member texted (or not): the outcome, or why they could not be texted."""

    member: str
    outcome: SendOutcome | None
    problem: str | None = None
    audit_id: int | None = None

    @property
    def reached(self) -> bool:
        return self.outcome is not None and self.outcome.ok

    @property
    def why(self) -> str:
        """Why this member was not reached, in a few words (translatable: ``bot.i18n``).

        Octopush's own code and message stay as Octopush wrote them.
        """
        if self.problem:
            return self.problem
        if self.outcome is not None and not self.outcome.ok:
            code, message = self.outcome.error_code, self.outcome.error_message
            if code and message:
                return N_(
                    "Octopush refused: [%(code)s] %(error)s", code=code, error=message
                )
            if code:
                return N_("Octopush refused: [%(code)s]", code=code)
            if message:
                return N_("Octopush refused: %(error)s", error=message)
            return N_("Octopush refused")
        return ""


@dataclass(frozen=True)
class PageRun:
    """What one start or move of a page did: who was tried, in order, where it ended."""

    page: Page
    attempts: tuple[Attempt, ...]
    #: ``page`` (started), ``escalation`` (nobody acknowledged) or ``failover``.
    cause: str = "page"
    #: The member the page moved away from (escalation and failover).
    previous: str | None = None
    #: Why it moved away from ``previous`` (a failover's receipt status).
    reason: str | None = None
    #: True when no member of this page was ever reached.
    everyone_failed: bool = False
    #: What failed after an SMS left (English, marked with ``N_``): said with the
    #: page, never raised, since the SMS cannot be taken back.
    problems: tuple[str, ...] = ()

    @property
    def duplicate(self) -> bool:
        """The same Slack command delivered twice: the first one already paged."""
        first = self.attempts[0].outcome if self.attempts else None
        return first is not None and first.duplicate

    @property
    def failed(self) -> tuple[Attempt, ...]:
        return tuple(attempt for attempt in self.attempts if not attempt.reached)

    @property
    def reached(self) -> Attempt | None:
        return next((a for a in self.attempts if a.reached), None)


#: Kept for callers of the old name: an escalation is a run with cause ``escalation``.
Escalation = PageRun
