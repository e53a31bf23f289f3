"""What wage data says about a placement claim (pure): ``claim_verification(dossier, claim_id)``.

The evidence for a claim is every ``EmploymentVerified`` / ``EmploymentNotFound`` that names
it, and every one that names no claim but its employer with a period overlapping the claimed
employment (job start through employment end, else contract end, else open). Then:

* ``verified``: verified employment at the claimed employer from the job start (at most
  ``START_GRACE_DAYS`` later: a payroll starts on a working day), no "not found" against it;
  ``verified_through`` is the last day of the unbroken verified stretch from there (verified
  periods that overlap or follow each other day by day are joined);
* ``not-found``: wage data was checked for the claimed employer and period and shows no
  income relationship, and nothing verifies it;
* ``contradicted``: the wage data disagrees with the claim: the evidence named for this claim
  shows another employer, the verified employment starts later than claimed, or a check finds
  nothing during the claimed employment beside verified employment (a shorter period);
* ``unverified``: no evidence yet.

The claim itself is never changed: this is read beside it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any, NamedTuple

from ledger.domain.dossier.state import DossierState
from projections.periods import next_day, overlaps

VERIFIED, NOT_FOUND, CONTRADICTED, UNVERIFIED = "verified", "not-found", "contradicted", "unverified"
STATUSES = (VERIFIED, NOT_FOUND, CONTRADICTED, UNVERIFIED)
START_GRACE_DAYS = 7
Record = dict[str, Any]


class Period(NamedTuple):
    """One verified period at the claimed employer: hours per week and/or the wage paid over it."""

    period_from: str
    period_to: str
    hours_per_week: int | None
    wage_cents: int | None


class ClaimVerification(NamedTuple):
    status: str
    detail: str
    verified_through: str | None  # the unbroken verified stretch from the job start ends here
    periods: tuple[Period, ...]  # every verified period at the claimed employer, by start


def _claimed_end(claim: Record) -> str | None:
    end = claim["employment_end"] or claim["contract_end"]
    return None if end is None else str(end)


def evidence_for(dossier: DossierState, claim_id: str) -> list[Record]:
    """The evidence records that concern a claim, in the order they were recorded."""
    claim = dossier.claims[claim_id]
    end = _claimed_end(claim)
    return [e for e in dossier.evidence.values()
            if e["claim_id"] == claim_id
            or (e["claim_id"] is None and e["employer_kvk"] == claim["employer_kvk"]
                and overlaps(e["period_from"], e["period_to"], claim["job_start"], end))]


def stretch_through(periods: Iterable[Period], start_by: str) -> str | None:
    """The last day of the unbroken run of periods that begins on or before ``start_by``."""
    through: str | None = None
    for period in sorted(periods):
        if through is None:
            if period.period_from > start_by:
                return None
            through = period.period_to
        elif period.period_from <= next_day(through):
            through = max(through, period.period_to)
        else:
            break
    return through


def claim_verification(dossier: DossierState, claim_id: str) -> ClaimVerification:
    claim = dossier.claims[claim_id]
    kvk, start, end = claim["employer_kvk"], claim["job_start"], _claimed_end(claim)
    records = evidence_for(dossier, claim_id)
    if not records:
        return ClaimVerification(UNVERIFIED, "no wage data recorded for this claim", None, ())
    elsewhere = [e for e in records if e["kind"] == "verified" and e["employer_kvk"] != kvk]
    periods = tuple(sorted(Period(e["period_from"], e["period_to"], e["hours_per_week"], e["wage_cents"])
                           for e in records if e["kind"] == "verified" and e["employer_kvk"] == kvk))
    missing = [e for e in records if e["kind"] == "not-found" and e["employer_kvk"] == kvk
               and overlaps(e["period_from"], e["period_to"], start, end)]
    latest_start = (date.fromisoformat(start) + timedelta(days=START_GRACE_DAYS)).isoformat()
    through = stretch_through(periods, latest_start)
    if elsewhere:
        e = elsewhere[0]
        return ClaimVerification(CONTRADICTED, f"wage data ({e['source']}) shows employer {e['employer_kvk']}, "
                                               f"not {kvk}, {e['period_from']} .. {e['period_to']}", through, periods)
    if periods and through is None:
        return ClaimVerification(CONTRADICTED, f"verified employment at {kvk} starts on {periods[0].period_from}, "
                                               f"the claim says {start}", None, periods)
    if missing and periods:
        m = missing[0]
        return ClaimVerification(CONTRADICTED, f"employment at {kvk} verified through {through}, but none found "
                                               f"{m['period_from']} .. {m['period_to']} ({m['source']})", through, periods)
    if missing:
        m = missing[0]
        return ClaimVerification(NOT_FOUND, f"no income relationship at {kvk} {m['period_from']} .. {m['period_to']} "
                                            f"({m['source']})", None, ())
    return ClaimVerification(VERIFIED, f"employment at {kvk} verified {periods[0].period_from} .. {through}",
                             through, periods)
