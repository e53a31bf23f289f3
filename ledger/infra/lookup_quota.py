"""Counting each party's pseudonym lookups (BSN -> client_ref) per UTC hour.

A lookup is a re-identification oracle: whoever may ask can test any BSN against the
client_refs they see. The count is kept in the database, so the limit holds across server
processes; every attempt counts, refused ones included.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import Engine, delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ledger.domain.errors import LedgerError
from ledger.infra.storage.tables import pseudonym_lookups

KEPT = timedelta(hours=48)  # how long a party's hourly counts are kept


class TooManyLookups(LedgerError):
    """The party used up its pseudonym lookups for this hour."""

    rule = "pseudonym.rate-limit"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail, field="bsn")
        self.retry_after = retry_after


def count_lookup(engine: Engine, party_id: str, per_hour: int, now: datetime | None = None) -> int:
    """Count one lookup by ``party_id``; return how many it made this hour, or raise
    ``TooManyLookups`` (with the seconds until the next hour) beyond ``per_hour``."""
    now = now or datetime.now(timezone.utc)
    hour = now.strftime("%Y-%m-%dT%H")
    insert = pg_insert if engine.dialect.name == "postgresql" else sqlite_insert  # the two engines the ledger runs on
    statement = insert(pseudonym_lookups).values(party_id=party_id, hour=hour, lookups=1).on_conflict_do_update(
        index_elements=["party_id", "hour"], set_={"lookups": pseudonym_lookups.c.lookups + 1}
    ).returning(pseudonym_lookups.c.lookups)  # one atomic statement: racing servers count every lookup
    with engine.begin() as connection:
        lookups = connection.execute(statement).scalar_one()
        if lookups == 1:  # the party's first lookup this hour: forget its counts of days ago
            kept_from = (now - KEPT).strftime("%Y-%m-%dT%H")
            connection.execute(delete(pseudonym_lookups).where(
                (pseudonym_lookups.c.party_id == party_id) & (pseudonym_lookups.c.hour < kept_from)))
    if lookups > per_hour:
        next_hour = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        raise TooManyLookups(f"at most {per_hour} pseudonym lookups per hour; try again after {next_hour:%H:%M} UTC",
                             retry_after=max(1, int((next_hour - now).total_seconds())))
    return int(lookups)
