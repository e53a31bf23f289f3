"""The incentive indicators over what the caller may see (``api.access``): the trajectories of
the funders and providers it sees, the benefits it may see, the wage evidence of those funders.
For the operator, exactly what ``trajectledger indicators`` prints (issue 16)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date
from typing import Any

from api.access import AUDITOR, Caller
from api.errors import Forbidden
from ledger.application import Ledger
from ledger.domain.dossier.state import DossierState
from ledger.domain.entry import now_utc, recording_date
from projections.history import known_at_day
from projections.indicators.report import NCLP, NCNP, indicators, indicators_document
from projections.replay import load_dossiers


def scoped(dossiers: Iterable[tuple[str, DossierState]], caller: Caller) -> Iterator[tuple[str, DossierState]]:
    for client, d in dossiers:
        if caller.sees_all:
            yield client, d
            continue
        trajectories = {k: t for k, t in d.trajectories.items() if caller.sees(t["funder"], t["provider"])}
        if not trajectories:
            continue
        yield client, DossierState(
            trajectories=trajectories, claims={k: c for k, c in d.claims.items() if c["trajectory_id"] in trajectories},
            benefits={k: b for k, b in d.benefits.items() if caller.sees_benefit(b["funder"])},
            evidence={k: e for k, e in d.evidence.items() if caller.sees_benefit(e["by"])})


def indicator_page(ledger: Ledger, caller: Caller, group_by: str, peildatum: date | None, as_known_at: str | None,
                   weeks: int) -> dict[str, Any]:
    if caller.role == AUDITOR and not caller.audits:
        raise Forbidden("this auditor has no audit mandate for any funder", rule="audit.no-mandate")
    if peildatum is None:
        peildatum = known_at_day(as_known_at) if as_known_at else recording_date(now_utc())
    result = indicators(scoped(load_dossiers(ledger, ledger.engine, as_known_at), caller), group_by, peildatum, weeks)
    document = indicators_document(result, as_known_at)
    return {"peildatum": result.peildatum, "as_known_at": as_known_at, "group_by": group_by,
            "parking_weeks": weeks, "comparison": [
                {**{k: v for k, v in c.items() if k not in (NCNP, NCLP)}, "no_cure_no_pay": c[NCNP], "no_cure_less_pay": c[NCLP]}
                for c in document["comparison"]],
            "rows": document["measures"]}
