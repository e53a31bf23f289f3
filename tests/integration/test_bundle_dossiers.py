"""The dossiers a verified bundle hands the reports (``Verified.dossiers``, ``BundleEntries.folded``):
the verifier's own, rebuilt while it re-decided every entry, are what folding the bundle's entries
gives - for a full export and for a scoped one (its dossiers held in part left out, as its
entries leave them out) - and a report of everything recorded takes them instead of reading
``entries.jsonl`` again, so it reports what was verified even if the file changes afterwards."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ledger.bundle import layout
from ledger.bundle.source import open_verified
from ledger.verify import VerificationFailed
from projections.history import fold
from projections.replay import load_dossiers
from projections.source import FoldedSource, ListSource, iter_entries
from tests.integration.test_scoped_export import MANDATED
from tests.integration.test_scoped_export import record as record_scoped
from tests.support import exported_synthetic


@pytest.fixture
def bundle(sqlite_url: str, tmp_path: Path) -> Path:
    return exported_synthetic(sqlite_url, tmp_path / "bundle", seed=11, clients=30, batch=100)


def test_the_verifiers_dossiers_are_the_fold_of_the_entries(bundle: Path) -> None:
    with open_verified(bundle, workers=0) as opened:
        folded = fold(iter_entries(opened.entries))
        assert isinstance(opened.entries, FoldedSource) and not isinstance(ListSource(), FoldedSource)
        assert dict(opened.entries.folded()) == folded == dict(opened.verified.dossiers)
        assert opened.verified.clients == len(folded)
        # worth comparing: many dossiers, with trajectories, claims and ended trajectories in them
        assert len(folded) > 20 and sum(len(d.claims) for d in folded.values()) > 5
        assert any(t.get("ended") for d in folded.values() for t in d.trajectories.values())


def test_a_scoped_bundle_hands_out_the_dossiers_it_holds_whole(tmp_path: Path) -> None:
    scoped = record_scoped(f"sqlite:///{tmp_path}/ledger.sqlite3", tmp_path)
    try:
        with open_verified(scoped.bundle, workers=0) as opened:
            scope = opened.verified.scope
            assert scope is not None and scope.auditor == MANDATED and scope.partial
            folded = fold(iter_entries(opened.entries))  # the entries handed out leave the partial ones out
            assert dict(opened.entries.folded()) == folded and folded
            assert not folded.keys() & scope.partial.keys()
            assert opened.verified.clients == len(folded)
    finally:
        scoped.ledger.close()


def test_a_report_of_everything_recorded_is_of_what_was_verified(bundle: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(bundle, copy)
    with open_verified(copy, workers=0) as opened:
        verified = fold(iter_entries(opened.entries))
        lines = (copy / layout.ENTRIES).read_bytes().splitlines(keepends=True)
        (copy / layout.ENTRIES).write_bytes(b"".join(lines[:-1]))  # changed after the checklist ran
        assert dict(load_dossiers(opened.entries, None, None)) == verified  # not read again
        with pytest.raises(VerificationFailed) as failed:  # a cut-off reads the entries: the change is caught
            load_dossiers(opened.entries, None, "2999-12-31T23:59:59.999999Z")
        assert (failed.value.step, failed.value.rule) == (7, "manifest.digest")
