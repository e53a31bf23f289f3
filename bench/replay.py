"""Projection benchmark: a full rebuild of every read model (entries per second), then
every built-in definition over every trajectory once the read models are current.

    python bench/replay.py [--clients 1000] [--trajectories 100000] [--seed 1] [--repeat 3]

Part 1 records a seeded synthetic history (``ledger.synthetic``) in a real ledger on
SQLite, then rebuilds the read models from it (in batches of 2,000 entries): from the
ledger itself (reading and decoding its stored events included), then reading and
decoding alone (the ledger's share, with the garbage collector paused as the rebuild
pauses it), then from the same entries held in memory (the projection's own cost).
Every rebuild starts from empty tables.
Part 2 writes ``--trajectories`` synthetic dossiers straight into the read-model tables
(built with the ledger's own ``evolve``, without entries, which would take far longer to
record), then times judging all five definitions for every trajectory from the stored
facts (the target: 100,000 trajectories in under 2 s), and, for comparison, from the
stored dossiers (the path plugin definitions take).
Each time is the median of ``--repeat`` runs in one process, wall and CPU (the machine may
be shared: CPU time shows what the work itself costs). Peak memory is measured with
tracemalloc in a separate, untimed run of the same work.
Prints figures; it is not a timed test.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import create_engine

from ledger.application import Ledger
from ledger.domain.dossier.state import DossierState, evolve
from ledger.infra.storage.migrate import upgrade
from ledger.settings import Settings
from projections.definitions import BUILTIN
from projections.evaluation import collector_paused, evaluate
from projections.read_models import ReadModels, write_dossiers
from projections.source import ListSource, iter_entries

PEILDATUM = date(2026, 6, 30)
RECORDED_AT = "2026-07-01T09:00:00.000000Z"


def peak_mib(work: Callable[[], Any]) -> float:
    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def cpu_timed(work: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """(median wall seconds, median CPU seconds of this process, the last run's result)
    over ``repeat`` runs; a run's result is dropped before the next run starts."""
    walls, cpus = [], []
    for _ in range(repeat):
        result = None
        start, cpu = time.perf_counter(), time.process_time()
        result = work()
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus), result


def rate(size: int, seconds: float, cpu: float) -> str:
    return f"{size / seconds:>9,.0f} entries/s ({cpu:.2f} s CPU = {size / cpu:,.0f} entries per CPU second)"


# --- part 1: rebuild from a recorded history ----------------------------------------------


def recorded_ledger(folder: str, clients: int, seed: int) -> Ledger:
    from ledger.synthetic import generate

    settings = Settings(database_url=f"sqlite:///{folder}/ledger.sqlite3",
                        operator_key=Ed25519PrivateKey.generate(), pseudonym_key=os.urandom(32))
    ledger = Ledger(settings)
    history = generate(seed, clients, settings.operator_key, ledger.pseudonym)
    for item in history.registry:
        ledger.submit(item.envelope)
    submissions = history.submissions
    for i in range(0, len(submissions), 500):
        ledger.submit_batch([item.envelope for item in submissions[i:i + 500]])
    return ledger


def read_entries(ledger: Ledger) -> list[tuple[int, dict[str, Any]]]:
    with collector_paused():
        return list(iter_entries(ledger, 0, 2000))


def part_rebuild(clients: int, seed: int, repeat: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        print(f"recording a synthetic history of {clients} clients ...", flush=True)
        ledger = recorded_ledger(folder, clients, seed)
        size = ledger.log_size()
        models = ReadModels(ledger.engine, batch_size=2000)
        seconds, cpu, applied = cpu_timed(lambda: models.rebuild(ledger), repeat)
        assert applied == size
        print(f"rebuild from the ledger:    {size:>9,} entries in {seconds:6.2f} s = {rate(size, seconds, cpu)}")
        seconds, cpu, entries = cpu_timed(lambda: read_entries(ledger), repeat)
        assert len(entries) == size
        print(f"  of which reading entries: {size:>9,} entries in {seconds:6.2f} s = {rate(size, seconds, cpu)}")
        memory = ListSource([body for _, body in entries])
        seconds, cpu, applied = cpu_timed(lambda: models.rebuild(memory), repeat)
        assert applied == size
        print(f"rebuild from memory:        {size:>9,} entries in {seconds:6.2f} s = {rate(size, seconds, cpu)}")
        print(f"  peak traced memory (rebuild from the ledger): {peak_mib(lambda: models.rebuild(ledger)):,.1f} MiB")
        ledger.close()


# --- part 2: judge every trajectory ---------------------------------------------------------


def synthetic_dossiers(trajectories: int, seed: int) -> Iterator[tuple[str, DossierState]]:
    """Dossiers built by applying plausible payloads with the ledger's own ``evolve``:
    one trajectory per client, a tenth of clients with a second one from the other funder."""
    rng = random.Random(seed)
    funders, providers = ("gemeente-haarlem", "uwv"), ("werkfit", "jobstap", "baanbrug", "stap-vooruit")
    definitions = ("six-month-rule", "ladder-step", "composite-2009", "contract-6m", "voluntary-stop")
    base = date(2021, 1, 1)
    made = 0
    while made < trajectories:
        ref = uuid.UUID(int=rng.getrandbits(128)).hex + uuid.UUID(int=rng.getrandbits(128)).hex
        state = DossierState()

        def apply(submitter: str, kind: str, on: date, state: DossierState = state, **fields: Any) -> None:
            evolve(state, {"type": kind, "occurred_on": on.isoformat(), **fields}, submitter, RECORDED_AT)

        benefit_id, funder = str(uuid.uuid4()), rng.choice(funders)
        first = base + timedelta(days=rng.randint(0, 1600))
        apply(funder, "BenefitStarted", first, benefit_id=benefit_id, benefit="WWB", start=first.isoformat())
        for number in range(2 if rng.random() < 0.1 and made + 2 <= trajectories else 1):
            made += 1
            tid, provider = str(uuid.uuid4()), rng.choice(providers)
            funder = funders[number] if number else funder
            start = first + timedelta(days=rng.randint(10, 120))
            end = start + timedelta(days=rng.choice((182, 273, 365)))
            apply(funder, "TrajectoryCommissioned", start, trajectory_id=tid, provider=provider,
                  start=start.isoformat(), planned_end=end.isoformat(), definition=rng.choice(definitions),
                  contract=rng.choice(("no-cure-no-pay", "no-cure-less-pay")), fee_cents=250000,
                  base_fee_cents=50000)
            apply(provider, "IntakeCompleted", start, trajectory_id=tid, rung=rng.randint(1, 4), rubric_version="2009")
            for k in range(rng.randint(1, 3)):
                apply(provider, "LadderRungAssessed", start + timedelta(days=40 * (k + 1)), trajectory_id=tid,
                      rung=rng.randint(1, 6), rubric_version="2009", assessor="consulent-1")
            for k in range(rng.randint(2, 6)):
                apply(provider, "ActivityRecorded", start + timedelta(days=15 * (k + 1)), trajectory_id=tid,
                      instrument=rng.choice((3, 12, 27, 28, 29, 30, 34)))
            stop = start + timedelta(days=rng.randint(30, (end - start).days))
            if rng.random() < 0.55:
                job = start + timedelta(days=rng.randint(20, (stop - start).days))
                claim_id = str(uuid.uuid4())
                contract_end = rng.choice((None, job + timedelta(days=150), job + timedelta(days=365)))
                apply(provider, "PlacementClaimed", job, trajectory_id=tid, claim_id=claim_id,
                      employer_kvk=f"{rng.randint(10_000_000, 99_999_999)}",
                      application_date=(job - timedelta(days=rng.randint(0, 60))).isoformat(),
                      job_start=job.isoformat(),
                      contract_end=None if contract_end is None else contract_end.isoformat(),
                      hours_per_week=32, secondment_via_provider=rng.random() < 0.08, evidence_sha256="ab" * 32)
                if rng.random() < 0.85:
                    apply(funder, "PlacementConfirmed", job, claim_id=claim_id)
                if state.benefits[benefit_id]["end"] is None:
                    apply(funder, "BenefitEnded", job, benefit_id=benefit_id, end=job.isoformat())
            reason = rng.choice(("placed", "completed", "dropped-out", "voluntarily-stopped", "moved"))
            apply(provider, "TrajectoryEnded", stop, trajectory_id=tid, reason=reason, end=stop.isoformat())
            if rng.random() < 0.2:
                again = stop + timedelta(days=rng.randint(20, 400))
                apply(funder, "BenefitStarted", again, benefit_id=str(uuid.uuid4()), benefit="WW",
                      start=again.isoformat())
        yield ref, state


def part_evaluate(trajectories: int, seed: int, repeat: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        engine = create_engine(f"sqlite:///{folder}/read-models.sqlite3")
        upgrade(engine)
        print(f"writing {trajectories:,} synthetic trajectories into the read models ...", flush=True)
        batch: list[tuple[str, DossierState]] = []
        for item in synthetic_dossiers(trajectories, seed):
            batch.append(item)
            if len(batch) == 10_000:
                write_dossiers(engine, batch, 0)
                batch = []
        write_dossiers(engine, batch, 0)
        models = ReadModels(engine)
        verdicts = trajectories * len(BUILTIN)
        print(f"evaluate {trajectories:,} trajectories x {len(BUILTIN)} definitions = {verdicts:,} verdicts")

        seconds, cpu, results = cpu_timed(lambda: models.evaluate(BUILTIN, PEILDATUM), repeat)
        assert len(results) == trajectories
        print(f"  from the stored facts:       {seconds:6.2f} s wall, {cpu:5.2f} s CPU "
              f"({verdicts / seconds:,.0f} verdicts/s; target: 100,000 trajectories < 2 s)")
        del results
        print(f"    peak traced memory: {peak_mib(lambda: models.evaluate(BUILTIN, PEILDATUM)):,.1f} MiB")

        seconds, cpu, results = cpu_timed(lambda: evaluate(models.dossiers(), BUILTIN, PEILDATUM), repeat)
        assert len(results) == trajectories
        print(f"  from the dossiers (plugins): {seconds:6.2f} s wall, {cpu:5.2f} s CPU "
              f"({verdicts / seconds:,.0f} verdicts/s)")
        del results
        print(f"    peak traced memory: {peak_mib(lambda: evaluate(models.dossiers(), BUILTIN, PEILDATUM)):,.1f} MiB")
        engine.dispose()


def reference_loop() -> float:
    """CPU seconds for ten million additions in a Python loop: a yardstick for this machine
    (CPython 3.11 on an unloaded 2023 laptop core takes about 0.4 s)."""
    start, total = time.process_time(), 0
    for i in range(10_000_000):
        total += i
    return time.process_time() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=1000, help="synthetic clients for the rebuild (0: skip it)")
    parser.add_argument("--trajectories", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3, help="runs per timing (the median is shown)")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    print(f"reference loop: {reference_loop():.2f} s CPU (about 0.4 s on an unloaded laptop core)")
    try:
        import ledger.synthetic  # noqa: F401
    except ImportError:
        print("ledger.synthetic is not available: skipping the rebuild from a recorded history")
    else:
        if args.clients:
            part_rebuild(args.clients, args.seed, args.repeat)
    part_evaluate(args.trajectories, args.seed, args.repeat)
    try:
        import resource
    except ImportError:  # not on every platform
        return 0
    print(f"process peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
