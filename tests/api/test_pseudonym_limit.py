"""Pseudonym lookups are limited per party and hour, counted in the database (so the limit
holds across server processes): a lookup can test any BSN."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import create_engine, select

from api.app import create_app
from api.settings import ApiSettings
from ledger.infra.lookup_quota import TooManyLookups, count_lookup
from ledger.infra.storage.migrate import upgrade
from ledger.infra.storage.tables import pseudonym_lookups
from tests.api.bridge import ASGIBridge
from tests.api.support import HAARLEM, WERKFIT, ApiWorld, open_world


def test_the_counter_counts_per_party_and_hour_and_refuses_beyond_the_limit(database_url: str) -> None:
    engine = create_engine(database_url)
    upgrade(engine)
    at = datetime(2026, 11, 22, 14, 59, 30, tzinfo=timezone.utc)
    assert [count_lookup(engine, "werkfit", 3, at) for _ in range(3)] == [1, 2, 3]
    with pytest.raises(TooManyLookups) as caught:
        count_lookup(engine, "werkfit", 3, at)
    assert (caught.value.rule, caught.value.field, caught.value.retry_after) == ("pseudonym.rate-limit", "bsn", 30)
    assert count_lookup(engine, "jobstap", 3, at) == 1  # another party: its own count
    assert count_lookup(engine, "werkfit", 3, at.replace(hour=15, minute=0)) == 1  # the next hour: a fresh count
    two_days_on = at.replace(day=24, hour=15)
    assert count_lookup(engine, "werkfit", 3, two_days_on) == 1
    with engine.connect() as connection:  # counts older than 48 hours are forgotten, the party's own only
        kept = connection.execute(select(pseudonym_lookups.c.party_id, pseudonym_lookups.c.hour)).all()
    assert sorted(kept) == [("jobstap", "2026-11-22T14"), ("werkfit", "2026-11-22T15"), ("werkfit", "2026-11-24T15")]
    engine.dispose()


def test_beyond_the_limit_a_party_gets_429_with_retry_after_in_every_server(database_url: str) -> None:
    world = open_world(database_url, pseudonym_lookups_per_hour=3)
    for bsn in ("111222333", "123456782", "123456789"):  # the last fails the 11-test: it counts too
        assert world.signed(WERKFIT, "POST", "/pseudonyms", json={"bsn": bsn}).status_code in (200, 400)
    refused = world.signed(WERKFIT, "POST", "/pseudonyms", json={"bsn": "111222333"})
    assert refused.status_code == 429
    assert refused.json()["rule"] == "pseudonym.rate-limit" and refused.json()["field"] == "bsn"
    assert 1 <= int(refused.headers["Retry-After"]) <= 3600
    assert "111222333" not in refused.text
    assert world.signed(HAARLEM, "POST", "/pseudonyms", json={"bsn": "111222333"}).status_code == 200

    app = create_app(ApiSettings(world.settings, pseudonym_lookups_per_hour=3))  # another server, same database
    second = ApiWorld(world.settings, app, ASGIBridge(app), world.keys)
    assert second.signed(WERKFIT, "POST", "/pseudonyms", json={"bsn": "111222333"}).status_code == 429
    second.close()
    world.close()
