"""A cache for Slack lookups: entries expire and are evicted, and a miss loads once.

``cachetools.TTLCache`` does the expiry and the size bound; it is not thread-safe, so
every use holds one lock. Loading happens outside that lock, with one load per key in
flight: threads that miss a key another thread is already loading wait for that
result, so a burst of pages to one person costs one Slack call, not one per thread.
A failed load is not cached: every waiter gets its error and the next call tries again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Generic, TypeVar

from cachetools import TTLCache

_V = TypeVar("_V")


class LookupCache(Generic[_V]):
    """Thread-safe: values live ``ttl_seconds``; at most ``maxsize`` keys are kept."""

    def __init__(
        self,
        *,
        ttl_seconds: float,
        maxsize: int = 1024,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._entries: TTLCache[str, _V] = TTLCache(
            maxsize=maxsize, ttl=ttl_seconds, timer=clock
        )
        self._lock = threading.Lock()
        self._loading: dict[str, Future[_V]] = {}

    def get(self, key: str, load: Callable[[], _V]) -> _V:
        """The cached value of ``key``, or ``load()``'s, run once for all who miss it."""
        with self._lock:
            try:
                return self._entries[key]
            except KeyError:
                pass
            pending = self._loading.get(key)
            if pending is None:
                pending = self._loading[key] = Future()
                loads_it = True
            else:
                loads_it = False
        if not loads_it:
            return pending.result()
        try:
            value = load()
        except BaseException as error:
            with self._lock:
                del self._loading[key]
            pending.set_exception(error)
            raise
        with self._lock:
            self._entries[key] = value
            del self._loading[key]
        pending.set_result(value)
        return value

    def __len__(self) -> int:
        """How many unexpired entries are held (expired ones are dropped first)."""
        with self._lock:
            self._entries.expire()
            return len(self._entries)
