"""Errors the bot raises for people, kept apart from the Octopush client's own tree.

::

    BotError
      InputError        bad input; ``problems`` maps a field to a message to act on
      PolicyError       refused by a rule the admin set (``rule`` names it)
      SettingsError     missing or malformed settings; one line per problem
      AuditStoreError   the audit store could not be read or written

Octopush errors live in :mod:`bot.octopush.errors`: the client stays publishable alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bot.i18n import N_, Translator, joined


class BotError(Exception):
    """Base class of every error the bot raises itself."""

    #: Id of the audit record that recorded the refused attempt, when there is one.
    audit_id: int | None = None


class InputError(BotError):
    """User input that cannot be sent as it is.

    ``problems`` maps a field name (``recipients``, ``text``, ``sender``, ``send_at``,
    ``sms_type``, ``purpose``) to one sentence, so the modal can show each problem under
    its own field and the CLI can print them one per line.
    """

    def __init__(self, field: str, message: str) -> None:
        self.problems: dict[str, str] = {field: message}
        super().__init__(message)

    @classmethod
    def from_problems(cls, problems: Mapping[str, str]) -> InputError:
        """Build one error out of several field problems (at least one)."""
        items = list(problems.items())
        if not items:
            raise ValueError("InputError needs at least one problem")
        error = cls(*items[0])
        error.problems = dict(items)
        error.args = (joined([message for _, message in items]),)
        return error

    @property
    def field(self) -> str:
        """The first field with a problem."""
        return next(iter(self.problems))

    @property
    def message(self) -> str:
        """Every problem in one sentence, still translatable (see ``bot.i18n``)."""
        first = self.args[0] if self.args else ""
        return first if isinstance(first, str) else str(self)


class PolicyError(BotError):
    """A send refused by an admin rule (who, where, how many, how often, how much)."""

    def __init__(self, rule: str, message: str) -> None:
        #: The setting behind the refusal, e.g. ``SMS_RATE_LIMIT``.
        self.rule = rule
        self.message = message
        super().__init__(message)


class SettingsError(BotError):
    """Settings that are missing or malformed: one line per problem, never a value."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))

    def report(self, tr: Translator | None = None) -> str:
        """What a command prints on stderr before it stops: a heading, then each problem.

        In ``tr``'s language when given (the CLI's reader), else English.
        """
        say = tr.gettext if tr is not None else str
        lines = [say(N_("sms-bot: settings are missing or malformed:"))]
        lines.extend(f"  {say(line)}" for line in self.problems)
        return "\n".join(lines)


class AuditStoreError(BotError):
    """The audit store failed; the driver's exception is chained as ``__cause__``."""
