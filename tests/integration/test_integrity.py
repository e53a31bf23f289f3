"""``trajectledger check`` finds a dossier whose stored versions skip (the damage concurrent
request threads did before the aggregate locks) and ``check --repair`` makes it readable
again, without changing a leaf: the export still verifies, before and after."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from eventsourcing.domain import OriginatorVersionError
from sqlalchemy import Engine, Table, text, update

import cli.main as cli
from ledger.aggregates import dossier_id
from ledger.application import Ledger
from ledger.bundle.export import export_bundle
from ledger.infra.storage.integrity import GAP, ORPHAN_ROW, SNAPSHOT, NotRepairable, check_store, repair_store
from ledger.infra.storage.tables import log_entries
from ledger.verify import verify_bundle
from tests.consistency import assert_consistent
from tests.support import World, commission, make_world, new_id, payload

ACTIVITIES = 60  # past the snapshot interval (50): the dossier has a snapshot too


@pytest.fixture
def world(database_url: str) -> Iterator[World]:
    world = make_world(database_url)
    yield world
    world.ledger.close()


def busy_dossier(world: World, name: str, activities: int = ACTIVITIES) -> tuple[str, str]:
    ref = world.ledger.pseudonym(name)
    tid = new_id()
    assert world.submit("gemeente-haarlem", commission(ref, "werkfit", tid)).accepted
    for n in range(activities):
        assert world.submit("werkfit", payload("ActivityRecorded", ref, "2024-02-01", trajectory_id=tid, instrument=1 + n % 34)).accepted
    return ref, tid


def skip_versions(engine: Engine, events: Table, key: uuid.UUID, from_version: int, by: int) -> None:
    """What the defect left: versions from ``from_version`` on moved up by ``by`` (log rows follow)."""
    with engine.begin() as connection:
        top = connection.execute(text(f"SELECT max(originator_version) FROM {events.fullname}")).scalar_one()
        for old in range(top, from_version - 1, -1):  # descending: a new number is never taken
            for table in (events, log_entries):
                connection.execute(update(table).where(table.c.originator_id == key, table.c.originator_version == old)
                                   .values(originator_version=old + by))


def verifies(ledger: Ledger, directory: Path) -> int:
    export_bundle(ledger, directory)
    return verify_bundle(directory, workers=0).tree_size


def run_check(world: World, monkeypatch: pytest.MonkeyPatch, *argv: str) -> int:
    monkeypatch.setattr(cli, "open_ledger", lambda: Ledger(world.ledger.settings))
    return cli.main(["check", *argv])


def test_a_dossier_whose_versions_skip_is_found_and_repaired(world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    damaged_ref, tid = busy_dossier(world, "111222333")
    intact_ref, _ = busy_dossier(world, "123456782", activities=3)
    ledger = world.ledger
    key = dossier_id(damaged_ref)
    assert check_store(ledger).damage == []
    events = ledger.recorder.events_record_cls.__table__  # type: ignore[attr-defined]
    skip_versions(ledger.engine, events, key, from_version=55, by=5)  # after its snapshot (at 50)
    size = ledger.log_size()

    found = check_store(ledger)
    assert [(d.aggregate_id, d.kind) for d in found.damage] == [(key, GAP)]
    gap = next(d for d in found.damage if d.kind == GAP)
    assert gap.detail == f"stored versions 1-54, 60-{ACTIVITIES + 7} (missing 55-59)"
    fresh = Ledger(ledger.settings)
    with pytest.raises(OriginatorVersionError):  # what every read of the client answered
        fresh.dossier(damaged_ref)
    assert fresh.dossier(intact_ref).version == 5
    fresh.close()
    assert verifies(ledger, tmp_path / "before") == size  # the entries and the log stayed intact

    assert run_check(world, monkeypatch) == cli.EXIT_VERIFY
    out = capsys.readouterr().out
    assert f"damaged {key}: {GAP}: stored versions 1-54" in out and "1 aggregates damaged" in out

    assert run_check(world, monkeypatch, "--repair") == cli.EXIT_OK
    out = capsys.readouterr().out
    assert f"repaired {key}: {ACTIVITIES + 2 - 54} events renumbered, 1 snapshots dropped" in out
    assert "every aggregate is readable again" in out
    assert check_store(ledger).damage == []
    assert_consistent(ledger)

    fresh = Ledger(ledger.settings)
    dossier = fresh.dossier(damaged_ref)
    assert dossier.version == ACTIVITIES + 2
    receipt = fresh.submit(fresh_signed(world, damaged_ref, tid))
    assert receipt.accepted and fresh.dossier(damaged_ref).version == ACTIVITIES + 3
    fresh.close()
    assert verifies(ledger, tmp_path / "after") == size + 1
    assert run_check(world, monkeypatch) == cli.EXIT_OK


def fresh_signed(world: World, ref: str, tid: str) -> dict:  # type: ignore[type-arg]
    return world.signed("werkfit", payload("ActivityRecorded", ref, "2024-03-01", trajectory_id=tid, instrument=30))


def test_a_snapshot_that_differs_from_its_events_is_found_and_dropped(world: World) -> None:
    ref, _ = busy_dossier(world, "100000009")
    ledger = world.ledger
    snapshots = ledger.snapshots.recorder.events_record_cls.__table__  # type: ignore[union-attr]
    with ledger.engine.begin() as connection:
        state = connection.execute(text(f"SELECT state FROM {snapshots.fullname}")).scalar()
        assert state is not None
        changed = bytes(state).replace(b'"instrument":1', b'"instrument":2', 1)
        assert changed != bytes(state)
        connection.execute(update(snapshots).values(state=changed))
    found = check_store(ledger)
    assert [(d.aggregate_id, d.kind) for d in found.damage] == [(dossier_id(ref), SNAPSHOT)]
    assert "differs from a replay" in found.damage[0].detail
    assert [r.snapshots_dropped for r in repair_store(ledger, found)] == [1]
    assert check_store(ledger).damage == []


def test_a_log_row_without_its_event_is_reported_and_not_repaired(world: World) -> None:
    ref, _ = busy_dossier(world, "111111110", activities=2)
    ledger = world.ledger
    key = dossier_id(ref)
    events = ledger.recorder.events_record_cls.__table__  # type: ignore[attr-defined]
    with ledger.engine.begin() as connection:
        connection.execute(events.delete().where(events.c.originator_id == key, events.c.originator_version == 3))
    found = check_store(ledger)
    assert {d.kind for d in found.damage} == {GAP, ORPHAN_ROW}
    with pytest.raises(NotRepairable, match=ORPHAN_ROW):
        repair_store(ledger, found)
    assert check_store(ledger).damage == found.damage  # nothing changed


def test_a_gap_below_a_snapshot_is_found_though_reads_still_succeed(world: World) -> None:
    """Reads start at the snapshot, so they succeed - on wrong state: the check still finds it."""
    ref, _ = busy_dossier(world, "999999990")
    ledger = world.ledger
    key = dossier_id(ref)
    events = ledger.recorder.events_record_cls.__table__  # type: ignore[attr-defined]
    skip_versions(ledger.engine, events, key, from_version=20, by=5)
    found = check_store(ledger)
    assert sorted((d.aggregate_id, d.kind) for d in found.damage) == [(key, SNAPSHOT), (key, GAP)]
    assert "do not replay" in next(d for d in found.damage if d.kind == SNAPSHOT).detail
    repair_store(ledger, found)
    assert check_store(ledger).damage == []
    assert_consistent(ledger)
    fresh = Ledger(ledger.settings)
    assert fresh.dossier(ref).version == ACTIVITIES + 2
    fresh.close()
