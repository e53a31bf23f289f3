"""Reads cached per version, the newest checkpoint's size: a page asks the source for it (small
calls) and reuses what it computed at that size; a new checkpoint invalidates it all, and so does
an action the dashboard took (``clear``)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")


class PerVersion:
    def __init__(self, version: Callable[[], int]) -> None:
        self._version = version
        self._at: int | None = None
        self._values: dict[Hashable, Any] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()`` once per key and log size (two requests at once may both compute it)."""
        now = self._version()
        with self._lock:
            if now != self._at:
                self._at, self._values = now, {}
            if key in self._values:
                return self._values[key]  # type: ignore[no-any-return]
        value = compute()
        with self._lock:
            if self._at == now:
                self._values[key] = value
        return value

    def clear(self) -> None:
        with self._lock:
            self._at, self._values = None, {}
