from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support import World, make_world


@pytest.fixture
def world(sqlite_url: str) -> Iterator[World]:
    world = make_world(sqlite_url)
    yield world
    world.ledger.close()


@pytest.fixture
def any_world(database_url: str) -> Iterator[World]:
    """The same, on SQLite and on PostgreSQL."""
    world = make_world(database_url)
    yield world
    world.ledger.close()
