"""Transparency log: dense log index per recorded entry, and signed checkpoints.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy_utils.types.uuid import UUIDType

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "log_entries",
        sa.Column("log_index", BIGINT, primary_key=True, autoincrement=False),
        sa.Column("originator_id", UUIDType(), nullable=False),
        sa.Column("originator_version", BIGINT, nullable=False),
        sa.Column("envelope_id", sa.String(36), nullable=False, unique=True),
        sa.Column("leaf_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("recorded_at", sa.String(32), nullable=False),
    )
    op.create_index("log_entries_originator", "log_entries", ["originator_id", "originator_version"], unique=True)
    op.create_table(
        "checkpoints",
        sa.Column("tree_size", BIGINT, primary_key=True, autoincrement=False),
        sa.Column("root_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("checkpoints")
    op.drop_index("log_entries_originator", table_name="log_entries")
    op.drop_table("log_entries")
