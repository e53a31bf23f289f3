"""The population an audit samples from, and the sample as a document (pure).

``population(dossiers, kind, strata)``: the elements as of the checkpoint - ``claims``: every
confirmed placement claim (what a funder pays for); ``trajectories``: every commissioned
trajectory - each with its stratum (its ``provider``, its ``funder``, or its ``contract``
type) and what an auditor needs to find it. ``sample_document`` writes the draw with its
seed, method and population per stratum; ``audit-result`` reads it back with ``read_sample``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from ledger.domain.dossier.state import DossierState
from projections.errors import ProjectionError
from projections.sampling import DRAW_METHOD, DRAW_METHOD_TEXT, Element, StratumDraw, draw
from projections.source import Entry, EntrySource, iter_entries
from projections.verification import claim_verification

FORMAT = "trajectledger-sample/1"
POPULATIONS = ("claims", "trajectories")
STRATA = ("provider", "funder", "contract")


class InvalidSample(ProjectionError):
    """A sample file that is not one ``sample --format json`` wrote, or that does not redraw the same."""

    rule = "sample.file"


@dataclass(frozen=True)
class Member:
    element_id: str  # a claim_id or a trajectory_id
    client_ref: str
    trajectory_id: str
    provider: str
    funder: str
    contract: str
    fee_cents: int  # the success fee of the trajectory's contract: the payment at stake
    verification: str  # what wage data says (claims), "-" for trajectories

    def stratum(self, by: str) -> str:
        if by not in STRATA:
            raise ValueError(f"strata are one of {', '.join(STRATA)}, not {by!r}")
        return str(getattr(self, by))


def population(dossiers: Iterable[tuple[str, DossierState]], kind: str) -> list[Member]:
    if kind not in POPULATIONS:
        raise ValueError(f"the population is one of {', '.join(POPULATIONS)}, not {kind!r}")
    members = []
    for client, dossier in dossiers:
        if kind == "trajectories":
            members += [Member(tid, client, tid, t["provider"], t["funder"], t["contract"], t["fee_cents"], "-")
                        for tid, t in dossier.trajectories.items()]
            continue
        for claim_id, c in dossier.claims.items():
            if c["status"] != "confirmed":
                continue
            t = dossier.trajectories[c["trajectory_id"]]
            members.append(Member(claim_id, client, c["trajectory_id"], c["provider"], c["funder"], t["contract"],
                                  t["fee_cents"], claim_verification(dossier, claim_id).status))
    return members


def elements(members: Sequence[Member], strata: str) -> list[Element]:
    return [Element(m.element_id, m.stratum(strata)) for m in members]


SAMPLE_COLUMNS = ("stratum", "rank", "element_id", "client_ref", "trajectory_id", "provider", "funder", "contract",
                  "fee_cents", "verification")


def sample_rows(draws: Sequence[StratumDraw], members: Sequence[Member]) -> list[dict[str, Any]]:
    by_id = {m.element_id: m for m in members}
    rows = []
    for d in draws:
        for rank, element_id in enumerate(d.chosen, start=1):
            m = by_id[element_id]
            rows.append({"stratum": d.stratum, "rank": rank, "element_id": element_id, "client_ref": m.client_ref,
                         "trajectory_id": m.trajectory_id, "provider": m.provider, "funder": m.funder,
                         "contract": m.contract, "fee_cents": m.fee_cents, "verification": m.verification})
    return rows


def sample_document(*, seed: bytes, origin: str, tree_size: int, note: str, kind: str, strata: str, size: int,
                    minimum: int, as_known_at: str | None, draws: Sequence[StratumDraw],
                    members: Sequence[Member]) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "seed": seed.hex(),
        "checkpoint": {"origin": origin, "tree_size": tree_size, "root_hash": seed.hex(), "note": note},
        "method": DRAW_METHOD, "method_text": DRAW_METHOD_TEXT,
        "population": kind, "strata": strata, "size": size, "minimum_per_stratum": minimum,
        "as_known_at": as_known_at,
        "population_size": sum(d.population for d in draws),
        "allocation": [{"stratum": d.stratum, "population": d.population, "allocated": d.allocated} for d in draws],
        "sample": sample_rows(draws, members),
    }


_REQUIRED = {"format": str, "seed": str, "checkpoint": dict, "method": str, "population": str, "strata": str,
             "size": int, "minimum_per_stratum": int, "allocation": list, "sample": list}


def read_sample(document: Any) -> dict[str, Any]:
    """The sample document, its shape checked (``InvalidSample`` naming the field otherwise)."""
    if not isinstance(document, dict):
        raise InvalidSample("a sample file is the JSON object 'sample --format json' writes", field="sample")
    for name, kind in _REQUIRED.items():
        if not isinstance(document.get(name), kind):
            raise InvalidSample(f"expected {kind.__name__}", field=f"sample.{name}")
    if document["format"] != FORMAT or document["method"] != DRAW_METHOD:
        raise InvalidSample(f"expected format {FORMAT} drawn by {DRAW_METHOD}", field="sample.format")
    if document["population"] not in POPULATIONS or document["strata"] not in STRATA:
        raise InvalidSample("unknown population or strata", field="sample.population")
    if not isinstance(document["checkpoint"].get("note"), str):
        raise InvalidSample("the checkpoint's signed note is missing", field="sample.checkpoint.note")
    if document["as_known_at"] is not None and not isinstance(document["as_known_at"], str):
        raise InvalidSample("expected a cut-off or null", field="sample.as_known_at")
    return document


def draw_sample(dossiers: Iterable[tuple[str, DossierState]], *, seed: bytes, origin: str, tree_size: int, note: str,
                kind: str, strata: str, size: int, minimum: int, as_known_at: str | None,
                keep: Callable[[Member], bool] = lambda member: True) -> dict[str, Any]:
    """The sample document of the dossiers as of a checkpoint (its root hash the ``seed``);
    ``keep`` narrows the population (an API caller's scope)."""
    members = [m for m in population(dossiers, kind) if keep(m)]
    draws = draw(seed, elements(members, strata), size, minimum)
    return sample_document(seed=seed, origin=origin, tree_size=tree_size, note=note, kind=kind, strata=strata,
                           size=size, minimum=minimum, as_known_at=as_known_at, draws=draws, members=members)


_SEVERITY = {"not-upheld": 2, "unverifiable": 1, "upheld": 0}


def latest_findings(dossiers: dict[str, DossierState]) -> dict[str, dict[str, Any]]:
    """Each claim's latest audit finding, by claim_id (findings are kept in log order)."""
    latest: dict[str, dict[str, Any]] = {}
    for dossier in dossiers.values():
        for finding in dossier.findings.values():
            latest[finding["claim_id"]] = finding
    return latest


def finding_of(row: dict[str, Any], kind: str, dossiers: dict[str, DossierState],
               findings: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    """The finding on a sampled element: a claim's latest; a trajectory's, its claims' worst."""
    if kind == "claims":
        return findings.get(row["element_id"])
    dossier = dossiers.get(row["client_ref"])
    found = [] if dossier is None else [findings[cid] for cid, c in dossier.claims.items()
                                        if c["trajectory_id"] == row["trajectory_id"] and cid in findings]
    return max(found, key=lambda f: _SEVERITY[f["outcome"]], default=None)


def entries_through(source: EntrySource, tree_size: int) -> Iterator[Entry]:
    """The entries of the log as of a checkpoint: log indexes below its tree size."""
    for index, body in iter_entries(source):
        if index >= tree_size:
            return
        yield index, body
