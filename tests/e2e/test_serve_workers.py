"""``trajectledger serve --workers 3``: three server processes on one port, on SQLite and on
PostgreSQL. Eight providers' clients race for the same jobs through the one port: each job has
one winner, no answer is a 500, the log is dense and the stored dossiers stay consistent."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from ledger.application import Ledger
from ledger.settings import Settings, create_keys, load_keys
from tests.consistency import assert_consistent
from tests.e2e.server import free_port, serving_process
from tests.e2e.test_race_over_http import BSNS, PROVIDERS, assert_one_winner_per_job, race

WORKERS = 3


def children(pid: int) -> list[int]:
    """The processes ``pid`` started (Linux ``/proc``)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(child) for child in (task / "children").read_text().split()]
    return found


@contextmanager
def served_with_workers(tmp_path: Path, database_url: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = free_port()
    env = {**os.environ, "TRAJECTLEDGER_KEY_DIR": str(tmp_path / "keys"), "TRAJECTLEDGER_DATABASE_URL": database_url,
           "PYTHONUNBUFFERED": "1"}
    env.pop("TRAJECTLEDGER_API_SIGNING_WORKERS", None)
    log = tmp_path / "server.log"
    with serving_process(["-m", "cli.main", "serve", "--port", str(port), "--workers", str(WORKERS)], env, log,
                        port) as server:
        yield f"http://127.0.0.1:{port}", server
    output = log.read_text()
    assert "Traceback" not in output, output[-3000:]


@pytest.mark.slow
def test_serve_with_three_workers_keeps_one_winner_per_job(database_url: str, tmp_path: Path) -> None:
    rounds = 10
    create_keys(tmp_path / "keys")
    operator_key, pseudonym_key = load_keys(tmp_path / "keys")
    settings = Settings(database_url, operator_key, pseudonym_key)
    with served_with_workers(tmp_path, database_url) as (url, server):
        # uvicorn's manager runs the workers; each has its signing workers below it
        servers = [pid for pid in children(server.pid) if "spawn_main" in Path(f"/proc/{pid}/cmdline").read_text()]
        assert len(servers) == WORKERS, children(server.pid)
        statuses, receipts, claims = race([url] * 3, operator_key, rounds)
    assert statuses.seen[500] == 0 and set(statuses.seen) <= {200, 201, 409}, statuses.seen
    assert_one_winner_per_job(receipts, claims, rounds)
    ledger = Ledger(settings)
    assert ledger.log_size() == 1 + 1 + PROVIDERS + PROVIDERS * len(BSNS) + len(receipts)
    for receipt in receipts[::7]:
        assert ledger.receipt(receipt.envelope_id) == receipt
    assert_consistent(ledger)
    ledger.close()
