"""Pseudonym lookups counted per party and hour (the API's limit on BSN -> client_ref).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pseudonym_lookups",
        sa.Column("party_id", sa.String(100), primary_key=True),
        sa.Column("hour", sa.String(13), primary_key=True),  # UTC, YYYY-MM-DDTHH
        sa.Column("lookups", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("pseudonym_lookups")
