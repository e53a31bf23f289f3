"""Reads cached per version, the newest checkpoint's size: a page asks the source for it (small
calls) and reuses what it computed at that size; a new checkpoint invalidates it all, and so does
an action the dashboard took (``clear``).

``latest`` is for the pages of figures (overview, payments, flags): it computes the page at the
new size on a worker thread and waits for it at most ``patience`` seconds; when that is not
enough, it answers with the page as last computed, at the size it was computed at, and the new
one replaces it when done (stale while revalidating). So a page after a new entry comes within
the patience plus a render, saying which log size its figures are at. ``clear`` drops those too:
after its own action a user waits for figures that show it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as Waited
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")
PATIENCE = 0.25  # seconds a page of figures waits for its new figures before it shows the last ones


@dataclass(frozen=True)
class AtVersion(Generic[T]):
    value: T
    version: int  # the log size (newest checkpoint's) it was computed at
    newest: int  # the newest version when it was served: the same, unless it is the last one while a new one is made

    @property
    def stale(self) -> bool:
        return self.version != self.newest


class PerVersion:
    def __init__(self, version: Callable[[], int], patience: float = PATIENCE) -> None:
        self._version = version
        self.patience = patience
        self._at: int | None = None
        self._values: dict[Hashable, Any] = {}
        self._last: dict[Hashable, tuple[int, Any]] = {}  # key -> (version, value): survives new versions
        self._making: dict[tuple[Hashable, int], Future[Any]] = {}
        self._cleared = 0  # how often ``clear`` was called
        self._lock = threading.Lock()
        self._workers = ThreadPoolExecutor(max_workers=2, thread_name_prefix="dashboard-figures")

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()`` once per key and log size (two requests at once may both compute it)."""
        now = self._version()
        with self._lock:
            self._move_to(now)
            if key in self._values:
                return self._values[key]  # type: ignore[no-any-return]
        value = compute()
        with self._lock:
            if self._at == now:
                self._values[key] = value
        return value

    def latest(self, key: Hashable, compute: Callable[[], T]) -> AtVersion[T]:
        """``compute()`` at the newest version, or, when it takes longer than the patience and
        an earlier one was computed, that one (and the new one is kept once made)."""
        now = self._version()
        with self._lock:
            self._move_to(now)
            if key in self._values:
                return AtVersion(self._values[key], now, now)
            making = self._making.get((key, now))
            if making is None:
                making = self._making[(key, now)] = self._workers.submit(
                    self._make, key, now, self._cleared, compute)
            last = self._last.get(key)
        if last is None:  # nothing to show meanwhile: wait for it
            return AtVersion(making.result(), now, now)
        try:
            return AtVersion(making.result(timeout=self.patience), now, now)
        except Waited:
            return AtVersion(last[1], last[0], now)

    def _make(self, key: Hashable, now: int, cleared: int, compute: Callable[[], T]) -> T:
        try:
            value = compute()
            with self._lock:
                if self._cleared == cleared:  # not made before an action that cleared the cache
                    if self._at == now:
                        self._values[key] = value
                    last = self._last.get(key)
                    if last is None or last[0] <= now:
                        self._last[key] = (now, value)
            return value
        finally:
            with self._lock:
                self._making.pop((key, now), None)

    def _move_to(self, now: int) -> None:
        if now != self._at:
            self._at, self._values = now, {}

    def clear(self) -> None:
        with self._lock:
            self._at, self._values, self._last = None, {}, {}
            self._making = {}
            self._cleared += 1
