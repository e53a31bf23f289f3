"""Ingest benchmark: signed submissions per second, one per transaction and batched,
on SQLite and PostgreSQL, beside the Ed25519 verify rate measured in the same run.

    python bench/ingest.py [--clients 300] [--repeats 3] [--no-postgres]

Prints medians over the repeats and the ratios the issue sets as targets (each run's rate over
the two-core verify limit measured just before its repeat: the machine may be shared): one per
transaction on SQLite >= 1,000/s; batched on SQLite >= 0.5 x the two-core verify limit, on
PostgreSQL >= 0.4 x; the CPU per submission of the signature workers and of the ledger
process, and where the ledger process's goes (a profile of one batched run per engine, by
area). Every write signs one checkpoint; the receipts' proofs are built when a receipt is
served (``Receipt.as_dict``): the cost of building every one is printed beside the rates.
Batches are also submitted by two threads at once, as a server's concurrent requests are: both
batches' checks share the workers' one queue. Each row also says
how busy the machine's cores were (every process, from /proc/stat) and what the other processes
(PostgreSQL's server, or other work on a shared machine) used per submission: what is left idle
is the part of the gap to a target that no CPU saving in the ledger closes.
The signature workers are started before the runs, as a server starts them once, when it starts.
"""

from __future__ import annotations

import argparse
import cProfile
import multiprocessing
import os
import pstats
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402

from ledger.application import Ledger  # noqa: E402
from ledger.domain.envelope import b64encode, public_key_bytes, sign  # noqa: E402
from ledger.domain.receipt import Receipt  # noqa: E402
from ledger.infra import heap  # noqa: E402
from ledger.infra.ed25519_pool import Ed25519Pool  # noqa: E402
from ledger.settings import Settings  # noqa: E402

PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=3"


def verify_rate(seconds: float = 1.5) -> float:
    """Ed25519 verifies per second on one core (the same primitive the ledger calls)."""
    key = Ed25519PrivateKey.generate()
    public = key.public_key()
    message = b"x" * 400
    signature = key.sign(message)
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for _ in range(200):
            public.verify(signature, message)
        n += 200
    return n / (time.perf_counter() - start)


def sign_rate(seconds: float = 1.5) -> float:
    """Ed25519 signatures per second on one core (every write's checkpoint is one)."""
    key = Ed25519PrivateKey.generate()
    message = b"x" * 300
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for _ in range(200):
            key.sign(message)
        n += 200
    return n / (time.perf_counter() - start)


def two_core_verify_rate() -> float:
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        return sum(pool.map(verify_rate, [1.5, 1.5]))


def workload(ledger: Ledger, clients: int, seed: int) -> list[dict[str, Any]]:
    """Register a funder and a provider; return pre-signed envelopes (6 per client)."""
    funder, provider = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    op = ledger.settings.operator_key
    for pid, role, key in (("gemeente", "funder", funder), ("werkfit", "provider", provider)):
        p = {"envelope_id": str(uuid.uuid4()), "type": "PartyRegistered", "occurred_on": "2024-01-01",
             "party_id": pid, "role": role, "public_key": b64encode(public_key_bytes(key))}
        ledger.submit(sign(p, "operator", op).as_dict())
    envelopes = []
    for n in range(clients):
        ref = ledger.pseudonym(bsn(seed * 1_000_000 + n))
        tid = str(uuid.uuid4())
        base = {"client_ref": ref}
        rows: list[tuple[str, Ed25519PrivateKey, dict[str, Any]]] = [
            ("gemeente", funder, {"type": "TrajectoryCommissioned", "occurred_on": "2024-01-01", "trajectory_id": tid,
                                  "provider": "werkfit", "start": "2024-01-01", "planned_end": "2024-12-31",
                                  "definition": "six-month-rule", "contract": "no-cure-no-pay", "fee_cents": 250000,
                                  "base_fee_cents": 0}),
            ("werkfit", provider, {"type": "IntakeCompleted", "occurred_on": "2024-01-10", "trajectory_id": tid,
                                   "rung": 2, "rubric_version": "2011"}),
            ("werkfit", provider, {"type": "ActivityRecorded", "occurred_on": "2024-02-01", "trajectory_id": tid, "instrument": 18}),
            ("werkfit", provider, {"type": "ActivityRecorded", "occurred_on": "2024-03-01", "trajectory_id": tid, "instrument": 30}),
            ("werkfit", provider, {"type": "LadderRungAssessed", "occurred_on": "2024-04-01", "trajectory_id": tid,
                                   "rung": 4, "rubric_version": "2011", "assessor": "consulent-7"}),
            ("werkfit", provider, {"type": "PlacementClaimed", "occurred_on": "2024-06-01", "trajectory_id": tid,
                                   "claim_id": str(uuid.uuid4()), "employer_kvk": "12345678", "application_date": "2024-05-01",
                                   "job_start": "2024-06-01", "contract_end": None, "hours_per_week": 32,
                                   "secondment_via_provider": False, "evidence_sha256": "ab" * 32}),
        ]
        for submitter, key, fields in rows:
            p = {"envelope_id": str(uuid.uuid4()), **base, **fields}
            envelopes.append(sign(p, submitter, key).as_dict())
    return envelopes


def bsn(n: int) -> str:
    """A valid BSN derived from n (8 digits, then the check digit that passes the 11-test)."""
    for bump in range(20):
        head = f"{(n + bump) % 10**8:08d}"
        total = sum(int(d) * w for d, w in zip(head, range(9, 1, -1)))
        check = total % 11
        if check < 10 and head + str(check) != "000000000":
            return head + str(check)
    raise ValueError(n)


# where the ledger process's CPU goes: cumulative CPU of these functions in a profiled run
# ((file suffix, function) -> CPU seconds, nested ones subtracted from their callers below)
CHECK = ("ledger/batches.py", "_check")  # parse, payload rules, hand each signature to the workers
DECIDE = ("ledger/application.py", "decide")  # the rules on the dossiers, the entries' canonical JSON
WRITE = ("ledger/application.py", "write")  # eventsourcing's save around the SQL ...
SQL = ("ledger/infra/storage/statements.py", "write_events")  # ... the transaction ...
INDEXED = ("ledger/receipt_signing.py", "indexed")  # ... in it: frontier, root, ONE checkpoint signature ...
RECEIPTS = ("ledger/receipt_signing.py", "before_commit")  # ... and the receipts (their proofs are built when served)
WAIT = ("ledger/infra/ed25519_pool.py", "results")  # collecting the workers' answers


# one run's figures: rate, ledger CPU, workers' CPU, proof cost, share taken over (per submission),
# the profile by area, the cores' busy share, other processes' CPU per submission
Run = tuple[float, float, float, float, float, dict[str, float], float, float]


def run(url: str, clients: int, batch: int, profile: bool = False,
        submitters: int = 1) -> Run:
    """Submissions per second; CPU seconds per submission of the ledger process and of the
    signature workers; seconds per submission to build its receipt's proof (as served); the
    share of the signature checks the ledger process took from the workers' queue itself while it
    waited for a batch's answers; with ``profile``, the ledger process's CPU per submission by area (slower: not timed);
    the share of the cores' time that was busy (every process, from /proc/stat; nan elsewhere) and
    the CPU seconds per submission of every other process (a database server, other work on the
    machine). ``submitters``: threads submitting the batches at once, each taking the next one."""
    key = Ed25519PrivateKey.generate()
    pool = Ed25519Pool(signing_key=key)  # one per core, as a server has it
    pool.start()  # before the clock starts, as a server starts it
    ledger = Ledger(Settings(url, key, os.urandom(32)), pool)
    heap.settle()  # as a server does once started
    envelopes = workload(ledger, clients, seed=1)
    children = workers_cpu(pool)
    profiler = cProfile.Profile(time.process_time) if profile else None  # CPU time: waiting is not counted
    receipts: list[Any] = []
    start, cpu, machine = time.perf_counter(), time.process_time(), machine_cpu()
    if profiler is not None:
        profiler.enable()
    if batch <= 1:
        for envelope in envelopes:
            receipts.append(ledger.submit(envelope))
    elif submitters <= 1:
        for i in range(0, len(envelopes), batch):
            receipts.extend(ledger.submit_batch(envelopes[i:i + batch]))
    else:
        receipts = at_once(ledger, [envelopes[i:i + batch] for i in range(0, len(envelopes), batch)], submitters)
    if profiler is not None:
        profiler.disable()
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    busy, total = (after - before for after, before in zip(machine_cpu(), machine))
    served = time.process_time()
    for receipt in receipts:
        receipt.as_dict()
    served = time.process_time() - served
    workers = workers_cpu(pool) - children
    taken = pool.taken_over
    ledger.close()
    pool.close()
    n = len(envelopes)
    others = max(0.0, busy - cpu - workers) / n
    return (n / elapsed, cpu / n, workers / n, served / n, taken / n, areas(profiler, n) if profiler is not None else {},
            busy / total if total else float("nan"), others)


def machine_cpu() -> tuple[float, float]:
    """CPU seconds all the cores have been busy and have existed so far (Linux /proc/stat; 0 elsewhere)."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return 0.0, 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields) - idle) / ticks, sum(fields) / ticks


def at_once(ledger: Ledger, batches: list[list[dict[str, Any]]], submitters: int) -> list[Any]:
    """Submit the batches from ``submitters`` threads, each taking the next batch not taken."""
    queue, results = iter(batches), []
    taking = threading.Lock()

    def submitter() -> None:
        while True:
            with taking:
                batch = next(queue, None)
            if batch is None:
                return
            results.extend(ledger.submit_batch(batch))

    threads = [threading.Thread(target=submitter) for _ in range(submitters)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if len(results) != sum(map(len, batches)) or not all(isinstance(r, Receipt) for r in results):
        raise RuntimeError("a batch submitted at once lost a submission or did not record one")
    return results


def workers_cpu(pool: Ed25519Pool) -> float:
    """CPU seconds the pool's worker processes have used so far (Linux /proc; 0 elsewhere)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for worker in pool._workers:  # a benchmark may look inside  # noqa: SLF001
        try:
            fields = Path(f"/proc/{worker.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return total


def areas(profiler: cProfile.Profile, n: int) -> dict[str, float]:
    """The profiled run's CPU per submission, by area (see the names above)."""
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    total = sum(row[2] for row in stats.values())

    def cum(where: tuple[str, str], caller: tuple[str, str] | None = None) -> float:
        """Cumulative CPU of a function (only its calls from ``caller``, if given)."""
        seconds = 0.0
        for (filename, _, function), row in stats.items():
            if filename.endswith(where[0]) and function == where[1]:
                seconds += row[3] if caller is None else sum(
                    c[3] for (f, _, fn), c in row[4].items() if f.endswith(caller[0]) and fn == caller[1])
        return seconds

    waited_in_guard = cum(WAIT, RECEIPTS)  # the guard waits for the last checks before it commits
    found = {
        "check: parse, payload rules, hand signatures to the workers": cum(CHECK),
        "decide: dossier rules, entries' canonical JSON": cum(DECIDE),
        "record: eventsourcing save (events to stored form, caching)": cum(WRITE) - cum(SQL),
        "record: SQL transaction (inserts, lock, commit)": cum(SQL) - cum(INDEXED) - cum(RECEIPTS),
        "log: frontier, root, the one checkpoint signature": cum(INDEXED),
        "receipts made (proofs built later, when served)": cum(RECEIPTS) - waited_in_guard,
        "collecting the workers' answers": cum(WAIT),
    }
    found["other (batch bookkeeping, locks, cache)"] = total - sum(found.values())
    return {label: seconds / n for label, seconds in found.items()}


def fresh_pg() -> str | None:
    try:
        name = "tl_bench_" + uuid.uuid4().hex[:10]
        with psycopg.connect(PG_ADMIN, autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    except psycopg.Error:
        return None


def drop_pg(url: str) -> None:
    with psycopg.connect(PG_ADMIN, autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()

    rows: dict[str, list[Run]] = {}
    profiles: dict[str, dict[str, float]] = {}
    one_core = [verify_rate() for _ in range(args.repeats)]
    signing = [sign_rate() for _ in range(args.repeats)]
    two_core: list[float] = []  # measured again before each repeat: the ratios use the limit of their own moment
    ratios: dict[str, list[float]] = {}
    engines = ["sqlite"] + ([] if args.no_postgres else ["postgresql"])
    for repeat in range(args.repeats + 1):  # the last pass profiles the batched runs, untimed
        if repeat < args.repeats:
            two_core.append(two_core_verify_rate())
        for engine in list(engines):
            for label, batch, submitters in (("one per transaction", 1, 1), (f"batches of {args.batch}", args.batch, 1),
                                             (f"batches of {args.batch}, 2 submitters at once", args.batch, 2)):
                if repeat == args.repeats and (batch == 1 or submitters > 1):
                    continue
                url = database(engine)
                if not url:
                    print("PostgreSQL at 127.0.0.1:5432 does not answer: skipping it")
                    engines.remove("postgresql")
                    break
                if repeat == args.repeats:
                    profiles[engine] = run(url, args.clients, batch, profile=True)[5]
                else:
                    measured = run(url, args.clients, batch, submitters=submitters)
                    rows.setdefault(f"{engine:<10} {label}", []).append(measured)
                    ratios.setdefault(f"{engine:<10} {label}", []).append(measured[0] / two_core[-1])
                if engine == "postgresql":
                    drop_pg(url)
    report(args, rows, ratios, profiles, statistics.median(one_core), statistics.median(two_core),
           statistics.median(signing))


def database(engine: str) -> str:
    if engine == "sqlite":
        return f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
    return fresh_pg() or ""


def report(args: argparse.Namespace, rows: dict[str, list[Run]],
           ratios: dict[str, list[float]], profiles: dict[str, dict[str, float]], verify1: float, verify2: float,
           sign1: float) -> None:
    print(f"\nsubmissions: {args.clients * 6} signed envelopes per run, {args.repeats} runs, medians")
    print(f"{'Ed25519 verify, one core':<40} {verify1:>10,.0f} /s")
    print(f"{'Ed25519 verify, two cores (the limit)':<40} {verify2:>10,.0f} /s")
    print(f"{'Ed25519 sign, one core':<40} {sign1:>10,.0f} /s   (one per write: its checkpoint)")
    us = 1e6
    for label, runs in rows.items():
        rate, cpu, workers, served, taken = (statistics.median(float(r[i]) for r in runs) for i in range(5))  # type: ignore[arg-type]
        busy, others = statistics.median(r[6] for r in runs), statistics.median(r[7] for r in runs)
        print(f"{label:<40} {rate:>10,.0f} /s   = {statistics.median(ratios[label]):.3f} x two-core verify limit;"
              f" CPU per submission: ledger process {cpu * us:,.0f} us, signature workers {workers * us:,.0f} us"
              f" (checks the ledger process took from the workers' queue at batches' ends: {taken:.0%});"
              f" building its receipt's proof when served {served * us:,.0f} us;"
              f" the machine's {os.cpu_count()} cores busy {busy:.0%} of the time, other processes (a database"
              f" server, other work on the machine) {others * us:,.0f} us per submission")
    targets = [("sqlite", 0.5), ("postgresql", 0.4)]
    budget_line = False
    for engine, target in targets:
        key = f"{engine:<10} batches of {args.batch}"
        if key not in rows:
            continue
        ratio = statistics.median(ratios[key])
        met = ratio >= target
        print(f"target: {engine} batched >= {target} x two-core verify: {ratio:.3f} -> {'met' if met else 'NOT met'}")
        if not met or engine in profiles:
            budget = 2 / (target * verify2)
            print(f"  at {target} x the limit both cores may spend {budget * us:,.0f} us per submission; its signature "
                  f"check takes {us / verify1:,.0f} us. The ledger process's CPU per batched submission, by area "
                  f"(shares of a profiled run, applied to the {statistics.median(float(r[1]) for r in rows[key]) * us:,.0f} us "
                  f"measured):")
            measured = statistics.median(float(r[1]) for r in rows[key])
            profiled = sum(profiles.get(engine, {}).values()) or 1.0
            for area, seconds in sorted(profiles.get(engine, {}).items(), key=lambda item: -item[1]):
                print(f"    {area:<62} {seconds / profiled:>4.0%}  ~{seconds / profiled * measured * us:>5,.0f} us")
            budget_line = True
    one = rows.get("sqlite     one per transaction")
    if one:
        rate = statistics.median(r[0] for r in one)
        print(f"target: SQLite one per transaction >= 1,000/s: {rate:,.0f}/s -> {'met' if rate >= 1000 else 'NOT met'}")
    if not budget_line:
        print("no profile was taken")


if __name__ == "__main__":
    main()
