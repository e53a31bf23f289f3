"""Properties: incremental projection equals a full rebuild, after any sequence of
submissions; replay as known at T equals projecting only the entries recorded by T."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, create_engine, select
from sqlalchemy.pool import StaticPool

from ledger.aggregates import dossier_id
from ledger.infra.storage.migrate import upgrade
from projections.definitions import BUILTIN, DefinitionRegistry
from projections.evaluation import evaluate
from projections.examples.employed_q2 import DEFINITION as EMPLOYED_Q2
from projections.history import dossiers_as_known_at
from projections.read_models import ReadModels
from projections.replay import flag_listing, replay
from projections.source import ListSource
from projections.tables import ALL
from tests.projections.simulation import FUNDERS, PROVIDERS, Simulation, client_refs, propose
from tests.support import World, make_world

PEILDATA = st.dates(min_value=date(2023, 1, 1), max_value=date(2026, 6, 30))
PLUGINS = DefinitionRegistry()
PLUGINS.register(EMPLOYED_Q2)


@contextmanager
def fresh_engine() -> Iterator[Engine]:
    engine = create_engine("sqlite://", poolclass=StaticPool)
    upgrade(engine)
    try:
        yield engine
    finally:
        engine.dispose()


def snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    with engine.connect() as connection:
        return {t.name: sorted(tuple(r) for r in connection.execute(select(t))) for t in ALL}


def held(states: dict[str, Any]) -> dict[str, Any]:
    """Dossiers with something in them (a client with only refusals has no dossier row)."""
    return {ref: s for ref, s in states.items() if s.trajectories or s.claims or s.benefits}


@settings(max_examples=40, deadline=None)
@given(data=st.data(), steps=st.integers(1, 45), batch_size=st.integers(1, 8),
       kept_dossiers=st.sampled_from([0, 1, 10_000]))
def test_incremental_projection_equals_a_full_rebuild(
    data: st.DataObject, steps: int, batch_size: int, kept_dossiers: int
) -> None:
    sim = Simulation()
    with fresh_engine() as incremental, fresh_engine() as rebuilt:
        models = ReadModels(incremental, batch_size=batch_size, kept_dossiers=kept_dossiers)
        for _ in range(steps):
            sim.step(data)
            if data.draw(st.booleans(), label="catch up now"):
                models.catch_up(sim.source)
        models.catch_up(sim.source)
        ReadModels(rebuilt).rebuild(sim.source)
        assert snapshot(incremental) == snapshot(rebuilt)
        assert models.last_applied() == len(sim.source.bodies) - 1
        assert dict(models.dossiers()) == held(sim.states)  # the projection sees what the rules decided on
    event(f"{sum(b['verdict'] == 'accepted' for b in sim.source.bodies) // 10 * 10}+ accepted")


@settings(max_examples=40, deadline=None)
@given(data=st.data(), steps=st.integers(1, 45), peildatum=PEILDATA)
def test_replay_as_known_at_equals_projecting_only_the_entries_recorded_by_then(
    data: st.DataObject, steps: int, peildatum: date
) -> None:
    sim = Simulation()
    for _ in range(steps):
        sim.step(data)
    bodies = sim.source.bodies
    last = data.draw(st.integers(0, len(bodies) - 1), label="last entry known")
    cut = bodies[last]["recorded_at"]
    known = sorted(dossiers_as_known_at(sim.source, cut).items())
    replayed = replay(known, BUILTIN, peildatum, cut)
    with fresh_engine() as engine:
        models = ReadModels(engine, batch_size=5)
        models.catch_up(ListSource(bodies[:last + 1]))
        stored = list(models.dossiers())
        from_facts = models.evaluate(BUILTIN, peildatum)  # the stored facts, no dossier loaded
        with_plugin = models.evaluate([*BUILTIN, EMPLOYED_Q2], peildatum, PLUGINS)  # dossiers loaded for it
    projected = replay(stored, BUILTIN, peildatum)
    assert replayed.results == projected.results
    assert from_facts == projected.results
    assert with_plugin == evaluate(known, [*BUILTIN, EMPLOYED_Q2], peildatum, PLUGINS)
    for by in ("provider", "funder", "cohort"):
        assert replayed.rates(by) == projected.rates(by)
    assert flag_listing(known, peildatum) == flag_listing(stored, peildatum)
    event(f"{len(replayed.results)} trajectories judged")


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), steps=st.integers(1, 25), batch_size=st.integers(1, 6))
def test_through_a_real_ledger_the_projection_matches_the_aggregates(
    data: st.DataObject, steps: int, batch_size: int
) -> None:
    refs = client_refs(2)
    with tempfile.TemporaryDirectory() as folder:
        world: World = make_world(f"sqlite:///{folder}/ledger.sqlite3")
        try:
            models = ReadModels(world.ledger.engine, batch_size=batch_size)
            for _ in range(steps):
                ref = data.draw(st.sampled_from(refs))
                state = models_state(world, ref)
                submitter, payload = propose(data, state, ref)
                assert submitter in FUNDERS + PROVIDERS
                world.submit(submitter, payload)
                if data.draw(st.booleans(), label="catch up now"):
                    models.catch_up(world.ledger)
            models.catch_up(world.ledger)
            incremental = snapshot(world.ledger.engine)
            assert models.rebuild(world.ledger) == world.ledger.log_size()
            assert snapshot(world.ledger.engine) == incremental
            for ref in refs:
                assert models.dossier(ref) == models_state(world, ref, missing=None)
        finally:
            world.ledger.close()


def models_state(world: World, ref: str, missing: Any = "empty") -> Any:
    """The ledger aggregate's own dossier state (what the rules decide against)."""
    from eventsourcing.application import AggregateNotFoundError

    from ledger.domain.dossier.state import DossierState

    try:
        return world.ledger.repository.get(dossier_id(ref)).state
    except AggregateNotFoundError:
        return DossierState() if missing == "empty" else missing
