"""Offline verification benchmark: verified entries per second and the verifier's peak memory.

    python bench/verify.py [--entries 100000] [--small 25000] [--repeats 3] [--dir D]

Builds ledgers on SQLite (``submit_batch`` in batches of 500: a few minutes each for 100k
entries), exports each once when it reaches ``--small`` entries and once at ``--entries``,
then verifies every bundle in a fresh process with ``trajectledger verify``'s code (the
worker processes of an ``Ed25519Pool`` verify Ed25519 while the main process streams and
re-decides). With ``--dir`` the bundles are kept there and reused by the next run.

* throughput: the seeded synthetic history (``ledger.synthetic.generate``, ~6,100 clients
  for 100k entries). Printed beside the Ed25519 verify rate on two cores measured in the
  same run, interleaved with the verifications (``bench/ingest.py``'s measure). Every entry
  carries two signatures (the submitter's envelope and the operator's receipt), so the limit
  for entries is half the two-core verify rate; the target is at least 0.8 of it. (Format 2
  receipts all carry the bundle checkpoint's signature, which the verifier checks once, so on
  bundles written with them it verifies about one signature per entry and can pass this limit.)
* verify + replay: ``trajectledger replay --bundle`` on the largest synthetic bundle (every
  installed definition, one peildatum), in a fresh process: the bundle verified, then replayed
  from its entries, as an audit office runs it. Its entries per second beside the same entry
  limit; the target is at least 0.7 of it.
* memory: peak resident memory of the verifier's main process and of its largest worker
  (a fresh interpreter holding the pool's module and ``cryptography``).
  The dossier states kept for re-deciding grow with the number of clients, so the growth
  with the number of entries alone is shown on a second pair of bundles with a fixed set of
  clients (500): 25k and 100k entries, mostly correctly signed submissions the rules refuse
  (a provider writing to another provider's trajectory), which leave the dossiers as they are.

The machine is shared: compare ratios measured in the same run, not absolute rates. Each
ratio is given twice: the median rate over the median limit, and ``paired``, the median of
each run's rate over the limit measured just before it (steadier when the load changes).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402

from bench.ingest import two_core_verify_rate  # noqa: E402
from ledger.application import Ledger  # noqa: E402
from ledger.bundle.export import export_bundle  # noqa: E402
from ledger.domain.envelope import b64encode, public_key_bytes, sign  # noqa: E402
from ledger.settings import Settings  # noqa: E402
from ledger.synthetic import generate  # noqa: E402

ENTRIES_PER_CLIENT = 16.4  # what the synthetic generator gives, on average
SIGNATURES_PER_ENTRY = 2
FIXED_CLIENTS = 500

CHILD = """
import json, sys, time
from ledger.verify import verify_bundle
start = time.perf_counter()
verified = verify_bundle(sys.argv[1], workers=int(sys.argv[2]))
elapsed = time.perf_counter() - start
with open("/proc/self/status") as status:
    peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM"))
print(json.dumps({"entries": verified.tree_size, "signatures": verified.signatures, "seconds": elapsed,
                  "clients": verified.clients, "main_kib": peak}))
"""

REPLAY_CHILD = """
import contextlib, io, json, sys, time
from cli.main import main
argv = ["replay", "--bundle", sys.argv[1], "--workers", sys.argv[2], "--peildatum", "2026-12-31", "--format", "json"]
start = time.perf_counter()
with contextlib.redirect_stdout(io.StringIO()) as out, contextlib.redirect_stderr(io.StringIO()):
    code = main(argv)
elapsed = time.perf_counter() - start
report = json.loads(out.getvalue())
print(json.dumps({"code": code, "seconds": elapsed, "trajectories": report["rates"][-1]["trajectories"]}))
"""


def synthetic(ledger: Ledger, entries: int) -> Iterator[dict[str, Any]]:
    history = generate(seed=7, clients=int(entries / ENTRIES_PER_CLIENT) + 1,
                       operator_key=ledger.settings.operator_key, pseudonymise=ledger.pseudonym)
    for item in history.registry:
        ledger.submit(item.envelope)
    for item in history.submissions:
        yield item.envelope


def fixed_clients(ledger: Ledger, entries: int) -> Iterator[dict[str, Any]]:
    """500 clients, a trajectory each; then activities reported by the wrong provider."""
    keys = {party: Ed25519PrivateKey.generate() for party in ("gemeente", "werkfit", "jobstap")}
    for party, key in keys.items():
        role = "funder" if party == "gemeente" else "provider"
        ledger.submit(sign({"envelope_id": str(uuid.uuid4()), "type": "PartyRegistered", "occurred_on": "2024-01-01",
                            "party_id": party, "role": role, "public_key": b64encode(public_key_bytes(key))},
                           "operator", ledger.settings.operator_key).as_dict())
    trajectories = []
    for n in range(FIXED_CLIENTS):
        ref, trajectory = ledger.pseudonym(_bsn(n)), str(uuid.uuid4())
        trajectories.append((ref, trajectory))
        yield sign({"envelope_id": str(uuid.uuid4()), "type": "TrajectoryCommissioned", "occurred_on": "2024-01-01",
                    "client_ref": ref, "trajectory_id": trajectory, "provider": "werkfit", "start": "2024-01-01",
                    "planned_end": "2024-12-31", "definition": "six-month-rule", "contract": "no-cure-no-pay",
                    "fee_cents": 250000, "base_fee_cents": 0}, "gemeente", keys["gemeente"]).as_dict()
    for n in range(entries):
        ref, trajectory = trajectories[n % FIXED_CLIENTS]
        yield sign({"envelope_id": str(uuid.uuid4()), "type": "ActivityRecorded", "occurred_on": "2024-03-01",
                    "client_ref": ref, "trajectory_id": trajectory, "instrument": 18}, "jobstap", keys["jobstap"]).as_dict()


def _bsn(n: int) -> str:
    """A valid BSN (11-test) derived from n, a different one for each n."""
    for bump in range(20):
        head = f"{(n * 20 + bump) % 10**8:08d}"
        check = sum(int(d) * w for d, w in zip(head, range(9, 1, -1))) % 11
        if check < 10 and head + str(check) != "000000000":
            return head + str(check)
    raise ValueError(n)


def build(directory: Path, name: str, workload: Any, entries: int, small: int) -> list[Path]:
    """Bundles of about ``small`` and ``entries`` entries of a workload - one bundle when the
    two are equal (or ``small`` is larger) - reused when present."""
    sizes = sorted({min(small, entries), entries})
    bundles = [directory / f"{name}-{size}" for size in sizes]
    if all((bundle / "manifest.json").exists() for bundle in bundles):
        return bundles
    for path in bundles:
        if path.exists():
            raise SystemExit(f"{path} exists without a manifest: remove it first")
    database = directory / f"{name}-{entries}.sqlite3"
    for stale in directory.glob(f"{database.name}*"):
        stale.unlink()
    operator_key = Ed25519PrivateKey.generate()
    ledger = Ledger(Settings(f"sqlite:///{database}", operator_key, os.urandom(32)))
    start, batch, size = time.perf_counter(), [], 0
    for envelope in workload(ledger, entries):
        batch.append(envelope)
        if len(batch) == 500:
            ledger.submit_batch(batch)
            batch.clear()
            size = ledger.log_size()
            if size >= entries:
                break
            for bundle_size, bundle in zip(sizes, bundles):
                if size >= bundle_size and not bundle.exists():
                    export_bundle(ledger, bundle)
            if size % 20_000 < 500:
                print(f"  {name}: {size:,} entries ({size / (time.perf_counter() - start):,.0f}/s)", flush=True)
    if batch and size < entries:
        ledger.submit_batch(batch)
    for bundle in bundles:  # the full one, and a smaller one the workload did not reach
        if not bundle.exists():
            export_bundle(ledger, bundle)
    ledger.close()
    return bundles


def verify_in_child(bundle: Path, workers: int) -> dict[str, float]:
    """Verify in a fresh process, as ``trajectledger verify`` would (it starts and stops its
    own pool); sample its workers' resident memory from here every 0.1 s."""
    root = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": root + os.pathsep + os.environ.get("PYTHONPATH", "")}
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(bundle), str(workers)], stdout=subprocess.PIPE,
                             text=True, env=env)
    workers_peak = 0
    while child.poll() is None:
        workers_peak = max([workers_peak, *(_kib(pid, "VmRSS") for pid in _children(child.pid))])
        time.sleep(0.1)
    out, _ = child.communicate()
    if child.returncode:
        raise SystemExit(f"verifying {bundle} failed")
    return {**json.loads(out.strip().splitlines()[-1]), "workers_kib": workers_peak}


def replay_in_child(bundle: Path, workers: int) -> dict[str, float]:
    """``trajectledger replay --bundle`` in a fresh process: verification and replay, timed inside it."""
    root = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": root + os.pathsep + os.environ.get("PYTHONPATH", "")}
    env.pop("TRAJECTLEDGER_KEY_DIR", None)  # an audit office has none
    finished = subprocess.run([sys.executable, "-c", REPLAY_CHILD, str(bundle), str(workers)], capture_output=True,
                              text=True, env=env, check=False)
    result: dict[str, float] = json.loads(finished.stdout.strip().splitlines()[-1]) if finished.stdout.strip() else {}
    if finished.returncode or result.get("code") != 0:
        raise SystemExit(f"replay --bundle {bundle} failed: {finished.stderr[-2000:]}")
    return result


def _paired(results: list[dict[str, float]]) -> float:
    """The median over runs of entries/s over the entry limit measured just before the run."""
    return statistics.median(r["entries"] / r["seconds"] / (r["limit"] / SIGNATURES_PER_ENTRY) for r in results)


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _kib(pid: int, field: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith(field))
    except (OSError, StopIteration):
        return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=25_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--dir", help="keep (and reuse) the ledgers and bundles here")
    args = parser.parse_args()

    directory = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="trajectledger-bench-"))
    directory.mkdir(parents=True, exist_ok=True)
    print(f"building bundles in {directory} ...", flush=True)
    bundles = [*build(directory, "synthetic", synthetic, args.entries, args.small),
               *build(directory, "fixed-clients", fixed_clients, args.entries, args.small)]

    limits: list[float] = []
    runs: dict[Path, list[dict[str, float]]] = {bundle: [] for bundle in bundles}
    replayed = bundles[len(bundles) // 2 - 1]  # the largest synthetic bundle
    replays: list[dict[str, float]] = []
    for _ in range(args.repeats):  # interleaved, so a busy moment of the machine hits all alike
        for bundle in bundles:
            limits.append(two_core_verify_rate())
            runs[bundle].append({**verify_in_child(bundle, args.workers), "limit": limits[-1]})
        limits.append(two_core_verify_rate())
        replays.append({**replay_in_child(replayed, args.workers), "limit": limits[-1]})
    limit = statistics.median(limits)
    entry_limit = limit / SIGNATURES_PER_ENTRY
    print(f"\n{args.repeats} runs per bundle, medians; the verifier: {args.workers} worker processes + the main process")
    print(f"{'Ed25519 verify, two cores (the limit)':<40} {limit:>9,.0f} signatures/s")
    print(f"{'  = entries/s at 2 signatures per entry':<40} {entry_limit:>9,.0f} entries/s")
    print("(x limit: the median rate over the median limit; paired: the median of each run's rate over the limit "
          "measured just before it)")
    print(f"\n{'bundle':<22} {'entries':>8} {'clients':>8} {'seconds':>8} {'entries/s':>10} {'x limit':>8} "
          f"{'paired':>7} {'main MiB':>9} {'worker MiB':>11}")
    for bundle, results in runs.items():
        rate = statistics.median(r["entries"] / r["seconds"] for r in results)
        print(f"{bundle.name:<22} {int(results[0]['entries']):>8,} {int(results[0]['clients']):>8,} "
              f"{statistics.median(r['seconds'] for r in results):>8.1f} {rate:>10,.0f} {rate / entry_limit:>8.3f} "
              f"{_paired(results):>7.3f} {statistics.median(r['main_kib'] for r in results) / 1024:>9.1f} "
              f"{statistics.median(r['workers_kib'] for r in results) / 1024:>11.1f}")
    entries = int(runs[replayed][0]["entries"])
    seconds = statistics.median(r["seconds"] for r in replays)
    verify_seconds = statistics.median(r["seconds"] for r in runs[replayed])
    print(f"\nreplay --bundle {replayed.name} ({int(replays[0]['trajectories']):,} trajectories, every installed "
          f"definition): verify + replay {seconds:.1f} s (of which verify alone {verify_seconds:.1f} s)")
    print(f"{'verify + replay':<22} {entries:>8,} {'':>8} {seconds:>8.1f} {entries / seconds:>10,.0f} "
          f"{entries / seconds / entry_limit:>8.3f} {_paired([{**r, 'entries': entries} for r in replays]):>7.3f}")
    print("\ntarget: verified entries/s >= 0.8 x the entry limit; verify + replay >= 0.7 x it; memory flat from "
          "25k to 100k entries at a fixed number of clients")


if __name__ == "__main__":
    main()
