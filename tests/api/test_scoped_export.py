"""``GET /v1/log/export`` as a mandated auditor: the bundle is scoped to its mandate (the
entries of the funders it audits and the registry in full, every other entry as its leaf
hash), verifies offline, and holds what the same auditor reads through the API - no more.
The operator's download is the whole log, as before."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path
from typing import Any

from ledger.bundle import layout
from ledger.bundle.archive import bundle_directory
from ledger.domain.payloads import REGISTRY_TYPES
from ledger.verify import Verified, verify_bundle
from tests.api.support import AUDITOR, HAARLEM, ApiWorld, Story


def download(world: ApiWorld, party: str, target: Path) -> tuple[Verified, dict[str, bytes]]:
    archive = world.client(party).download_export(target)
    verifier_key = world.http().get("/v1/ledger-key").json()["checkpoint_verifier_key"]
    with bundle_directory(archive) as directory:
        verified = verify_bundle(directory, trusted_key=verifier_key, workers=0)
    with tarfile.open(archive) as tar:
        members = {m.name.rsplit("/", 1)[-1]: tar.extractfile(m).read()  # type: ignore[union-attr]
                   for m in tar if m.isfile()}
    return verified, members


def held(members: dict[str, bytes]) -> list[dict[str, Any]]:
    return [json.loads(line)["envelope"] for line in members[layout.ENTRIES].splitlines()
            if line.startswith(layout.HELD_LINE)]


def test_a_mandated_auditor_downloads_an_export_scoped_to_its_mandate(world: ApiWorld, story: Story,
                                                                      tmp_path: Path) -> None:
    size = world.http().get("/v1/health").json()["log_size"]
    verified, members = download(world, AUDITOR, tmp_path / "export.tar.gz")
    assert verified.tree_size == size and verified.scope is not None
    scope = verified.scope
    assert (scope.auditor, scope.funders) == (AUDITOR, [HAARLEM])
    # UWV's trajectory and jobstap's refused double claim on it are withheld: the dossier is partial
    assert scope.withheld_entries == 2 and dict(scope.partial[story.client_ref].reasons) == {"outside-mandate": 2}
    assert verified.clients == 0
    registry_lines = members[layout.REGISTRY].splitlines()
    assert all(json.loads(line)["envelope"]["payload"]["type"] in REGISTRY_TYPES for line in registry_lines)
    rest = b"\n".join(line for name, data in members.items() if name != layout.REGISTRY
                      for line in data.splitlines() if line not in registry_lines)
    for party in ("uwv", "jobstap"):
        assert f'"{party}"'.encode() not in rest
    everything = b"".join(members.values())
    for withheld_id in (story.uwv_trajectory, story.jobstap_claim):
        assert withheld_id.encode() not in everything


def test_the_scoped_export_holds_what_the_auditor_reads_through_the_api(world: ApiWorld, story: Story,
                                                                       tmp_path: Path) -> None:
    _, members = download(world, AUDITOR, tmp_path / "export.tar.gz")
    payloads = [envelope["payload"] for envelope in held(members)]

    def read(kind: str, key: str) -> set[str]:
        response = world.signed(AUDITOR, "GET", f"/dossiers/{story.client_ref}/{kind}")
        assert response.status_code == 200
        return {item[key] for item in response.json()["items"]}

    assert {p["trajectory_id"] for p in payloads if p["type"] == "TrajectoryCommissioned"} \
        == read("trajectories", "trajectory_id") == {story.haarlem_trajectory}
    assert {p["claim_id"] for p in payloads if p["type"] == "PlacementClaimed"} == read("claims", "claim_id")
    assert {p["benefit_id"] for p in payloads if p["type"] == "BenefitStarted"} == read("benefits", "benefit_id")


def test_the_operators_export_is_the_whole_log(world: ApiWorld, story: Story, tmp_path: Path) -> None:
    verified, members = download(world, "operator", tmp_path / "export.tar.gz")
    assert verified.scope is None and verified.clients == 1
    assert json.loads(members[layout.MANIFEST])["format"] == layout.FORMAT
    assert len(held(members)) == verified.tree_size
