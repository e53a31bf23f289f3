"""``trajectledger witness serve`` as its own process: the spec's status codes over HTTP, a split
view kept and printed by ``witness evidence``, and a restart that keeps the state."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cli.main import main
from ledger.domain.envelope import private_key_pem
from tests.e2e.server import free_port
from tests.unit.test_cosignature import spec_verify
from tests.unit.test_witness import ORIGIN, Log

ROOT = Path(__file__).resolve().parents[2]
NAME = "rekenkamer.example/witness"


@contextmanager
def witness_process(key_file: Path, log: Log, db: Path) -> Iterator[str]:
    port = free_port()
    command = [sys.executable, "-m", "cli.main", "witness", "serve", "--key", str(key_file), "--name", NAME,
               "--log", log.vkey, "--port", str(port), "--db", str(db)]
    server = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(url + "/")
                break
            except httpx.TransportError as exc:
                if server.poll() is not None or time.monotonic() > deadline:
                    output = server.stdout.read() if server.stdout else b""
                    raise RuntimeError(f"the witness did not start: {output!r}") from exc
                time.sleep(0.05)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=20)
        if server.stdout:
            server.stdout.close()


def post(url: str, body: bytes) -> httpx.Response:
    return httpx.post(f"{url}/add-checkpoint", content=body)


def test_a_witness_process(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = Ed25519PrivateKey.generate()
    key_file, db = tmp_path / "witness.pem", tmp_path / "witness.sqlite3"
    key_file.write_bytes(private_key_pem(key))
    log = Log()
    fork = Log(log.key, prefix=b"forked")
    with witness_process(key_file, log, db) as url:
        assert post(url, b"old 1\n").status_code == 400
        assert post(url, Log().request(0, 3)).status_code == 403  # the right origin, another key
        first = post(url, log.request(0, 10))
        assert first.status_code == 200
        body = log.note(10)[:log.note(10).index(b"\n\n") + 1]
        spec_verify(first.text, NAME, key.public_key().public_bytes_raw(), body)
        conflict = post(url, fork.request(10, 10))  # the same size, another root: a split view
        assert (conflict.status_code, conflict.headers["content-type"], conflict.text) == (409, "text/x.tlog.size", "10\n")
    with witness_process(key_file, log, db) as url:  # restarted on the same state file
        stale = post(url, log.request(0, 12))
        assert (stale.status_code, stale.text) == (409, "10\n")
        assert post(url, log.request(10, 12)).status_code == 200
    assert main(["witness", "evidence", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert f"evidence 1: {ORIGIN}, received " in out and "another root hash than the one cosigned" in out
    assert fork.note(10).decode() in out and log.note(10).decode() in out  # both whole notes


def test_witness_commands_refuse_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key_file = tmp_path / "w.pem"
    assert main(["witness", "init-key", str(key_file)]) == 0
    assert main(["witness", "init-key", str(key_file)]) == 78  # never overwrites a key
    assert main(["witness", "vkey", "--key", str(key_file), "--name", "has space"]) == 78
    assert main(["witness", "evidence", "--db", str(tmp_path / "none.sqlite3")]) == 78
    assert main(["witness", "serve", "--key", str(key_file), "--name", NAME, "--log", "not-a-vkey",
                 "--db", str(tmp_path / "w.db")]) == 78
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        assert main(["witness", "serve", "--key", str(key_file), "--name", NAME, "--log", Log().vkey,
                     "--port", str(taken.getsockname()[1]), "--db", str(tmp_path / "w.db")]) == 78
    err = capsys.readouterr().err
    assert "--name:" in err and "--db: no witness state" in err and "--log: malformed verifier key" in err
    assert "--host/--port: cannot listen on 127.0.0.1:" in err
