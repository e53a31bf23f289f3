"""Witness benchmark: add-checkpoint requests per second, and one witnessing round's latency.

    python bench/witness.py [--requests 300] [--dir D]

* a witness (``trajectledger witness serve``'s app on uvicorn, in this process's thread) takes
  ``--requests`` growing checkpoints of a log of up to 2^20 leaves over HTTP with keep-alive, each
  with its consistency proof (about 13 hashes): requests per second, and the same decided
  in-process (no HTTP) to show what the SQLite commit (``synchronous=FULL``) costs;
* a round of the ledger's witnessing (``ledger.infra.transparency.witnessing``) against three
  such witnesses, one of them down (connection refused): milliseconds per round, median of 20.

The machine is shared: numbers vary with its load.
"""

from __future__ import annotations

import argparse
import http.client
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import uvicorn
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from api.witness_app import create_witness_app, listen  # noqa: E402
from ledger.domain.checkpoint import Checkpoint, sign_checkpoint, verifier_key_string  # noqa: E402
from ledger.domain.cosignature import cosigner_vkey  # noqa: E402
from ledger.domain.merkle import RootAccumulator, leaf_hash  # noqa: E402
from ledger.domain.merkle.subtrees import consistency_ranges, fold, perfect_parts, perfect_root  # noqa: E402
from ledger.domain.witness_policy import parse_policy  # noqa: E402
from ledger.infra.transparency.witnessing import Witnessing  # noqa: E402
from ledger.witness.request import format_request  # noqa: E402
from ledger.witness.state import WitnessState  # noqa: E402
from ledger.witness.witness import Witness  # noqa: E402

ORIGIN = "bench.example/log"
LEAVES = 1 << 20


def serve(witness: Witness) -> tuple[str, uvicorn.Server, threading.Thread]:
    sock = listen("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn.Config(create_witness_app(witness), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    return f"http://127.0.0.1:{sock.getsockname()[1]}", server, thread


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--dir", default=None)
    args = parser.parse_args()
    work = Path(args.dir or tempfile.mkdtemp(prefix="bench-witness-"))
    log_key = Ed25519PrivateKey.generate()
    log_vkey = verifier_key_string(ORIGIN, log_key.public_key().public_bytes_raw())
    leaves = [leaf_hash(i.to_bytes(4, "big")) for i in range(LEAVES)]
    step = max(1, (LEAVES // 2) // (2 * args.requests + 1) - 1)  # odd sizes: proofs of ~13 hashes
    sizes = [LEAVES // 2 + step * i for i in range(2 * args.requests + 1)]
    roots = {}
    accumulator = RootAccumulator()
    for size in sizes:
        accumulator.extend(leaves[accumulator.size:size])
        roots[size] = accumulator.root()

    def proof(old: int, new: int) -> list[bytes]:
        return [fold([perfect_root(leaves[s:s + n]) for s, n in perfect_parts(a, b)])
                for a, b in consistency_ranges(old, new)]

    def body(old: int, new: int) -> bytes:
        note = sign_checkpoint(Checkpoint(ORIGIN, new, roots[new]), ORIGIN, log_key)
        return format_request(old, proof(old, new) if old else [], note)

    http_bodies = [body(0 if i == 0 else sizes[i - 1], sizes[i]) for i in range(args.requests)]
    local_bodies = [body(0 if i == 0 else sizes[args.requests + i - 1], sizes[args.requests + i])
                    for i in range(args.requests)]
    key = Ed25519PrivateKey.generate()
    witness = Witness("bench.example/w", key, [log_vkey], WitnessState(work / "http.sqlite3"))
    url, server, thread = serve(witness)
    connection = http.client.HTTPConnection("127.0.0.1", int(url.rsplit(":", 1)[1]))  # one keep-alive connection
    started = time.perf_counter()
    for request in http_bodies:  # headers and body in one send, as the ledger's client does (no Nagle stall)
        connection.request("POST", "/add-checkpoint", body=request)
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise SystemExit(f"the witness answered {response.status}")
    elapsed = time.perf_counter() - started
    connection.close()
    print(f"witness over HTTP (keep-alive): {args.requests / elapsed:,.0f} add-checkpoint/s "
          f"({elapsed / args.requests * 1000:.1f} ms each, ~{len(proof(sizes[1], sizes[2]))} proof hashes)")
    local = Witness("bench.example/w", key, [log_vkey], WitnessState(work / "local.sqlite3"))
    started = time.perf_counter()
    for request in local_bodies:
        if local.add_checkpoint(request).status != 200:
            raise SystemExit("the witness refused a benchmark request")
    elapsed = time.perf_counter() - started
    print(f"witness in-process:            {args.requests / elapsed:,.0f} add-checkpoint/s "
          f"({elapsed / args.requests * 1000:.1f} ms each, one SQLite commit per request)")
    server.should_exit = True
    thread.join()

    from tests.support import make_world  # a real ledger, for the round

    world = make_world(f"sqlite:///{work}/ledger.sqlite3")
    keys = [Ed25519PrivateKey.generate() for _ in range(3)]
    log = world.ledger.transparency
    served = [serve(Witness(f"w{i}.example", keys[i], [log.verifier_key], WitnessState(work / f"w{i}.sqlite3")))
              for i in range(2)]
    down = listen("127.0.0.1", 0)
    down_url = f"http://127.0.0.1:{down.getsockname()[1]}"
    down.close()
    urls = [served[0][0], served[1][0], down_url]
    policy = parse_policy(("".join(f"witness W{i} {cosigner_vkey(f'w{i}.example', keys[i].public_key().public_bytes_raw())} "
                                   f"{urls[i]}\n" for i in range(3)) + "group q 2 W0 W1 W2\nquorum q\n").encode())
    witnessing = Witnessing(log, policy, timeout=5)
    times = []
    for i in range(20):
        world.register(f"bench-provider-{i}", "provider")
        world.ledger.checkpoint()
        started = time.perf_counter()
        witnessing.round()
        times.append(time.perf_counter() - started)
    witnessing.close()
    print(f"ledger witnessing round, 2 of 3 witnesses up: median {statistics.median(times) * 1000:.1f} ms, "
          f"max {max(times) * 1000:.1f} ms (20 rounds, each a new checkpoint)")
    for _, server, thread in served:
        server.should_exit = True
        thread.join()
    world.ledger.close()


if __name__ == "__main__":
    main()
