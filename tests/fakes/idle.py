"""Wait until the app has finished its background work, instead of sleeping.

A test that asserts "nothing happened" must first know that whatever could have
happened is over: the lazy listeners (sends, replies), the callback inbox (receipts,
replies, STOP) and the queued ``chat.update`` calls. One stage can feed the next (a
receipt queues an update), so the checks repeat until two passes in a row find
everything idle.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

#: A named "is this part idle?" check.
IdleChecks = Mapping[str, Callable[[], bool]]


def wait_until_idle(checks: IdleChecks, *, timeout: float = 15.0) -> None:
    """Return once every check holds on two passes in a row; fail naming the busy ones."""
    deadline = time.monotonic() + timeout
    quiet_passes = 0
    while quiet_passes < 2:
        busy = [name for name, idle in checks.items() if not idle()]
        if busy:
            quiet_passes = 0
            if time.monotonic() > deadline:
                raise AssertionError(f"still busy after {timeout} s: {', '.join(busy)}")
            time.sleep(0.01)
        else:
            quiet_passes += 1
