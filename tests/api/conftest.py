from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.api.support import ApiWorld, Story, open_world, tell_story


@pytest.fixture
def world(database_url: str) -> Iterator[ApiWorld]:
    """The app over a fresh ledger with the cast registered, on SQLite and PostgreSQL."""
    world = open_world(database_url)
    yield world
    world.close()


@pytest.fixture
def story(world: ApiWorld) -> Story:
    return tell_story(world)
