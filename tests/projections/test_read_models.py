"""Read models on SQL: incremental, exactly once, rebuildable, created by the migration."""

from __future__ import annotations

import threading
from datetime import date
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, Engine, Integer, MetaData, create_engine, inspect, select, update

from ledger.infra.storage.migrate import alembic_config, upgrade
from projections.definitions import BUILTIN
from projections.errors import InconsistentHistory, LogGap
from projections.evaluation import evaluate
from projections.read_models import ReadModels
from projections.source import ListSource
from projections.tables import (
    ALL,
    metadata,
    projection_claim_flags,
    projection_claims,
    projection_facts,
    projection_refusals,
    projection_trajectories,
)
from tests.projections.support import JOBSTAP, UWV, WERKFIT, Client
from tests.support import World


def snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    with engine.connect() as connection:
        return {t.name: sorted(tuple(r) for r in connection.execute(select(t))) for t in ALL}


def story(world: World) -> Client:
    client = Client.named(world, "story")
    t1 = client.commission("2024-01-01", "2024-12-31")
    t2 = client.commission("2024-02-01", "2024-10-31", funder=UWV, provider=JOBSTAP)
    client.intake(t1, 2, "2024-01-10")
    client.placed(t1, application_date="2023-12-20", job_start="2024-04-01", contract_end="2024-09-30")
    client.claim(t2, application_date="2024-03-01", job_start="2024-04-01", provider=JOBSTAP, accept=False)
    return client


def schema_differences(engine: Engine, target: MetaData) -> list[Any]:
    """What Alembic's autogenerate would change to make the database match ``target``,
    looking at the projection tables only."""
    ours = {t.name for t in target.sorted_tables}

    def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
        return type_ != "table" or name in ours

    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_name": include_name})
        return list(compare_metadata(context, target))


def test_the_migration_creates_exactly_the_tables_projections_defines(any_world: World) -> None:
    engine = any_world.ledger.engine
    assert {t.name for t in ALL} <= set(inspect(engine).get_table_names())
    assert schema_differences(engine, metadata) == []
    drifted = MetaData()
    for table in metadata.sorted_tables:
        table.to_metadata(drifted)
    drifted.tables["projection_claims"].append_column(Column("extra", Integer()))
    assert [d[0] for d in schema_differences(engine, drifted)] == ["add_column"]


def test_downgrade_removes_the_tables_and_upgrade_brings_them_back(tmp_path: Any) -> None:
    from alembic import command

    engine = create_engine(f"sqlite:///{tmp_path}/m.sqlite3")
    upgrade(engine)
    with engine.begin() as connection:
        config = alembic_config(str(engine.url))
        config.attributes["connection"] = connection
        command.downgrade(config, "0001")
    assert not {t.name for t in ALL} & set(inspect(engine).get_table_names())
    upgrade(engine)
    assert ReadModels(engine).last_applied() == -1
    engine.dispose()


def test_catch_up_follows_the_ledger_and_records_refusals(any_world: World) -> None:
    models = ReadModels(any_world.ledger.engine, batch_size=3)
    client = story(any_world)
    assert models.catch_up(any_world.ledger) == any_world.ledger.log_size()
    assert models.last_applied() == any_world.ledger.log_size() - 1
    assert models.dossier(client.ref) == client.dossier()
    with any_world.ledger.engine.connect() as connection:
        t = projection_trajectories.c
        trajectories = connection.execute(select(t.provider, t.intake_rung).order_by(t.provider)).all()
        claims = connection.execute(select(projection_claims.c.provider, projection_claims.c.attributable)).all()
        flags = {r.flag for r in connection.execute(select(projection_claim_flags.c.flag))}
        refusal = connection.execute(select(projection_refusals)).one()
    assert [tuple(r) for r in trajectories] == [(JOBSTAP, None), (WERKFIT, 2)]
    assert [tuple(r) for r in claims] == [(WERKFIT, False)]
    assert flags == {"application-before-trajectory", "no-mediation-before-job", "overlapping-trajectories",
                     "employment-not-verified"}
    assert (refusal.rule, refusal.submitter, refusal.payload_type) == ("claim.unique-job", JOBSTAP, "PlacementClaimed")
    assert models.catch_up(any_world.ledger) == 0  # nothing new: nothing applied twice
    from_facts = models.evaluate(BUILTIN, date(2025, 6, 1))
    assert from_facts == evaluate(models.dossiers(), BUILTIN, date(2025, 6, 1))
    assert [r.verdicts["six-month-rule"].reason for r in from_facts] == ["job-not-attributable", "no-regular-job"]


def test_incremental_updates_equal_a_rebuild(world: World) -> None:
    models = ReadModels(world.ledger.engine, batch_size=2)
    client = story(world)
    models.catch_up(world.ledger)
    claim_id = next(iter(client.dossier().claims))
    client.employment_ended(claim_id, "2024-05-01")
    client.benefit("2024-06-01")
    assert models.catch_up(world.ledger) == 2
    incremental = snapshot(world.ledger.engine)
    assert models.rebuild(world.ledger) == world.ledger.log_size()
    assert snapshot(world.ledger.engine) == incremental


def test_a_second_runner_on_the_same_batch_applies_nothing(world: World) -> None:
    story(world)
    first, second = ReadModels(world.ledger.engine, 1000), ReadModels(world.ledger.engine, 1000)
    page = world.ledger.entries(0, 1000)
    assert first.apply(page, -1)
    assert not second.apply(page, -1)  # it read -1 too, but the cursor moved: rolled back
    assert second.catch_up(world.ledger) == 0
    with world.ledger.engine.connect() as connection:
        assert len(connection.execute(select(projection_refusals)).all()) == 1


def test_concurrent_runners_apply_every_entry_exactly_once(any_world: World) -> None:
    for i in range(4):
        story_client = Client.named(any_world, f"concurrent-{i}")
        tid = story_client.commission("2024-01-01", "2024-12-31")
        story_client.claim(tid, application_date="2024-02-01", job_start="2024-03-01")
        story_client.claim(tid, application_date="2024-02-01", job_start="2024-03-02", accept=False)
    engine = any_world.ledger.engine
    errors: list[BaseException] = []

    def run() -> None:
        try:
            ReadModels(engine, batch_size=2).catch_up(any_world.ledger)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    after = snapshot(engine)
    assert len(after["projection_refusals"]) == 4
    assert ReadModels(engine).last_applied() == any_world.ledger.log_size() - 1
    ReadModels(engine).rebuild(any_world.ledger)
    assert snapshot(engine) == after


def test_a_gap_in_the_source_stops_the_runner(world: World) -> None:
    class Gappy:
        def entries(self, start: int = 0, limit: int = 1000) -> list[tuple[int, dict[str, Any]]]:
            return [(i + 1, body) for i, body in world.ledger.entries(start, limit)]

    with pytest.raises(LogGap):
        ReadModels(world.ledger.engine).catch_up(Gappy())
    assert ReadModels(world.ledger.engine).last_applied() == -1


def test_an_entry_the_dossier_cannot_hold_fails_the_batch(world: World) -> None:
    client = story(world)
    bodies = [body for _, body in world.ledger.entries(0, 1000)]
    orphan = [b for b in bodies if b["envelope"]["payload"]["type"] != "TrajectoryCommissioned"]
    models = ReadModels(world.ledger.engine)
    with pytest.raises(InconsistentHistory):
        models.catch_up(ListSource(orphan))
    assert models.last_applied() == -1
    assert models.dossier(client.ref) is None


def test_facts_of_another_version_are_not_trusted(world: World) -> None:
    story(world)
    models = ReadModels(world.ledger.engine)
    models.catch_up(world.ledger)
    expected = evaluate(models.dossiers(), BUILTIN, date(2025, 6, 1))
    with world.ledger.engine.begin() as connection:
        connection.execute(update(projection_facts).values(facts_version="0", regular_job_start="1999-01-01"))
    assert models.evaluate(BUILTIN, date(2025, 6, 1)) == expected  # judged from the dossiers instead


def a_busy_client(world: World) -> Client:
    """One client with many entries, so that every small batch changes the same dossier."""
    client = story(world)
    trajectory_id = next(iter(client.dossier().trajectories))
    for k, on in enumerate(("2024-02-01", "2024-03-01", "2024-04-01", "2024-05-01")):
        client.activity(trajectory_id, 29 + k, on)
        client.assess(trajectory_id, 3 + k % 3, on)
    client.benefit("2024-06-01")
    return client


def test_a_runner_drops_the_dossiers_it_kept_when_another_runner_came_between(world: World) -> None:
    """After each of its batches another runner applies the next one: the dossiers the
    first kept are then out of date, and using them would write wrong rows."""
    client = a_busy_client(world)
    size = world.ledger.log_size()
    other = ReadModels(world.ledger.engine, batch_size=2)

    class Interrupted(ReadModels):
        def last_applied(self) -> int:
            last = super().last_applied()
            if 0 <= last < size - 1:
                assert other.apply(world.ledger.entries(last + 1, 2), last)
            return super().last_applied()

    interrupted = Interrupted(world.ledger.engine, batch_size=3)
    interrupted.catch_up(world.ledger)
    assert interrupted.last_applied() == size - 1
    mixed = snapshot(world.ledger.engine)
    ReadModels(world.ledger.engine).rebuild(world.ledger)
    assert snapshot(world.ledger.engine) == mixed
    assert interrupted.dossier(client.ref) == client.dossier()


@pytest.mark.parametrize("kept_dossiers", [0, 1, 10_000])
def test_keeping_dossiers_between_batches_changes_nothing_written(world: World, kept_dossiers: int) -> None:
    a_busy_client(world)
    second = Client.named(world, "second")
    trajectory_id = second.commission("2024-01-01", "2024-12-31", funder=UWV, provider=JOBSTAP)
    second.intake(trajectory_id, 1, "2024-01-05", provider=JOBSTAP)
    ReadModels(world.ledger.engine, batch_size=1, kept_dossiers=0).rebuild(world.ledger)
    one_by_one = snapshot(world.ledger.engine)
    assert ReadModels(world.ledger.engine, batch_size=4, kept_dossiers=kept_dossiers).rebuild(world.ledger)
    assert snapshot(world.ledger.engine) == one_by_one
