"""Read models of the projections: dossiers, trajectories, claims and their flags,
benefit periods, refusals, the built-in definitions' facts per trajectory, and the cursor
that makes applying entries exactly-once.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
REF = sa.String(64)
ID = sa.String(36)
DAY = sa.String(10)  # ISO dates as text in projection_facts


def upgrade() -> None:
    cursor = op.create_table(
        "projection_cursor",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("last_log_index", BIGINT, nullable=False),
    )
    op.bulk_insert(cursor, [{"name": "read-models", "last_log_index": -1}])
    op.create_table(
        "projection_dossiers",
        sa.Column("client_ref", REF, primary_key=True),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("last_log_index", BIGINT, nullable=False),
    )
    op.create_table(
        "projection_trajectories",
        sa.Column("trajectory_id", ID, primary_key=True),
        sa.Column("client_ref", REF, nullable=False),
        sa.Column("funder", REF, nullable=False),
        sa.Column("provider", REF, nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("planned_end", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("end_reason", sa.String(32), nullable=True),
        sa.Column("cohort", sa.Integer(), nullable=False),
        sa.Column("definition", REF, nullable=False),
        sa.Column("contract", sa.String(32), nullable=False),
        sa.Column("fee_cents", sa.BigInteger(), nullable=False),
        sa.Column("base_fee_cents", sa.BigInteger(), nullable=False),
        sa.Column("intake_rung", sa.Integer(), nullable=True),
        sa.Column("highest_rung", sa.Integer(), nullable=True),
        sa.Column("commissioned_on", sa.Date(), nullable=False),
    )
    op.create_index("projection_trajectories_client", "projection_trajectories", ["client_ref"])
    op.create_index("projection_trajectories_provider", "projection_trajectories", ["provider"])
    op.create_index("projection_trajectories_funder", "projection_trajectories", ["funder"])
    op.create_table(
        "projection_claims",
        sa.Column("claim_id", ID, primary_key=True),
        sa.Column("trajectory_id", ID, nullable=False),
        sa.Column("client_ref", REF, nullable=False),
        sa.Column("funder", REF, nullable=False),
        sa.Column("provider", REF, nullable=False),
        sa.Column("employer_kvk", sa.String(8), nullable=False),
        sa.Column("application_date", sa.Date(), nullable=False),
        sa.Column("job_start", sa.Date(), nullable=False),
        sa.Column("contract_end", sa.Date(), nullable=True),
        sa.Column("employment_end", sa.Date(), nullable=True),
        sa.Column("hours_per_week", sa.Integer(), nullable=False),
        sa.Column("secondment_via_provider", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attributable", sa.Boolean(), nullable=False),
    )
    op.create_index("projection_claims_client", "projection_claims", ["client_ref"])
    op.create_index("projection_claims_trajectory", "projection_claims", ["trajectory_id"])
    op.create_table(
        "projection_claim_flags",
        sa.Column("claim_id", ID, primary_key=True),
        sa.Column("flag", sa.String(64), primary_key=True),
        sa.Column("client_ref", REF, nullable=False),
        sa.Column("trajectory_id", ID, nullable=False),
        sa.Column("funder", REF, nullable=False),
        sa.Column("provider", REF, nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
    )
    op.create_index("projection_claim_flags_client", "projection_claim_flags", ["client_ref"])
    op.create_table(
        "projection_benefits",
        sa.Column("benefit_id", ID, primary_key=True),
        sa.Column("client_ref", REF, nullable=False),
        sa.Column("benefit", sa.String(16), nullable=False),
        sa.Column("funder", REF, nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
    )
    op.create_index("projection_benefits_client", "projection_benefits", ["client_ref"])
    op.create_table(
        "projection_facts",
        sa.Column("client_ref", REF, primary_key=True),
        sa.Column("seq", sa.Integer(), primary_key=True),
        sa.Column("trajectory_id", ID, nullable=False, unique=True),
        sa.Column("facts_version", sa.String(8), nullable=False),
        sa.Column("funder", REF, nullable=False),
        sa.Column("provider", REF, nullable=False),
        sa.Column("contract", sa.String(32), nullable=False),
        sa.Column("definition", REF, nullable=False),
        sa.Column("fee_cents", sa.BigInteger(), nullable=False),
        sa.Column("base_fee_cents", sa.BigInteger(), nullable=False),
        sa.Column("start", DAY, nullable=False),
        sa.Column("planned_end", DAY, nullable=False),
        sa.Column("last_day", DAY, nullable=False),
        sa.Column("end_reason", sa.String(32), nullable=True),
        sa.Column("window_end", DAY, nullable=False),
        sa.Column("intake_rung", sa.Integer(), nullable=True),
        sa.Column("intake_on", DAY, nullable=True),
        sa.Column("intake_rubric", sa.String(32), nullable=True),
        sa.Column("step_up_on", DAY, nullable=True),
        sa.Column("step_up_rung", sa.Integer(), nullable=True),
        sa.Column("step_up_rubric", sa.String(32), nullable=True),
        sa.Column("highest_rung", sa.Integer(), nullable=True),
        sa.Column("benefit_start", DAY, nullable=True),
        sa.Column("benefit_kind", sa.String(16), nullable=True),
        sa.Column("benefit_from", DAY, nullable=True),
        sa.Column("regular_job_start", DAY, nullable=True),
        sa.Column("regular_job_kvk", sa.String(8), nullable=True),
        sa.Column("regular_job_provider", REF, nullable=True),
        sa.Column("awaiting_job_start", DAY, nullable=True),
        sa.Column("unattributable_job_start", DAY, nullable=True),
        sa.Column("seconded_job_start", DAY, nullable=True),
        sa.Column("placements", sa.Text(), nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "projection_refusals",
        sa.Column("log_index", BIGINT, primary_key=True, autoincrement=False),
        sa.Column("client_ref", REF, nullable=True),
        sa.Column("payload_type", sa.String(64), nullable=False),
        sa.Column("submitter", sa.String(100), nullable=False),
        sa.Column("rule", sa.String(64), nullable=False),
        sa.Column("field", sa.String(200), nullable=True),
        sa.Column("conflicting_claim", ID, nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.String(32), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("projection_refusals")
    op.drop_table("projection_facts")
    op.drop_index("projection_benefits_client", table_name="projection_benefits")
    op.drop_table("projection_benefits")
    op.drop_index("projection_claim_flags_client", table_name="projection_claim_flags")
    op.drop_table("projection_claim_flags")
    op.drop_index("projection_claims_trajectory", table_name="projection_claims")
    op.drop_index("projection_claims_client", table_name="projection_claims")
    op.drop_table("projection_claims")
    op.drop_index("projection_trajectories_funder", table_name="projection_trajectories")
    op.drop_index("projection_trajectories_provider", table_name="projection_trajectories")
    op.drop_index("projection_trajectories_client", table_name="projection_trajectories")
    op.drop_table("projection_trajectories")
    op.drop_table("projection_dossiers")
    op.drop_table("projection_cursor")
