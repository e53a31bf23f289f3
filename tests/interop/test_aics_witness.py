"""Interoperability with an independent C2SP implementation: aics-witness and aics-tlog (PyPI),
which need Python 3.12 or later, so they run in an interpreter and virtualenv of their own
(``tests/interop/aics/side.py``, JSON over pipes; this project's code stays out of it):

* their client (``WitnessClient``) against our witness over HTTP: cosignatures for growing
  sizes, a fresh client that starts from 0 and follows our 409, a rollback refused; every
  cosignature verified by their ``verify_cosignature`` and by ours;
* our ledger's witnessing rounds against their witness (``make_server``), a fresh client each
  time (old 0, then their 409), the cosignature verified by both libraries.

The virtualenv is made once per test module with ``python3.13`` or ``python3.12`` from PATH, a
3.12+ that pyenv has installed, or ``TRAJECTLEDGER_TEST_AICS_PYTHON``, installing the pinned
versions from the package index. Where
no such interpreter or package is to be had the tests are skipped, saying why; under CI
(``CI=true``) they fail instead.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from api.witness_app import create_witness_app
from ledger.domain.checkpoint import Checkpoint, sign_checkpoint, verifier_key_string
from ledger.domain.cosignature import cosigner_vkey, parse_cosigner_vkey, verify_cosignatures
from ledger.domain.merkle import consistency_proof, leaf_hash, root_hash
from ledger.domain.witness_policy import parse_policy
from ledger.infra.transparency.witnessing import Witnessing
from ledger.witness.state import WitnessState
from ledger.witness.witness import Witness
from tests.e2e.server import running
from tests.support import make_world

SIDE = Path(__file__).parent / "aics" / "side.py"
PACKAGES = ("aics-witness==0.1.0", "aics-tlog==0.2.1")
ORIGIN = "log.example/interop"
LEAVES = [leaf_hash(b"e%d" % i) for i in range(50)]


def _interpreter() -> str | None:
    """A Python 3.12 or later to run their side with: named, on PATH, or installed by pyenv."""
    named = os.environ.get("TRAJECTLEDGER_TEST_AICS_PYTHON")
    candidates = [named] if named else ["python3.13", "python3.12", *_pyenv_pythons()]
    for candidate in candidates:
        found = shutil.which(candidate)
        if found is None:
            continue
        try:
            done = subprocess.run([found, "-c", "import sys; print(sys.version_info >= (3, 12))"],
                                  capture_output=True, text=True, timeout=60)
        except OSError:
            continue
        if done.returncode == 0 and done.stdout.strip() == "True":
            return found
    return None


def _pyenv_pythons() -> list[str]:
    """The interpreters of the Python 3.12+ versions pyenv has installed (its shims run only the
    selected version, so ``python3.12`` on PATH may not answer), newest first."""
    if shutil.which("pyenv") is None:
        return []
    listed = subprocess.run(["pyenv", "versions", "--bare", "--skip-aliases"], capture_output=True, text=True,
                            timeout=60)
    found = []
    for version in listed.stdout.split():
        parts = version.split(".")
        if len(parts) >= 2 and parts[0] == "3" and parts[1].isdigit() and int(parts[1]) >= 12:
            prefix = subprocess.run(["pyenv", "prefix", version], capture_output=True, text=True, timeout=60)
            if prefix.returncode == 0 and prefix.stdout.strip():
                found.append((int(parts[1]), str(Path(prefix.stdout.strip()) / "bin" / "python3")))
    return [path for _, path in sorted(found, reverse=True)]


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"CI requires the aics-witness interop test: {reason}")
    pytest.skip(f"aics-witness interop test skipped: {reason}")


@pytest.fixture(scope="module")
def their_python(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The interpreter of a fresh virtualenv holding aics-witness and aics-tlog."""
    interpreter = _interpreter()
    if interpreter is None:
        _unavailable("no Python 3.12 or later (python3.13 or python3.12 on PATH, pyenv, or TRAJECTLEDGER_TEST_AICS_PYTHON)")
    venv = tmp_path_factory.mktemp("aics-venv")
    assert interpreter is not None  # else skipped or failed above
    made = subprocess.run([interpreter, "-m", "venv", str(venv)], capture_output=True, text=True, timeout=300)
    if made.returncode != 0:
        _unavailable(f"{interpreter} -m venv failed: {made.stderr.strip()[-300:]}")
    python = str(venv / ("Scripts" if sys.platform == "win32" else "bin") / "python")
    installed = subprocess.run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *PACKAGES],
                               capture_output=True, text=True, timeout=600)
    if installed.returncode != 0:
        _unavailable(f"pip install {' '.join(PACKAGES)} failed: {installed.stderr.strip()[-300:]}")
    return python


def their(python: str, command: str, payload: Any) -> Any:
    done = subprocess.run([python, str(SIDE), command], input=json.dumps(payload), capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def their_verdicts(python: str, lines: list[str], name: str, public_key: bytes, notes: list[bytes]) -> list[bool]:
    verdicts: list[bool] = their(python, "verify", [{"line": line, "name": name, "public_key": b64(public_key),
                                                     "note": b64(note)} for line, note in zip(lines, notes)])
    return verdicts


def test_their_client_against_our_witness(tmp_path: Path, their_python: str) -> None:
    log_key, witness_key = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    public = witness_key.public_key().public_bytes_raw()

    def note(size: int) -> bytes:
        return sign_checkpoint(Checkpoint(ORIGIN, size, root_hash(LEAVES[:size]), ("time 2026-12-04T00:00:00Z",)),
                               ORIGIN, log_key)

    sizes = (7, 20, 33, 40, 10)
    proofs = {f"{old} {new}": [b64(h) for h in (consistency_proof(LEAVES[:new], old) if 0 < old < new else [])]
              for new in sizes for old in range(new + 1)}
    ours = Witness("ours.example/w", witness_key, [verifier_key_string(ORIGIN, log_key.public_key().public_bytes_raw())],
                   WitnessState(tmp_path / "ours.sqlite3"))
    sessions = [[7, 7, 20, 33], [40], [10]]  # one client; a fresh one (starts from 0, follows our 409); a stale one
    with running(create_witness_app(ours)) as url:
        answers = their(their_python, "client", {"url": url, "vkey": cosigner_vkey("ours.example/w", public),
                                                 "proofs": proofs,
                                                 "sessions": [[b64(note(size)) for size in s] for s in sessions]})
    cosigned = [(size, answer["line"]) for s, replies in zip(sessions, answers) for size, answer in zip(s, replies)
                if "line" in answer]
    assert [size for size, _ in cosigned] == [7, 7, 20, 33, 40]
    assert answers[2][0].get("feeder_error") is True  # a rollback: our 409 names 40, their client gives up
    notes = [note(size) for size, _ in cosigned]
    assert their_verdicts(their_python, [line for _, line in cosigned], "ours.example/w", public, notes) == [True] * 5
    our_cosigner = parse_cosigner_vkey(cosigner_vkey("ours.example/w", public))
    for (_, line), signed in zip(cosigned, notes):
        assert len(verify_cosignatures(signed + line.encode(), [our_cosigner])) == 1  # and by ours
    stored = ours.state.cosigned(ORIGIN)
    assert stored is not None and stored.tree_size == 40


@pytest.fixture
def their_witness(tmp_path: Path, their_python: str) -> Iterator[tuple[str, Ed25519PrivateKey, Any]]:
    """Their witness, for a ledger made here: (URL, its key, the ledger's world)."""
    world = make_world(f"sqlite:///{tmp_path}/ledger.sqlite3")
    log = world.ledger.transparency
    key = Ed25519PrivateKey.generate()
    process = subprocess.Popen([their_python, str(SIDE), "witness", "aics.example/w", key.private_bytes_raw().hex(),
                                str(tmp_path / "aics.sqlite3"), log.origin, log.verifier_key],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), url
        yield url, key, world
    finally:
        assert process.stdin is not None and process.stdout is not None
        process.stdin.close()  # their witness stops
        process.wait(timeout=30)
        process.stdout.close()
        world.ledger.close()


def test_our_ledger_against_their_witness(their_witness: tuple[str, Ed25519PrivateKey, Any], their_python: str) -> None:
    url, key, world = their_witness
    log = world.ledger.transparency
    public = key.public_key().public_bytes_raw()
    policy = parse_policy(f"log {log.verifier_key}\nwitness T {cosigner_vkey('aics.example/w', public)} {url}\n"
                          "quorum T\n".encode())
    for grow in range(2):
        world.register(f"late-{grow}", "provider")
        world.ledger.checkpoint()
        witnessing = Witnessing(log, policy, timeout=5)  # a fresh client each time: old 0, then their 409
        try:
            assert [o.problem for o in witnessing.round()] == [None]
        finally:
            witnessing.close()
        newest = log.latest()
        assert newest is not None
        found = verify_cosignatures(newest.note, [policy.witnesses["T"].cosigner])
        assert len(found) == 1
        assert their_verdicts(their_python, [found[0].line], "aics.example/w", public, [newest.note]) == [True]
