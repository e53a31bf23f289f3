"""The read-model tables (created by ``migrations/versions/0002_projections.py``).

Every table is derived from the entry sequence and can be rebuilt from scratch.
``projection_cursor`` holds the last log index applied, written in the same transaction
as the rows it accounts for: that is what makes applying exactly-once.
Dates are SQL dates; ``projection_dossiers.state`` is the dossier as JSON (the same
plain data ``ledger.domain.dossier.state.DossierState`` holds).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

BIGINT = BigInteger().with_variant(Integer(), "sqlite")
REF = String(64)  # client_ref (64 hex) and party ids (tokens of at most 64)
ID = String(36)  # UUIDs

projection_cursor = Table(
    "projection_cursor",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("last_log_index", BIGINT, nullable=False),  # -1: nothing applied yet
)

projection_dossiers = Table(
    "projection_dossiers",
    metadata,
    Column("client_ref", REF, primary_key=True),
    Column("state", Text(), nullable=False),
    Column("last_log_index", BIGINT, nullable=False),
)

projection_trajectories = Table(
    "projection_trajectories",
    metadata,
    Column("trajectory_id", ID, primary_key=True),
    Column("client_ref", REF, nullable=False),
    Column("funder", REF, nullable=False),
    Column("provider", REF, nullable=False),
    Column("start", Date(), nullable=False),
    Column("planned_end", Date(), nullable=False),
    Column("end_date", Date(), nullable=True),
    Column("end_reason", String(32), nullable=True),
    Column("cohort", Integer(), nullable=False),
    Column("definition", REF, nullable=False),
    Column("contract", String(32), nullable=False),
    Column("fee_cents", BigInteger(), nullable=False),
    Column("base_fee_cents", BigInteger(), nullable=False),
    Column("intake_rung", Integer(), nullable=True),
    Column("highest_rung", Integer(), nullable=True),
    Column("commissioned_on", Date(), nullable=False),
    Index("projection_trajectories_client", "client_ref"),
    Index("projection_trajectories_provider", "provider"),
    Index("projection_trajectories_funder", "funder"),
)

projection_claims = Table(
    "projection_claims",
    metadata,
    Column("claim_id", ID, primary_key=True),
    Column("trajectory_id", ID, nullable=False),
    Column("client_ref", REF, nullable=False),
    Column("funder", REF, nullable=False),
    Column("provider", REF, nullable=False),
    Column("employer_kvk", String(8), nullable=False),
    Column("application_date", Date(), nullable=False),
    Column("job_start", Date(), nullable=False),
    Column("contract_end", Date(), nullable=True),
    Column("employment_end", Date(), nullable=True),
    Column("hours_per_week", Integer(), nullable=False),
    Column("secondment_via_provider", Boolean(), nullable=False),
    Column("status", String(16), nullable=False),
    Column("attributable", Boolean(), nullable=False),
    Index("projection_claims_client", "client_ref"),
    Index("projection_claims_trajectory", "trajectory_id"),
)

projection_claim_flags = Table(
    "projection_claim_flags",
    metadata,
    Column("claim_id", ID, primary_key=True),
    Column("flag", String(64), primary_key=True),
    Column("client_ref", REF, nullable=False),
    Column("trajectory_id", ID, nullable=False),
    Column("funder", REF, nullable=False),
    Column("provider", REF, nullable=False),
    Column("detail", Text(), nullable=False),
    Index("projection_claim_flags_client", "client_ref"),
)

projection_benefits = Table(
    "projection_benefits",
    metadata,
    Column("benefit_id", ID, primary_key=True),
    Column("client_ref", REF, nullable=False),
    Column("benefit", String(16), nullable=False),
    Column("funder", REF, nullable=False),
    Column("start", Date(), nullable=False),
    Column("end_date", Date(), nullable=True),
    Index("projection_benefits_client", "client_ref"),
)

projection_refusals = Table(
    "projection_refusals",
    metadata,
    Column("log_index", BIGINT, primary_key=True, autoincrement=False),
    Column("client_ref", REF, nullable=True),  # None for registry submissions
    Column("payload_type", String(64), nullable=False),
    Column("submitter", String(100), nullable=False),
    Column("rule", String(64), nullable=False),
    Column("field", String(200), nullable=True),
    Column("conflicting_claim", ID, nullable=True),
    Column("detail", Text(), nullable=False),
    Column("recorded_at", String(32), nullable=False),
)

FACT_DATE = String(10)  # ISO dates as text: read back without conversion, compared as text

# What the built-in definitions need per trajectory (``TrajectoryFacts``), so that judging
# every trajectory reads one compact row each instead of a whole dossier. Not meant for
# people: use projection_trajectories / _claims / _benefits for queries.
# Keyed (and on SQLite stored, WITHOUT ROWID) in the order judging reads it.
projection_facts = Table(
    "projection_facts",
    metadata,
    Column("client_ref", REF, primary_key=True),
    Column("seq", Integer(), primary_key=True),  # the trajectory's place in its dossier
    Column("trajectory_id", ID, nullable=False, unique=True),
    Column("facts_version", String(8), nullable=False),
    Column("funder", REF, nullable=False),
    Column("provider", REF, nullable=False),
    Column("contract", String(32), nullable=False),
    Column("definition", REF, nullable=False),
    Column("fee_cents", BigInteger(), nullable=False),
    Column("base_fee_cents", BigInteger(), nullable=False),
    Column("start", FACT_DATE, nullable=False),
    Column("planned_end", FACT_DATE, nullable=False),
    Column("last_day", FACT_DATE, nullable=False),
    Column("end_reason", String(32), nullable=True),
    Column("window_end", FACT_DATE, nullable=False),
    Column("intake_rung", Integer(), nullable=True),
    Column("intake_on", FACT_DATE, nullable=True),
    Column("intake_rubric", String(32), nullable=True),
    Column("step_up_on", FACT_DATE, nullable=True),
    Column("step_up_rung", Integer(), nullable=True),
    Column("step_up_rubric", String(32), nullable=True),
    Column("highest_rung", Integer(), nullable=True),
    Column("benefit_start", FACT_DATE, nullable=True),
    Column("benefit_kind", String(16), nullable=True),
    Column("benefit_from", FACT_DATE, nullable=True),
    Column("regular_job_start", FACT_DATE, nullable=True),
    Column("regular_job_kvk", String(8), nullable=True),
    Column("regular_job_provider", REF, nullable=True),
    Column("awaiting_job_start", FACT_DATE, nullable=True),
    Column("unattributable_job_start", FACT_DATE, nullable=True),
    Column("seconded_job_start", FACT_DATE, nullable=True),
    Column("placements", Text(), nullable=False),  # JSON: a list of Placement fields, in order
    sqlite_with_rowid=False,
)

PER_CLIENT = (projection_trajectories, projection_facts, projection_claims, projection_claim_flags, projection_benefits)
ALL = (projection_dossiers, *PER_CLIENT, projection_refusals)
