"""Ingest benchmark: signed submissions per second, one per transaction and batched,
on SQLite and PostgreSQL, beside the Ed25519 verify rate measured in the same run.

    python bench/ingest.py [--clients 300] [--repeats 3] [--no-postgres]

Prints medians over the repeats and the ratios the issue sets as targets:
one-per-transaction on SQLite >= 1,000/s; batched >= 0.5 x the two-core verify limit;
and the CPU budget per submission that the second target leaves. The signature workers
are started before the runs (a server starts them once, on its first batch).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402

from ledger.application import Ledger  # noqa: E402
from ledger.domain.envelope import b64encode, public_key_bytes, sign  # noqa: E402
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
    """Ed25519 signatures per second on one core (every receipt is one)."""
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
        rows = [
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


def run(url: str, clients: int, batch: int) -> tuple[float, float]:
    """Submissions per second, and the ledger process's own CPU seconds per submission
    (signature workers and database server not included)."""
    key = Ed25519PrivateKey.generate()
    pool = Ed25519Pool(signing_key=key)
    pool.start()  # before the clock starts, as a server starts it
    ledger = Ledger(Settings(url, key, os.urandom(32)), pool)
    envelopes = workload(ledger, clients, seed=1)
    start, cpu = time.perf_counter(), time.process_time()
    if batch <= 1:
        for envelope in envelopes:
            ledger.submit(envelope)
    else:
        for i in range(0, len(envelopes), batch):
            ledger.submit_batch(envelopes[i:i + batch])
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    ledger.close()
    pool.close()
    return len(envelopes) / elapsed, cpu / len(envelopes)


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

    rows: dict[str, list[tuple[float, float]]] = {}
    one_core = [verify_rate() for _ in range(args.repeats)]
    signing = [sign_rate() for _ in range(args.repeats)]
    two_core = [two_core_verify_rate() for _ in range(args.repeats)]
    engines = ["sqlite"] + ([] if args.no_postgres else ["postgresql"])
    for _ in range(args.repeats):
        for engine in engines:
            for label, batch in (("one per transaction", 1), (f"batches of {args.batch}", args.batch)):
                if engine == "sqlite":
                    tmp = tempfile.mkdtemp()
                    url = f"sqlite:///{tmp}/bench.sqlite3"
                else:
                    url = fresh_pg() or ""
                    if not url:
                        print("PostgreSQL at 127.0.0.1:5432 does not answer: skipping it")
                        engines.remove("postgresql")
                        break
                rows.setdefault(f"{engine:<10} {label}", []).append(run(url, args.clients, batch))
                if engine == "postgresql":
                    drop_pg(url)

    verify1, verify2, sign1 = statistics.median(one_core), statistics.median(two_core), statistics.median(signing)
    print(f"\nsubmissions: {args.clients * 6} signed envelopes per run, {args.repeats} runs, medians")
    print(f"{'Ed25519 verify, one core':<40} {verify1:>10,.0f} /s")
    print(f"{'Ed25519 verify, two cores (the limit)':<40} {verify2:>10,.0f} /s")
    print(f"{'Ed25519 sign, one core':<40} {sign1:>10,.0f} /s")
    for label, runs in rows.items():
        rate = statistics.median(r for r, _ in runs)
        cpu = statistics.median(c for _, c in runs)
        print(f"{label:<40} {rate:>10,.0f} /s   = {rate / verify2:.3f} x two-core verify limit;"
              f" ledger process CPU {cpu * 1e6:,.0f} us per submission")
    sqlite_one = statistics.median(r for r, _ in rows["sqlite     one per transaction"])
    sqlite_batch = statistics.median(r for r, _ in rows[f"sqlite     batches of {args.batch}"])
    # at the target, two cores may spend 2 / (0.5 x limit) CPU seconds per submission in all
    budget = 2 / (0.5 * verify2)
    crypto = 1 / verify1 + 1 / sign1
    ledger_cpu = statistics.median(c for _, c in rows[f"sqlite     batches of {args.batch}"])
    print(f"\nCPU per submission at 0.5 x the limit, both cores: {budget * 1e6:,.0f} us; its signature check and"
          f" receipt signature take {crypto * 1e6:,.0f} us, leaving {(budget - crypto) * 1e6:,.0f} us for everything else"
          f" (the ledger process alone spends {ledger_cpu * 1e6:,.0f} us)")
    print(f"\ntarget 1: SQLite one-per-transaction >= 1,000/s: {sqlite_one:,.0f}/s -> {'met' if sqlite_one >= 1000 else 'NOT met'}")
    print(f"target 2: batched >= 0.5 x two-core verify: {sqlite_batch / verify2:.3f} -> "
          f"{'met' if sqlite_batch >= 0.5 * verify2 else 'NOT met'}")


if __name__ == "__main__":
    main()
