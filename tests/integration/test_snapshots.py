"""A long dossier loads from its latest snapshot plus at most one interval of events."""

from __future__ import annotations

from eventsourcing.domain import Aggregate

from ledger.aggregates import Dossier, dossier_id
from ledger.application import Ledger
from tests.support import commission, make_world, new_id, payload


def test_long_dossier_loads_from_a_snapshot(database_url: str) -> None:
    world = make_world(database_url)
    ledger = world.ledger
    ref = ledger.pseudonym("111222333")
    tid = new_id()
    assert world.submit("gemeente-haarlem", commission(ref, "werkfit", tid)).accepted
    batch = [world.signed("werkfit", payload("ActivityRecorded", ref, "2024-03-01", trajectory_id=tid, instrument=1 + n % 34))
             for n in range(130)]
    assert all(r.accepted for r in ledger.submit_batch(batch))  # type: ignore[union-attr]

    assert ledger.snapshots is not None
    interval = Ledger.snapshotting_intervals[Dossier]
    snapshots = list(ledger.snapshots.get(dossier_id(ref), desc=True, limit=1))
    assert snapshots and snapshots[0].originator_version >= 132 - interval
    after = list(ledger.events.get(dossier_id(ref), gt=snapshots[0].originator_version))
    assert len(after) < interval

    fresh = Ledger(ledger.settings)  # no cache: snapshot + the events after it
    loaded: Dossier = fresh.repository.get(dossier_id(ref))
    assert loaded.version == 132
    assert len(loaded.data["trajectories"][tid]["activities"]) == 130
    replayed: Dossier | None = None
    for domain_event in fresh.events.get(dossier_id(ref)):  # every event, no snapshot
        assert isinstance(domain_event, Aggregate.Event)
        replayed = domain_event.mutate(replayed)
    assert replayed is not None and replayed.data == loaded.data
    fresh.close()
    ledger.close()
