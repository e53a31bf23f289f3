"""The independent side of ``tests/interop/test_aics_witness.py``: aics-witness / aics-tlog (PyPI,
Python 3.12 or later), run in its own interpreter and virtualenv. It imports nothing of this
project; requests and answers are JSON, bytes in base64.

    side.py client   < {"url", "vkey", "proofs": {"old new": [b64, ...]}, "sessions": [[note_b64, ...], ...]}
        each session a fresh ``WitnessClient``; per note {"line": str} or {"error": class, "feeder_error": bool}
    side.py verify   < [{"line", "name", "public_key", "note"}, ...]   ->  [bool, ...] (``verify_cosignature``)
    side.py witness NAME SEED_HEX DB ORIGIN LOG_VKEY
        serves ``Witness`` on 127.0.0.1 (prints its URL) until standard input closes
"""

from __future__ import annotations

import base64
import json
import sys
import threading
from typing import Any

import aics_witness
from aics_tlog.cosign import verify_cosignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


def _checkpoint(note: bytes) -> tuple[str, int, bytes, list[str]]:
    """Origin, size, root hash and extension lines of a signed note's checkpoint."""
    text = note.split(b"\n\n", 1)[0].decode()
    origin, size, root, *extensions = text.split("\n")
    return origin, int(size), base64.b64decode(root), extensions


def client(request: dict[str, Any]) -> list[list[dict[str, Any]]]:
    proofs = {tuple(map(int, key.split())): [base64.b64decode(p) for p in value]
              for key, value in request["proofs"].items()}
    results = []
    for session in request["sessions"]:
        answers = []
        with aics_witness.WitnessClient(request["url"], request["vkey"]) as their:
            for note in session:
                try:
                    line = their.submit(base64.b64decode(note), lambda old, new: proofs[(old, new)])
                    answers.append({"line": line})
                except Exception as exc:  # reported to the test, which asserts on the class
                    answers.append({"error": type(exc).__name__,
                                    "feeder_error": isinstance(exc, aics_witness.FeederError)})
        results.append(answers)
    return results


def verify(items: list[dict[str, str]]) -> list[bool]:
    verdicts = []
    for item in items:
        origin, size, root, extensions = _checkpoint(base64.b64decode(item["note"]))
        blob = base64.b64decode(item["line"].strip().split(" ")[2])
        verdicts.append(bool(verify_cosignature(blob[4:], item["name"], base64.b64decode(item["public_key"]),
                                                origin, size, root, extensions)))
    return verdicts


def witness(name: str, seed: str, db: str, origin: str, log_vkey: str) -> None:
    store = aics_witness.WitnessStore(db, create=True)
    logs = [aics_witness.LogConfig.from_strings(origin, [log_vkey], extension_lines=True)]
    server = aics_witness.make_server(aics_witness.Witness(name, Ed25519PrivateKey.from_private_bytes(bytes.fromhex(seed)),
                                                           store, logs))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    print(f"http://127.0.0.1:{server.server_address[1]}", flush=True)
    sys.stdin.read()  # until the test closes it
    server.shutdown()
    server.server_close()


def main() -> None:
    command = sys.argv[1]
    if command == "client":
        json.dump(client(json.load(sys.stdin)), sys.stdout)
    elif command == "verify":
        json.dump(verify(json.load(sys.stdin)), sys.stdout)
    elif command == "witness":
        witness(*sys.argv[2:7])
    else:
        raise SystemExit(f"unknown command {command!r}")


if __name__ == "__main__":
    main()
