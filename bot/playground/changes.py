"""A version counter the page long-polls: every change to Slack or the phones bumps it."""

from __future__ import annotations

import threading


class Changes:
    """Bump on every visible change; :meth:`wait` returns as soon as one happens."""

    def __init__(self) -> None:
        self._version = 0
        self._changed = threading.Condition()

    @property
    def version(self) -> int:
        with self._changed:
            return self._version

    def bump(self) -> None:
        with self._changed:
            self._version += 1
            self._changed.notify_all()

    def wait(self, since: int, timeout: float) -> int:
        """The current version, once it differs from ``since`` (or after ``timeout``)."""
        with self._changed:
            self._changed.wait_for(lambda: self._version != since, timeout=timeout)
            return self._version
