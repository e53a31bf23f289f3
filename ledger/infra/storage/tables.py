"""Tables the project owns (created by the Alembic migrations in ``migrations/``).

``log_entries`` gives every recorded entry its dense log index. It is written in the same
transaction as the event it indexes, while the events table is locked for writing, so the
index has no gaps even where a rolled-back insert leaves a gap in notification ids.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Float, Index, Integer, LargeBinary, MetaData, String, Table, Text
from sqlalchemy_utils.types.uuid import UUIDType  # the type eventsourcing-sqlalchemy uses: joins match

metadata = MetaData()

BIGINT = BigInteger().with_variant(Integer(), "sqlite")

log_entries = Table(
    "log_entries",
    metadata,
    Column("log_index", BIGINT, primary_key=True, autoincrement=False),
    Column("originator_id", UUIDType(), nullable=False),
    Column("originator_version", BIGINT, nullable=False),
    Column("envelope_id", String(36), nullable=False, unique=True),
    Column("leaf_hash", LargeBinary(32), nullable=False),
    Column("recorded_at", String(32), nullable=False),
    Index("log_entries_originator", "originator_id", "originator_version", unique=True),
)

checkpoints = Table(
    "checkpoints",
    metadata,
    Column("tree_size", BIGINT, primary_key=True, autoincrement=False),
    Column("root_hash", LargeBinary(32), nullable=False),
    Column("note", Text(), nullable=False),
    Column("created_at", String(32), nullable=False),
)

pseudonym_lookups = Table(  # how many BSNs each party turned into client_refs, per UTC hour
    "pseudonym_lookups",
    metadata,
    Column("party_id", String(100), primary_key=True),
    Column("hour", String(13), primary_key=True),
    Column("lookups", Integer(), nullable=False),
)

leases = Table(  # a task that one process of several on this database runs at a time (``ledger.infra.lease``)
    "leases",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("holder", String(200), nullable=False),  # host:pid:nonce of the process holding it ("": none)
    Column("expires_at", Float(), nullable=False),  # seconds since the epoch, by the holder's clock
)
