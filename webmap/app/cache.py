"""Bounded work for request-driven results: an LRU of finished results, one build per key, and
a cap on expensive builds running at once.

A request parameter that changes a result (target minutes, a month) makes a cache key. Without a
bound every distinct value would be kept for ever (memory) and every new month would be planned
under one global lock (latency for everyone). Here:

* finished results live in an LRU of ``maxsize`` entries;
* a key is built once: concurrent requests for the same key wait for that build, requests for
  other keys do not wait for it;
* at most ``max_builds`` *expensive* builds (month plans) run at once; one more is refused at once
  with :class:`Busy` (the API answers 429 with ``Retry-After``), so a burst of new months can not
  hold up ``/api/health`` or residents' answers.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any


class Busy(Exception):
    """Too many expensive builds are running; try again shortly."""


class ResultCache:
    """LRU of results with per-key build locks and a limit on concurrent expensive builds."""

    def __init__(self, maxsize: int = 64, max_builds: int = 2) -> None:
        if maxsize < 1 or max_builds < 1:
            raise ValueError("maxsize and max_builds must be >= 1")
        self.maxsize = maxsize
        self._items: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._building: dict[str, threading.Lock] = {}
        self._slots = threading.BoundedSemaphore(max_builds)

    def __len__(self) -> int:
        return len(self._items)

    def _hit(self, key: str) -> tuple[bool, Any]:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return True, self._items[key]
            return False, None

    def get(self, key: str, build: Callable[[], Any], *, expensive: bool = False) -> Any:
        """The result for ``key``, built by ``build()`` on a miss (once per key at a time)."""
        hit, value = self._hit(key)
        if hit:
            return value
        with self._lock:
            key_lock = self._building.setdefault(key, threading.Lock())
        with key_lock:
            hit, value = self._hit(key)  # built by the request we waited for
            if hit:
                return value
            if expensive and not self._slots.acquire(blocking=False):
                raise Busy(key)
            try:
                value = build()
            finally:
                if expensive:
                    self._slots.release()
            with self._lock:
                self._items[key] = value
                self._items.move_to_end(key)
                while len(self._items) > self.maxsize:
                    self._items.popitem(last=False)
                self._building.pop(key, None)
            return value
