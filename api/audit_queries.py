"""The audit sample as the API serves it (issue 15): drawn from the ledger as of a stored
checkpoint, exactly as ``trajectledger sample`` draws it from an export, with each sampled
element's latest audit finding beside it.

The population is what the caller may see (``api.access``): for the operator, and for an
auditor whose mandate covers every funder, the same sample as the command line's on a full
export; for a funder or an auditor of some funders, the draw over their part only. Only a
stored checkpoint seeds a sample: a read never signs a new one.
"""

from __future__ import annotations

from typing import Any

from api.access import AUDITOR, Caller
from api.errors import Forbidden, NotVisible
from ledger.application import Ledger
from ledger.verify.checkpoints import note_body
from projections.audit_sample import draw_sample, entries_through, finding_of, latest_findings
from projections.history import fold
from projections.replay import load_dossiers

FINDING_FIELDS = ("outcome", "reason", "evidence_sha256", "by", "on")


def audit_sample(ledger: Ledger, caller: Caller, tree_size: int, size: int, strata: str, population: str,
                 minimum: int) -> dict[str, Any]:
    if caller.role == AUDITOR and not caller.audits:
        raise Forbidden("this auditor has no audit mandate for any funder", rule="audit.no-mandate")
    stored = ledger.transparency.stored(tree_size)
    if stored is None:
        raise NotVisible(f"no stored checkpoint of tree size {tree_size}: name one GET /log/checkpoints lists",
                         field="treeSize")
    checkpoint = note_body(stored.note)
    as_of = sorted(fold(entries_through(ledger, tree_size)).items())
    document = draw_sample(as_of, seed=stored.root_hash, origin=checkpoint.origin, tree_size=tree_size,
                           note=stored.note.decode("utf-8"), kind=population, strata=strata, size=size,
                           minimum=minimum, as_known_at=None, keep=lambda m: caller.sees(m.funder, m.provider))
    now = dict(load_dossiers(ledger, ledger.engine, None))
    findings = latest_findings(now)
    items = []
    for row in document["sample"]:
        found = finding_of(row, population, now, findings)
        items.append({**row, "finding": None if found is None else {k: found[k] for k in FINDING_FIELDS}})
    return {"seed": document["seed"], "tree_size": tree_size, "origin": checkpoint.origin,
            "checkpoint_note": document["checkpoint"]["note"], "method": document["method"],
            "method_text": document["method_text"], "population": population, "strata": strata, "size": size,
            "minimum_per_stratum": minimum, "population_size": document["population_size"],
            "allocation": document["allocation"], "items": items}
