"""Figures kept between reads (``projections.incremental``): after new entries, judging only the
changed dossiers gives exactly what judging the whole ledger again gives."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from projections.definitions import BUILTIN, DefinitionRegistry
from projections.evaluation import GROUPS
from projections.incremental import KeptReplay, PerClient
from projections.read_models import ReadModels
from projections.replay import Replay, replay_ledger
from tests.projections.support import JOBSTAP, MUNICIPALITY, UWV, WERKFIT, Client
from tests.projections.test_read_models import story
from tests.support import World

PEILDATUM = date(2025, 6, 1)
SCOPES: dict[str, Callable[[str, str], bool]] = {
    "everything": lambda funder, provider: True,
    "the municipality": lambda funder, provider: funder == MUNICIPALITY,
    "jobstap": lambda funder, provider: provider == JOBSTAP,
}


def full(world: World, registry: DefinitionRegistry) -> Replay:
    return replay_ledger(world.ledger, world.ledger.engine, BUILTIN, PEILDATUM, None, registry)


def assert_same(kept: KeptReplay, world: World, registry: DefinitionRegistry) -> None:
    """Kept figures == the whole ledger judged again, in every scope and grouping."""
    whole = full(world, registry)
    assert list(kept.results.items()) == whole.results
    for name, sees in SCOPES.items():
        scoped = Replay(whole.definitions, PEILDATUM, None, [r for r in whole.results if sees(r.funder, r.provider)])
        assert kept.replay(sees).results == scoped.results, name
        assert kept.differences_total(sees) == len(scoped.differences()), name
        for by in GROUPS:
            assert kept.rates(by, sees) == scoped.rates(by), (name, by)


def more_entries(world: World, client: Client) -> None:
    """A changed dossier (a claim rejected, an employment ended, a trajectory ended), and new clients."""
    dossier = client.dossier()
    claims = list(dossier.claims)
    client.employment_ended(claims[0], "2024-05-01")
    client.end(next(iter(dossier.trajectories)), "2024-06-30")
    newcomer = Client.named(world, "newcomer")
    t = newcomer.commission("2024-03-01", "2025-02-28", funder=UWV, provider=JOBSTAP)
    newcomer.intake(t, 2, "2024-03-05", provider=JOBSTAP)
    newcomer.activity(t, 3, "2024-03-20", provider=JOBSTAP)
    newcomer.placed(t, application_date="2024-04-01", job_start="2024-05-01", provider=JOBSTAP, funder=UWV)
    later = Client.named(world, "later")
    later.commission("2026-01-01", "2026-12-31")  # starts after the peildatum: not in the population


def test_after_new_entries_the_kept_replay_equals_judging_everything_again(world: World) -> None:
    registry = DefinitionRegistry()
    client = story(world)
    other = Client.named(world, "other")
    t = other.commission("2024-02-01", "2024-12-31", provider=WERKFIT)
    other.placed(t, application_date="2024-03-01", job_start="2024-03-15", contract_end="2025-03-14")
    models = ReadModels(world.ledger.engine)
    models.catch_up(world.ledger)
    kept = KeptReplay(models, world.ledger, BUILTIN, PEILDATUM, registry)
    kept.refresh()
    assert_same(kept, world, registry)
    before = kept.at

    more_entries(world, client)
    models.catch_up(world.ledger)
    changed = sorted({client.ref, Client.named(world, "newcomer").ref, Client.named(world, "later").ref})
    assert models.changed_since(world.ledger, before) == (world.ledger.log_size() - 1, changed)
    assert models.changed_since(world.ledger, before, limit=3) == (world.ledger.log_size() - 1, None)  # too many
    kept.refresh()
    assert kept.at == world.ledger.log_size() - 1 > before
    assert kept.results.full_computations == 1  # only the changed dossiers were judged again
    assert_same(kept, world, registry)
    assert any(r.client_ref == Client.named(world, "newcomer").ref for r in kept.results.items())

    kept.refresh()  # nothing new: nothing judged again, the same figures
    assert kept.results.full_computations == 1
    assert_same(kept, world, registry)


def test_a_reset_of_the_read_models_computes_everything_again(world: World) -> None:
    registry = DefinitionRegistry()
    story(world)
    models = ReadModels(world.ledger.engine)
    models.catch_up(world.ledger)
    kept = KeptReplay(models, world.ledger, BUILTIN, PEILDATUM, registry)
    kept.refresh()
    models.reset()  # the cursor goes back: what is kept may no longer be what the tables hold
    kept.refresh()
    assert kept.at == -1 and list(kept.results.items()) == []
    assert all(row.trajectories == 0 for row in kept.rates("provider", SCOPES["everything"]))
    models.catch_up(world.ledger)
    kept.refresh()  # every dossier changed since -1: all judged again, as changed ones
    assert kept.results.full_computations == 2
    assert_same(kept, world, registry)


def test_a_client_whose_items_are_gone_leaves_the_kept_order(world: World) -> None:
    story(world)
    client = Client.named(world, "waiting")
    t = client.commission("2024-01-01", "2024-12-31")
    client.claim(t, application_date="2024-02-01", job_start="2024-03-01")
    models = ReadModels(world.ledger.engine)
    models.catch_up(world.ledger)
    per_client = PerClient[str](models, world.ledger, lambda clients: (
        (ref, claim_id) for ref, dossier in models.dossiers(clients) for claim_id, claim in dossier.claims.items()
        if claim["status"] == "claimed"))
    per_client.refresh()
    (waiting,) = list(per_client.items())
    client.reject(waiting, "2024-05-01")
    models.catch_up(world.ledger)
    replaced, added = per_client.refresh()
    assert (replaced, added, list(per_client.items())) == ([waiting], [], [])
