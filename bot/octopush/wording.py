"""Messages the client writes itself, kept as a marked template and its values.

``bot.octopush`` imports nothing from ``bot``, so it cannot translate: an error keeps
the :class:`Wording` of its message (``OctopushError.wording``) and the bot shows it in
its reader's language. Templates are English, marked with :func:`bot.octopush.codes.N_`
(or ``codes.N_plural``) so ``pybabel`` extracts them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple


class Wording(NamedTuple):
    """How the client wrote a message: a marked English template and its values.

    ``params`` values are strings, numbers or other :class:`Wording` (a message quoted
    in another); a plural has ``plural`` and the count ``n``, filled in as ``%(n)s``.
    """

    template: str
    params: dict[str, object]
    plural: str | None = None
    n: int | None = None

    @property
    def text(self) -> str:
        """The English message (what ``OctopushError.message`` holds)."""
        chosen = self.template
        values = {
            key: value.text if isinstance(value, Wording) else value
            for key, value in self.params.items()
        }
        if self.plural is not None and self.n is not None:
            chosen = self.template if self.n == 1 else self.plural
            values = {"n": self.n, **values}
        return chosen % values if values else chosen

    def redacted(self, redact: Callable[[str], str]) -> Wording:
        """The same wording with ``redact`` applied to every text value."""
        params = {
            key: value.redacted(redact)
            if isinstance(value, Wording)
            else redact(value)
            if isinstance(value, str)
            else value
            for key, value in self.params.items()
        }
        return self._replace(params=params)


def say(template: str, /, **params: object) -> Wording:
    """The wording of a message; mark ``template`` with ``codes.N_`` at the call."""
    return Wording(template, params)
