"""Random but well-formed submission sequences, for the property tests.

``propose`` draws one signed-to-be submission (submitter, payload) for a client, mostly
plausible, sometimes against the rules so that refusals occur. ``Simulation`` decides
each with the ledger's own pure rules (no database, no signatures) and keeps the entry
bodies as the ledger would record them; a real ``Ledger`` can take the same proposals.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import strategies as st

from ledger.domain.dossier.rules import Context, decide
from ledger.domain.dossier.state import DossierState, evolve
from ledger.domain.entry import ACCEPTED, REFUSED, entry_body, recording_date
from ledger.domain.errors import Refusal
from ledger.domain.payloads import BENEFITS, END_REASONS, validate_payload
from projections.source import ListSource

FUNDERS = ("gemeente-haarlem", "uwv")
PROVIDERS = ("werkfit", "jobstap")
ROLES = {**{f: "funder" for f in FUNDERS}, **{p: "provider" for p in PROVIDERS}, "operator": "operator"}
BASE = date(2023, 1, 1)
KVKS = ("12345678", "87654321")
CLOCK_START = datetime(2025, 12, 1, 9, 0, tzinfo=UTC)


def client_refs(count: int) -> list[str]:
    return [hashlib.sha256(f"client-{i}".encode()).hexdigest() for i in range(count)]


def _day(offset: int) -> str:
    return (BASE + timedelta(days=offset)).isoformat()


def _offset(text: str) -> int:
    return (date.fromisoformat(text) - BASE).days


def propose(data: st.DataObject, state: DossierState, client: str) -> tuple[str, dict[str, Any]]:
    """One well-formed submission for ``client`` given what its dossier holds."""
    draw = data.draw
    trajectories, claims, benefits = list(state.trajectories), list(state.claims), list(state.benefits)
    kinds = ["TrajectoryCommissioned", "BenefitStarted"]
    if trajectories:
        kinds += ["IntakeCompleted", "LadderRungAssessed", "ActivityRecorded", "PlacementClaimed", "PlacementClaimed",
                  "TrajectoryEnded", "TrajectoryExtended", "AftercareContact"]
    if claims:
        kinds += ["PlacementConfirmed", "PlacementConfirmed", "PlacementRejected", "PlacementWithdrawn",
                  "EmploymentEnded", "PlacementContested"]
    if benefits:
        kinds += ["BenefitEnded"]
    kind = draw(st.sampled_from(kinds))
    fields: dict[str, Any] = {}
    occurred = draw(st.integers(0, 900))
    submitter = draw(st.sampled_from(FUNDERS + PROVIDERS))

    def uid() -> str:
        return str(draw(st.uuids(version=4)))

    def pick(ids: list[str]) -> str:
        return draw(st.sampled_from(ids))

    if kind == "TrajectoryCommissioned":
        start = draw(st.integers(0, 700))
        contract = draw(st.sampled_from(["no-cure-no-pay", "no-cure-less-pay"]))
        submitter = draw(st.sampled_from(FUNDERS))
        fields = dict(trajectory_id=uid(), provider=draw(st.sampled_from(PROVIDERS)), start=_day(start),
                      planned_end=_day(start + draw(st.integers(30, 365))),
                      definition=draw(st.sampled_from(["six-month-rule", "ladder-step", "composite-2009",
                                                       "contract-6m", "voluntary-stop"])),
                      contract=contract, fee_cents=draw(st.sampled_from([100000, 250000])),
                      base_fee_cents=draw(st.sampled_from([0, 50000])))
        occurred = start
    elif kind in ("IntakeCompleted", "LadderRungAssessed", "ActivityRecorded", "AftercareContact",
                  "TrajectoryEnded", "TrajectoryExtended", "PlacementClaimed"):
        tid = pick(trajectories)
        t = state.trajectories[tid]
        if kind != "TrajectoryExtended" and draw(st.integers(0, 4)) > 0:
            submitter = t["provider"]
        start, end = _offset(t["start"]), _offset(state.period_end(t))
        occurred = draw(st.integers(start, end + 10))
        fields = {"trajectory_id": tid}
        if kind in ("IntakeCompleted", "LadderRungAssessed"):
            fields.update(rung=draw(st.integers(1, 6)), rubric_version="2009")
            if kind == "LadderRungAssessed":
                fields["assessor"] = "consulent-1"
        elif kind == "ActivityRecorded":
            fields["instrument"] = draw(st.sampled_from([3, 12, 27, 28, 29, 30, 34]))
        elif kind == "TrajectoryEnded":
            fields.update(reason=draw(st.sampled_from(END_REASONS)), end=_day(occurred))
        elif kind == "TrajectoryExtended":
            submitter = t["funder"]
            fields["planned_end"] = _day(_offset(t["planned_end"]) + draw(st.integers(-5, 120)))
        elif kind == "PlacementClaimed":
            job = draw(st.integers(start, end + 5))
            contract_end = draw(st.one_of(st.none(), st.integers(20, 400)))
            fields.update(claim_id=uid(), employer_kvk=draw(st.sampled_from(KVKS)),
                          application_date=_day(job - draw(st.integers(0, 120))), job_start=_day(job),
                          contract_end=None if contract_end is None else _day(job + contract_end),
                          hours_per_week=32, secondment_via_provider=draw(st.booleans()),
                          evidence_sha256="ab" * 32)
            occurred = job
    elif kind in ("PlacementConfirmed", "PlacementRejected", "PlacementWithdrawn", "EmploymentEnded",
                  "PlacementContested"):
        cid = pick(claims)
        c = state.claims[cid]
        fields = {"claim_id": cid}
        occurred = _offset(c["job_start"]) + draw(st.integers(0, 200))
        if kind in ("PlacementConfirmed", "PlacementRejected") and draw(st.integers(0, 4)) > 0:
            submitter = c["funder"]
        if kind == "PlacementRejected":
            fields["reason"] = "no-evidence"
        if kind == "PlacementContested":
            fields["reason"] = "found-herself"
        if kind == "PlacementWithdrawn":
            submitter = c["provider"]
        if kind == "EmploymentEnded":
            fields["end"] = _day(occurred)
    elif kind == "BenefitStarted":
        submitter = draw(st.sampled_from(FUNDERS))
        fields = dict(benefit_id=uid(), benefit=draw(st.sampled_from(BENEFITS)), start=_day(occurred))
    elif kind == "BenefitEnded":
        bid = pick(benefits)
        b = state.benefits[bid]
        submitter = b["funder"]
        occurred = _offset(b["start"]) + draw(st.integers(0, 300))
        fields = dict(benefit_id=bid, end=_day(occurred))
    payload = {"envelope_id": str(uuid.uuid4()), "type": kind, "occurred_on": _day(occurred), "client_ref": client,
               **fields}
    return submitter, validate_payload(payload)


class Simulation:
    """Decides proposals with the ledger's pure rules and records entry bodies in order."""

    def __init__(self, clients: int = 3) -> None:
        self.refs = client_refs(clients)
        self.states = {ref: DossierState() for ref in self.refs}
        self.source = ListSource()
        self._tick = 0
        self._registry_entry()

    def recorded_at(self) -> str:
        self._tick += 1
        return (CLOCK_START + timedelta(minutes=7 * self._tick)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    def _registry_entry(self) -> None:
        payload = {"envelope_id": str(uuid.uuid4()), "type": "PartyRegistered", "occurred_on": "2025-12-01",
                   "party_id": "operator", "role": "operator", "public_key": "A" * 43 + "="}
        self.source.append(entry_body(self._envelope(payload, "operator"), ACCEPTED, None, self.recorded_at()))

    @staticmethod
    def _envelope(payload: dict[str, Any], submitter: str) -> dict[str, Any]:
        return {"payload": payload, "submitter": submitter, "key_id": "ed25519:" + "0" * 16, "signature": "A" * 88}

    def submit(self, submitter: str, payload: dict[str, Any]) -> dict[str, Any]:
        recorded_at = self.recorded_at()
        state = self.states[payload["client_ref"]]
        context = Context(submitter, ROLES[submitter], recording_date(recorded_at), ROLES.get)
        verdict, refusal = ACCEPTED, None
        try:
            decide(state, payload, context)
        except Refusal as exc:
            verdict, refusal = REFUSED, exc.as_dict()
        if verdict == ACCEPTED:
            evolve(state, payload, submitter, recorded_at)
        body = entry_body(self._envelope(payload, submitter), verdict, refusal, recorded_at)
        self.source.append(body)
        return body

    def step(self, data: st.DataObject) -> dict[str, Any]:
        client = data.draw(st.sampled_from(self.refs))
        return self.submit(*propose(data, self.states[client], client))
