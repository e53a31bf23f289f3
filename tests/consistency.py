"""What concurrency must never break, read straight from the database.

``assert_consistent`` checks, for every aggregate in the event table: versions contiguous
from 1, every recorded event indexed by exactly one log row (and no log row without its
event), the log dense, and every snapshot equal to a replay of the events up to it.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Any

from eventsourcing.application import project_aggregate
from sqlalchemy import text

from ledger.application import Ledger


def _uuid(value: Any) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(bytes=bytes(value))


def stored_versions(ledger: Ledger) -> dict[uuid.UUID, list[int]]:
    versions: dict[uuid.UUID, list[int]] = defaultdict(list)
    with ledger.engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT originator_id, originator_version FROM trajectledger_events ORDER BY originator_id, originator_version"))
        for originator_id, version in rows:
            versions[_uuid(originator_id)].append(version)
    return versions


def assert_consistent(ledger: Ledger) -> int:
    """Fail with what is wrong; return the number of aggregates checked."""
    versions = stored_versions(ledger)
    gaps = {key: found for key, found in versions.items() if found != list(range(1, len(found) + 1))}
    assert not gaps, f"dossier versions not contiguous: {gaps}"
    with ledger.engine.connect() as connection:
        logged = [(r[0], _uuid(r[1]), r[2]) for r in connection.execute(text(
            "SELECT log_index, originator_id, originator_version FROM log_entries ORDER BY log_index"))]
        snapshots = [(_uuid(r[0]), r[1]) for r in connection.execute(text(
            "SELECT originator_id, originator_version FROM trajectledger_snapshots"))]
    assert [i for i, _, _ in logged] == list(range(len(logged))), "the log is not dense"
    indexed = {(key, version) for _, key, version in logged}
    assert len(indexed) == len(logged), "an event is indexed twice"
    expected = {(key, v) for key, found in versions.items() for v in found if v > 1}
    assert indexed == expected, (f"events without a log row: {sorted(expected - indexed)[:5]}; "
                                 f"log rows without an event: {sorted(indexed - expected)[:5]}")
    for key, version in snapshots:
        assert ledger.snapshots is not None
        snapshot = next(iter(ledger.snapshots.get(key, lte=version, desc=True, limit=1)))
        replayed = project_aggregate(None, ledger.events.get(key, lte=version))
        from_snapshot = snapshot.mutate(None)  # type: ignore[attr-defined]
        assert replayed is not None and vars(from_snapshot) == vars(replayed), f"snapshot {key}@{version} differs from a replay"
    return len(versions)
