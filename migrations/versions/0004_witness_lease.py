"""The lease that lets one server of several on a database push checkpoints to the witnesses.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    lease = op.create_table(
        "leases",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("holder", sa.String(200), nullable=False),  # host:pid:nonce of the process holding it ("": none)
        sa.Column("expires_at", sa.Float(), nullable=False),  # seconds since the epoch, by the holder's clock
    )
    op.bulk_insert(lease, [{"name": "witnessing", "holder": "", "expires_at": 0.0}])


def downgrade() -> None:
    op.drop_table("leases")
