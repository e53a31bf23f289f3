"""Checking the stored dossiers, and repairing damage an earlier version could leave.

A dossier is readable only if its stored events number 1, 2, 3, ... with no gap, every
recorded event (version 2 on) is indexed by exactly one log row and every log row by one
event, and each snapshot equals a replay of the events up to it. Versions 0.1 and earlier
could write a dossier whose versions skip (concurrent request threads shared its cached
aggregate): every read of it then failed. The entries themselves, and the log, stayed
intact - so such a dossier is repaired by numbering its events again in their order
(log rows follow) and dropping its snapshots, which are only a cache. Nothing signed or
hashed changes: no leaf, receipt or checkpoint names an event's version.

Repair with the ledger stopped: a running server caches dossiers with their old versions.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from eventsourcing.application import project_aggregate
from eventsourcing.domain import OriginatorVersionError
from sqlalchemy import Connection, Engine, Table, delete, select, text, update

from ledger.infra.storage.tables import log_entries

GAP = "versions-skip"
UNINDEXED = "event-without-log-row"
ORPHAN_ROW = "log-row-without-event"
SNAPSHOT = "snapshot-differs"
REPAIRABLE = frozenset((GAP, SNAPSHOT))


@dataclass(frozen=True)
class Damage:
    """One thing wrong with one aggregate's stored events."""

    aggregate_id: uuid.UUID
    kind: str  # GAP, UNINDEXED, ORPHAN_ROW or SNAPSHOT
    detail: str

    def __str__(self) -> str:
        return f"{self.aggregate_id}: {self.kind}: {self.detail}"


@dataclass(frozen=True)
class StoreCheck:
    aggregates: int
    events: int
    log_rows: int
    snapshots: int
    damage: list[Damage]

    @property
    def damaged(self) -> list[uuid.UUID]:
        return sorted({d.aggregate_id for d in self.damage})


def _uuid(value: Any) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(bytes=bytes(value))


def _ranges(versions: list[int]) -> str:
    """[1, 2, 3, 7, 8] -> '1-3, 7-8'."""
    runs: list[list[int]] = []
    for v in versions:
        if runs and v == runs[-1][1] + 1:
            runs[-1][1] = v
        else:
            runs.append([v, v])
    return ", ".join(f"{a}-{b}" if a != b else str(a) for a, b in runs)


def _versions(connection: Connection, events: Table) -> Iterator[tuple[uuid.UUID, list[int]]]:
    """Each aggregate's stored versions in order, streamed."""
    rows = connection.execute(select(events.c.originator_id, events.c.originator_version)
                              .order_by(events.c.originator_id, events.c.originator_version))
    current: uuid.UUID | None = None
    found: list[int] = []
    for originator_id, version in rows:
        key = _uuid(originator_id)
        if key != current:
            if current is not None:
                yield current, found
            current, found = key, []
        found.append(version)
    if current is not None:
        yield current, found


def check_store(ledger: Any) -> StoreCheck:
    """Every aggregate's events, log rows and snapshots, as described above. ``ledger``:
    a ``ledger.application.Ledger`` (its engine, event store and snapshot store)."""
    engine: Engine = ledger.engine
    events: Table = ledger.recorder.events_record_cls.__table__
    snapshots: Table = ledger.snapshots.recorder.events_record_cls.__table__
    damage: list[Damage] = []
    aggregates = event_count = 0
    with engine.connect() as connection:
        logged: dict[uuid.UUID, set[int]] = {}
        rows = 0
        for originator_id, version in connection.execute(select(log_entries.c.originator_id, log_entries.c.originator_version)):
            logged.setdefault(_uuid(originator_id), set()).add(version)
            rows += 1
        for key, versions in _versions(connection, events):
            aggregates += 1
            event_count += len(versions)
            if versions != list(range(1, len(versions) + 1)):
                missing = sorted(set(range(1, versions[-1] + 1)) - set(versions))
                damage.append(Damage(key, GAP, f"stored versions {_ranges(versions)} (missing {_ranges(missing)})"))
            indexed = logged.pop(key, set())
            unindexed = [v for v in versions[1:] if v not in indexed]
            if unindexed:
                damage.append(Damage(key, UNINDEXED, f"versions {_ranges(unindexed)} have no log row"))
            orphans = sorted(indexed - set(versions))
            if orphans:
                damage.append(Damage(key, ORPHAN_ROW, f"log rows name versions {_ranges(orphans)}, which are not stored"))
        for key, versions_set in logged.items():
            damage.append(Damage(key, ORPHAN_ROW, f"log rows name versions {_ranges(sorted(versions_set))} of an aggregate with no events"))
        kept = [(_uuid(r[0]), r[1]) for r in connection.execute(
            select(snapshots.c.originator_id, snapshots.c.originator_version).order_by(snapshots.c.originator_id))]
    for key, version in kept:
        differs = _snapshot_differs(ledger, key, version)
        if differs:
            damage.append(Damage(key, SNAPSHOT, f"snapshot at version {version} {differs}"))
    return StoreCheck(aggregates, event_count, rows, len(kept), damage)


def _snapshot_differs(ledger: Any, key: uuid.UUID, version: int) -> str | None:
    snapshot = next(iter(ledger.snapshots.get(key, lte=version, desc=True, limit=1)))
    try:
        replayed = project_aggregate(None, ledger.events.get(key, lte=version))
    except OriginatorVersionError as exc:
        return f"cannot be compared: the events up to it do not replay ({exc!r})"
    if replayed is None or replayed.version != version:
        return "is past the stored events"
    if vars(snapshot.mutate(None)) != vars(replayed):
        return "differs from a replay of the events"
    return None


@dataclass(frozen=True)
class Repair:
    aggregate_id: uuid.UUID
    renumbered: int  # events given a new version
    snapshots_dropped: int


class NotRepairable(Exception):
    """Damage this module does not repair (an event without its log row, or the reverse)."""


def repair_store(ledger: Any, found: StoreCheck) -> list[Repair]:
    """Repair what ``check_store`` found: renumber the events of dossiers whose versions
    skip (and their log rows), drop snapshots that skip or differ. One transaction per
    aggregate. Raises ``NotRepairable`` (before changing anything) for other damage."""
    other = [d for d in found.damage if d.kind not in REPAIRABLE]
    if other:
        raise NotRepairable("; ".join(str(d) for d in other))
    engine: Engine = ledger.engine
    events: Table = ledger.recorder.events_record_cls.__table__
    snapshots: Table = ledger.snapshots.recorder.events_record_cls.__table__
    repairs = []
    for key in found.damaged:
        with engine.begin() as connection:
            if engine.dialect.name == "postgresql":  # the ledger's own writers wait meanwhile
                connection.execute(text(f"LOCK TABLE {events.fullname} IN EXCLUSIVE MODE"))
            versions = list(connection.execute(select(events.c.originator_version).where(events.c.originator_id == key)
                                               .order_by(events.c.originator_version)).scalars())
            renumbered = 0
            for new, old in enumerate(versions, start=1):  # ascending: a new number is never taken
                if new != old:
                    connection.execute(update(events).where(events.c.originator_id == key, events.c.originator_version == old)
                                       .values(originator_version=new))
                    connection.execute(update(log_entries).where(log_entries.c.originator_id == key,
                                                                 log_entries.c.originator_version == old)
                                       .values(originator_version=new))
                    renumbered += 1
            dropped = connection.execute(delete(snapshots).where(snapshots.c.originator_id == key)).rowcount
        repairs.append(Repair(key, renumbered, dropped))
    return repairs
