"""The served ledger the command-line tests talk to: the cast registered, their keys in PEM files."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from api.app import create_app
from api.settings import ApiSettings
from ledger.application import Ledger
from ledger.domain.envelope import private_key_pem
from ledger.domain.identity import client_ref
from tests.e2e.server import running
from tests.support import VALID_BSNS, make_world


@dataclass
class Served:
    url: str
    ledger: Ledger
    key_files: dict[str, Path]
    refs: list[str]


@pytest.fixture
def served(database_url: str, tmp_path: Path) -> Iterator[Served]:
    world = make_world(database_url)  # the cast registered
    settings, keys = world.ledger.settings, world.keys
    world.ledger.close()
    key_files = {}
    for party, key in keys.items():
        key_files[party] = tmp_path / f"{party}.pem"
        key_files[party].write_bytes(private_key_pem(key))
    app = create_app(ApiSettings(settings))
    try:
        with running(app) as url:
            yield Served(url, app.state.ledger, key_files, [client_ref(settings.pseudonym_key, b) for b in VALID_BSNS])
    finally:
        app.state.ledger.close()


