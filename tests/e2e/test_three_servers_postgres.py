"""Three ``serve`` processes on one PostgreSQL database: eight providers' clients, spread over
the three servers, claim the same job of three clients at the same moment, round after round.
Each job has one winner, no answer is a 500, every entry is logged once in a dense log, and the
stored dossiers stay consistent (``tests/consistency.py``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from ledger.application import Ledger
from ledger.settings import Settings, create_keys, load_keys
from tests.conftest import fresh_postgres_url
from tests.consistency import assert_consistent
from tests.e2e.test_race_over_http import BSNS, PROVIDERS, assert_one_winner_per_job, race, server_process


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database, dropped afterwards (PostgreSQL only: no SQLite case)."""
    yield from fresh_postgres_url()


@pytest.mark.slow
@pytest.mark.postgres
def test_three_server_processes_on_one_postgres_database(postgres_url: str, tmp_path: Path) -> None:
    rounds = 12
    create_keys(tmp_path / "keys")
    operator_key, pseudonym_key = load_keys(tmp_path / "keys")
    settings = Settings(postgres_url, operator_key, pseudonym_key)
    Ledger(settings).close()  # migrated and initialised once, first
    with ExitStack() as stack:
        servers = [stack.enter_context(server_process(tmp_path, tmp_path / "keys", postgres_url, f"server-{n}"))
                   for n in range(3)]
        assert len(set(servers)) == 3
        statuses, receipts, claims = race(servers, operator_key, rounds)
    assert statuses.seen[500] == 0 and set(statuses.seen) <= {200, 201, 409}, statuses.seen
    assert_one_winner_per_job(receipts, claims, rounds)
    ledger = Ledger(settings)
    # genesis, the cast (funder + providers), a commission per provider and client, every claim
    assert ledger.log_size() == 1 + 1 + PROVIDERS + PROVIDERS * len(BSNS) + len(receipts)
    for receipt in receipts[::7]:  # what a server answered is what the log holds
        assert ledger.receipt(receipt.envelope_id) == receipt
    assert_consistent(ledger)
    ledger.close()
