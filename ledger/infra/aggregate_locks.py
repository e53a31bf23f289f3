"""One decider per aggregate at a time, in this process.

A command decides against the cached aggregate object itself (copying it would cost more
than deciding) and records its entry on it before saving. Two request threads must never
do that to the same object at once: one thread's pending event or version would leak into
the other's save, leaving a dossier whose stored versions skip. So a decider holds its
aggregates' locks from reading them until they are saved or evicted. Between processes the
event store's unique (id, version) still serialises them.

The locks are striped (a fixed number, each aggregate id always on the same stripe) so
memory stays bounded; several are always taken in stripe order, so two batches can never
wait for each other.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

STRIPES = 1024


class AggregateLocks:
    def __init__(self, stripes: int = STRIPES) -> None:
        self._locks = [threading.Lock() for _ in range(stripes)]

    def _stripe(self, aggregate_id: uuid.UUID) -> int:
        return aggregate_id.int % len(self._locks)

    @contextmanager
    def holding(self, aggregate_ids: Iterable[uuid.UUID]) -> Iterator[None]:
        """Hold the locks of these aggregates (taken in stripe order, released in reverse)."""
        stripes = sorted({self._stripe(key) for key in aggregate_ids})
        taken: list[threading.Lock] = []
        try:
            for stripe in stripes:
                lock = self._locks[stripe]
                lock.acquire()
                taken.append(lock)
            yield
        finally:
            for lock in reversed(taken):
                lock.release()
