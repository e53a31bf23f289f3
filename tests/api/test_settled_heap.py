"""A server process sets its start-up heap aside from the cyclic garbage collector once
started (``heap.settle``: ``gc.freeze``); an app built for a test does not."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from fastapi import FastAPI

from api.app import create_app
from tests.support import new_settings


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()  # the rest of the suite builds and drops many apps: nothing of theirs stays frozen


def frozen_while_started(app: FastAPI) -> int:
    """The number of frozen objects while the app runs (its lifespan entered, as a server does)."""

    async def started() -> int:
        async with app.router.lifespan_context(app):
            return gc.get_freeze_count()

    return anyio.run(started)


def test_a_server_app_freezes_its_start_up_heap_once_started(tmp_path: Path, unfrozen: None) -> None:
    app = create_app(new_settings(f"sqlite:///{tmp_path}/ledger.sqlite3"), settle_heap=True)
    assert gc.get_freeze_count() == 0, "nothing is frozen while the app is only built"
    assert frozen_while_started(app) > 10_000  # the imports, the app, the ledger


def test_an_app_built_for_a_test_freezes_nothing(tmp_path: Path, unfrozen: None) -> None:
    assert frozen_while_started(create_app(new_settings(f"sqlite:///{tmp_path}/ledger.sqlite3"))) == 0
