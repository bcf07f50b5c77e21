"""The listeners' thread pool (Bolt's lazy listeners, what an ack left), counting the
work in hand.

A ``ThreadPoolExecutor`` cannot say whether it is idle; :meth:`ListenerPool.idle`
can, so a check that "nothing happened" waits until the sends really finished
instead of guessing with a sleep.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class ListenerPool(ThreadPoolExecutor):
    """A ``ThreadPoolExecutor`` that knows how many submitted calls are unfinished."""

    def __init__(self, max_workers: int, thread_name_prefix: str = "") -> None:
        super().__init__(max_workers=max_workers, thread_name_prefix=thread_name_prefix)
        self._in_hand = 0
        self._count_lock = threading.Lock()

    def submit(
        self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs
    ) -> Future[T]:
        with self._count_lock:
            self._in_hand += 1
        try:
            future = super().submit(fn, *args, **kwargs)
        except BaseException:
            self._finished()
            raise
        future.add_done_callback(lambda _: self._finished())
        return future

    def idle(self) -> bool:
        """True when every submitted call has finished (none queued, none running)."""
        with self._count_lock:
            return self._in_hand == 0

    def _finished(self) -> None:
        with self._count_lock:
            self._in_hand -= 1
