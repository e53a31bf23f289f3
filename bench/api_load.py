"""Load on the HTTP API: accepted submissions per second and latency, single and batched,
beside the in-process ``Ledger.submit`` figure from the same run.

    .venv/bin/python bench/api_load.py [--clients 4] [--seconds 5] [--batch 100] [--database-url URL]

Starts ``api.serve.serve`` (one uvicorn worker, access log off) on 127.0.0.1 with a free port
and fresh keys, in a subprocess; registers one funder per client; then each client - a
separate process with its own key, signing every envelope itself - commissions trajectories
for new clients for ``--seconds``, first one envelope per request, then ``--batch`` per
request. Everything stops by itself: the phases are timed, the server is terminated.
Default database: a fresh SQLite file. The machine is shared: compare ratios, not absolutes.
"""

from __future__ import annotations

import argparse
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402

from ledger.domain.envelope import b64encode, public_key_bytes  # noqa: E402
from ledger.settings import create_keys, load_keys  # noqa: E402
from sdk.client import LedgerClient  # noqa: E402

PROVIDER = "bench-provider"
STARTUP_SECONDS = 60
WARM_UP = 5.0  # seconds for the client processes to start before a phase begins


def commission(client: LedgerClient) -> Any:
    """A TrajectoryCommissioned for a new client: no two submissions touch the same dossier."""
    return client.envelope("TrajectoryCommissioned", "2024-01-01", client_ref=secrets.token_hex(32),
                           trajectory_id=str(uuid.uuid4()), provider=PROVIDER, start="2024-01-01",
                           planned_end="2024-12-31", definition="six-month-rule", contract="no-cure-no-pay",
                           fee_cents=300000, base_fee_cents=0)


def drive(url: str, party: str, seed: bytes, ledger_key: bytes, start_at: float, seconds: float,
          batch: int) -> tuple[int, list[float], float]:
    """One client process: from ``start_at`` (wall clock) submit until the time is up;
    (accepted, latency of each request in s, wall-clock end)."""
    client = LedgerClient.connect(url, party, Ed25519PrivateKey.from_private_bytes(seed), ledger_key=ledger_key)
    accepted, latencies = 0, []
    time.sleep(max(0.0, start_at - time.time()))
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        envelopes = [commission(client) for _ in range(batch)]
        started = time.perf_counter()
        if batch == 1:
            results: list[Any] = [client.submit(envelopes[0])]
        else:
            results = client.submit_batch(envelopes)
        latencies.append(time.perf_counter() - started)
        accepted += sum(1 for r in results if getattr(r, "accepted", False))
    client.close()
    return accepted, latencies, time.time()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    code = f"from api.serve import serve; serve('127.0.0.1', {port}, access_log=False)"
    server = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env, stdout=log.open("wb"),
                              stderr=subprocess.STDOUT)
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=2).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            raise SystemExit(f"the server did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.1)


def register(operator: LedgerClient, parties: dict[str, Ed25519PrivateKey], role: str) -> None:
    envelopes = [operator.envelope("PartyRegistered", "2024-01-01", party_id=party, role=role,
                                   public_key=b64encode(public_key_bytes(key))) for party, key in parties.items()]
    if not all(getattr(r, "accepted", False) for r in operator.submit_batch(envelopes)):
        raise SystemExit("registering the bench parties failed")


def http_phase(url: str, funders: dict[str, Ed25519PrivateKey], ledger_key: bytes, seconds: float,
               batch: int) -> tuple[int, float, list[float]]:
    seeds = {party: key.private_bytes_raw() for party, key in funders.items()}
    start_at = time.time() + WARM_UP  # every client starts together, after its process has started
    with ProcessPoolExecutor(len(funders), mp_context=get_context("spawn")) as pool:
        futures = [pool.submit(drive, url, party, seed, ledger_key, start_at, seconds, batch)
                   for party, seed in seeds.items()]
        outcomes = [future.result(timeout=WARM_UP + seconds + 120) for future in futures]
    elapsed = max(end for _, _, end in outcomes) - start_at
    return sum(a for a, _, _ in outcomes), elapsed, [x for _, lat, _ in outcomes for x in lat]


def in_process(database_url: str, key_dir: Path, seconds: float, batch: int) -> list[tuple[str, int, float, list[float]]]:
    """The same submissions straight into ``Ledger.submit`` / ``submit_batch``, one thread."""
    from ledger.application import Ledger
    from ledger.domain.envelope import sign
    from ledger.settings import Settings

    operator_key, pseudonym_key = load_keys(key_dir)
    ledger = Ledger(Settings(database_url, operator_key, pseudonym_key))
    funder = Ed25519PrivateKey.generate()
    for party, role, key in (("inproc-funder", "funder", funder), (PROVIDER, "provider", None)):
        public = public_key_bytes(key or Ed25519PrivateKey.generate())
        ledger.submit(sign({"envelope_id": str(uuid.uuid4()), "type": "PartyRegistered", "occurred_on": "2024-01-01",
                            "party_id": party, "role": role, "public_key": b64encode(public)},
                           "operator", operator_key).as_dict())
    signer = LedgerClient(httpx.Client(), "inproc-funder", funder)  # only to build and sign envelopes
    rows = []
    for size in (1, batch):
        accepted, latencies = 0, []
        deadline = time.perf_counter() + seconds
        started = time.perf_counter()
        while time.perf_counter() < deadline:
            envelopes = [commission(signer).as_dict() for _ in range(size)]
            t0 = time.perf_counter()
            results = [ledger.submit(envelopes[0])] if size == 1 else ledger.submit_batch(envelopes)
            latencies.append(time.perf_counter() - t0)
            accepted += sum(1 for r in results if getattr(r, "accepted", False))
        rows.append(("in-process Ledger.submit" if size == 1 else f"in-process Ledger.submit_batch({size})",
                     accepted, time.perf_counter() - started, latencies))
    signer.close()
    ledger.close()
    return rows


def ms(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0] * 1000
    return statistics.quantiles(values, n=100, method="inclusive")[int(q * 100) - 1] * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=4, help="concurrent signing client processes (1-32)")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each phase (at most 60)")
    parser.add_argument("--batch", type=int, default=100, help="envelopes per batch request (2-500)")
    parser.add_argument("--database-url", help="the server's database (default: a fresh SQLite file)")
    args = parser.parse_args()
    clients, seconds, batch = min(max(args.clients, 1), 32), min(max(args.seconds, 0.5), 60.0), min(max(args.batch, 2), 500)

    with tempfile.TemporaryDirectory(prefix="api-load-") as tmp:
        work = Path(tmp)
        create_keys(work / "keys")
        operator_key, _ = load_keys(work / "keys")
        url_db = args.database_url or f"sqlite:///{work}/server.sqlite3"
        env = {**os.environ, "TRAJECTLEDGER_KEY_DIR": str(work / "keys"), "TRAJECTLEDGER_DATABASE_URL": url_db}
        port = free_port()
        server = start_server(env, port, work / "server.log")
        url = f"http://127.0.0.1:{port}"
        rows: list[tuple[str, int, float, list[float]]] = []
        try:
            operator = LedgerClient.connect(url, "operator", operator_key)
            ledger_key = operator.ledger_key()
            funders = {f"bench-funder-{i}": Ed25519PrivateKey.generate() for i in range(clients)}
            register(operator, {PROVIDER: Ed25519PrivateKey.generate()}, "provider")
            register(operator, funders, "funder")
            operator.close()
            for size, label in ((1, f"HTTP single, {clients} clients"), (batch, f"HTTP batch of {batch}, {clients} clients")):
                accepted, elapsed, latencies = http_phase(url, funders, ledger_key, seconds, size)
                rows.append((label, accepted, elapsed, latencies))
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
        inproc_db = args.database_url or f"sqlite:///{work}/inprocess.sqlite3"
        rows += in_process(inproc_db, work / "keys", seconds, batch)

    engine = "PostgreSQL" if url_db.startswith("postgresql") else "SQLite"
    print(f"API load on {engine}: {clients} signing client processes, {seconds:g} s per phase, "
          f"one uvicorn worker on 127.0.0.1")
    print(f"{'phase':<40} {'accepted':>9} {'per second':>11} {'p50 ms':>8} {'p99 ms':>8}  (latency per request)")
    rates = {}
    for label, accepted, elapsed, latencies in rows:
        rates[label] = accepted / elapsed
        print(f"{label:<40} {accepted:>9} {accepted / elapsed:>11.1f} {ms(latencies, .5):>8.1f} {ms(latencies, .99):>8.1f}")
    single_http, single_inproc = rows[0][1] / rows[0][2], rows[2][1] / rows[2][2]
    batch_http, batch_inproc = rows[1][1] / rows[1][2], rows[3][1] / rows[3][2]
    print(f"ratio HTTP / in-process: single {single_http / single_inproc:.2f}, batched {batch_http / batch_inproc:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
