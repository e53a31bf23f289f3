"""A dossier as read-model rows (pure): what ``read_models`` writes for one client."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from ledger.domain.dossier.state import DossierState
from projections.definitions.facts import FACTS_VERSION, Placement, TrajectoryFacts, attributable, trajectory_facts
from projections.flags import claim_flags
from projections.verification import Period

Row = dict[str, Any]


def _date(text: str | None) -> date | None:
    return None if text is None else date.fromisoformat(text)


def dossier_json(dossier: DossierState) -> str:
    """Compact JSON in the dossier's own order (log order), which json.loads keeps.
    The state is plain JSON data already, so it is encoded as it is (no deep copy)."""
    return json.dumps(
        {"trajectories": dossier.trajectories, "claims": dossier.claims, "benefits": dossier.benefits,
         "evidence": dossier.evidence, "findings": dossier.findings},
        separators=(",", ":"),
    )


def dossier_from_json(text: str) -> DossierState:
    data = json.loads(text)
    return DossierState(data["trajectories"], data["claims"], data["benefits"],
                        data.get("evidence", {}), data.get("findings", {}))


def trajectory_rows(client: str, dossier: DossierState) -> list[Row]:
    rows = []
    for trajectory_id, t in dossier.trajectories.items():
        end = dossier.period_end(t)
        during = [a["rung"] for a in t["assessments"] if t["start"] <= a["on"] <= end]
        intake = t["intake"]
        rungs = during + ([intake["rung"]] if intake else [])
        rows.append({
            "trajectory_id": trajectory_id, "client_ref": client, "funder": t["funder"], "provider": t["provider"],
            "start": _date(t["start"]), "planned_end": _date(t["planned_end"]),
            "end_date": _date(t["ended"]["end"]) if t["ended"] else None,
            "end_reason": t["ended"]["reason"] if t["ended"] else None,
            "cohort": int(t["start"][:4]), "definition": t["definition"], "contract": t["contract"],
            "fee_cents": t["fee_cents"], "base_fee_cents": t["base_fee_cents"],
            "intake_rung": intake["rung"] if intake else None, "highest_rung": max(rungs, default=None),
            "commissioned_on": _date(t["commissioned_on"]),
        })
    return rows


def claim_rows(client: str, dossier: DossierState) -> list[Row]:
    return [
        {
            "claim_id": claim_id, "trajectory_id": c["trajectory_id"], "client_ref": client, "funder": c["funder"],
            "provider": c["provider"], "employer_kvk": c["employer_kvk"],
            "application_date": _date(c["application_date"]), "job_start": _date(c["job_start"]),
            "contract_end": _date(c["contract_end"]), "employment_end": _date(c["employment_end"]),
            "hours_per_week": c["hours_per_week"], "secondment_via_provider": c["secondment_via_provider"],
            "status": c["status"], "attributable": attributable(c, dossier.trajectories[c["trajectory_id"]]),
        }
        for claim_id, c in dossier.claims.items()
    ]


def flag_rows(client: str, dossier: DossierState) -> list[Row]:
    return [
        {"claim_id": claim_id, "flag": flag.name, "client_ref": client, "trajectory_id": c["trajectory_id"],
         "funder": c["funder"], "provider": c["provider"], "detail": flag.detail}
        for claim_id, c in dossier.claims.items()
        for flag in claim_flags(dossier, claim_id)
    ]


def benefit_rows(client: str, dossier: DossierState) -> list[Row]:
    return [
        {"benefit_id": benefit_id, "client_ref": client, "benefit": b["benefit"], "funder": b["funder"],
         "start": _date(b["start"]), "end_date": _date(b["end"])}
        for benefit_id, b in dossier.benefits.items()
    ]


def refusal_row(log_index: int, body: dict[str, Any]) -> Row:
    payload, refusal = body["envelope"]["payload"], body["refusal"] or {}
    return {
        "log_index": log_index, "client_ref": payload.get("client_ref"), "payload_type": payload["type"],
        "submitter": body["envelope"]["submitter"], "rule": refusal.get("rule", ""), "field": refusal.get("field"),
        "conflicting_claim": refusal.get("conflicting_claim"), "detail": refusal.get("detail", ""),
        "recorded_at": body["recorded_at"],
    }


# TrajectoryFacts fields in order, as projection_facts columns ("end" is "last_day" there)
FACT_COLUMNS = tuple("last_day" if name == "end" else name for name in TrajectoryFacts._fields)


def facts_rows(client: str, dossier: DossierState) -> list[Row]:
    rows = []
    for seq, (trajectory_id, t) in enumerate(dossier.trajectories.items()):
        facts = trajectory_facts(dossier, trajectory_id)
        row: Row = dict(zip(FACT_COLUMNS, facts, strict=True))
        row.update(client_ref=client, seq=seq, facts_version=FACTS_VERSION, funder=t["funder"],
                   contract=t["contract"], definition=t["definition"], fee_cents=t["fee_cents"],
                   base_fee_cents=t["base_fee_cents"], placements=json.dumps([list(p) for p in facts.placements]))
        rows.append(row)
    return rows


_NO_PLACEMENTS = ((),)
_PLACEMENTS = len(FACT_COLUMNS) - 1  # the placements column (JSON) is the facts' last
_new = tuple.__new__


def _placement(fields: list[Any]) -> Placement:
    """A placement from its JSON list; its verified periods (the last field) back as ``Period`` tuples."""
    if fields[-1]:
        fields[-1] = tuple(Period._make(p) for p in fields[-1])
    else:
        fields[-1] = ()
    return Placement._make(fields)


def facts_from_row(row: Any) -> TrajectoryFacts:
    """The facts from a row (a tuple, or a SQLAlchemy Row, whose slices are tuples) that
    starts with the FACT_COLUMNS; more columns may follow.
    This is the hot path of judging every trajectory: a few tuple copies, nothing more."""
    placements = row[_PLACEMENTS]
    last = _NO_PLACEMENTS if placements == "[]" else (tuple(_placement(p) for p in json.loads(placements)),)
    return _new(TrajectoryFacts, row[:_PLACEMENTS] + last)
