"""The dossiers a runner keeps between its batches: valid only at the log index they were stored at."""

from __future__ import annotations

from ledger.domain.dossier.state import DossierState
from projections.kept_dossiers import KeptDossiers


def dossier(name: str) -> DossierState:
    return DossierState(benefits={name: {"benefit": "WWB"}})


def test_a_batch_takes_out_what_was_kept_at_the_position_it_follows() -> None:
    kept = KeptDossiers()
    kept.put(9, {"a": dossier("a"), "b": dossier("b")})
    assert kept.take(9, ["a", "c"]) == {"a": dossier("a")}
    assert kept.take(9, ["a", "b"]) == {"b": dossier("b")}  # taken out: a failed batch cannot leave it changed


def test_everything_is_dropped_when_the_cursor_moved_without_this_runner() -> None:
    kept = KeptDossiers()
    kept.put(9, {"a": dossier("a")})
    assert kept.take(12, ["a"]) == {}
    assert kept.states == {}
    kept.put(12, {"b": dossier("b")})
    assert kept.take(12, ["a", "b"]) == {"b": dossier("b")}


def test_at_most_the_limit_is_kept_the_least_recently_written_going_first() -> None:
    kept = KeptDossiers(limit=2)
    kept.put(1, {"a": dossier("a"), "b": dossier("b")})
    kept.put(2, {**kept.take(1, ["a"]), "c": dossier("c")})
    assert list(kept.states) == ["a", "c"]
    nothing = KeptDossiers(limit=0)
    nothing.put(1, {"a": dossier("a")})
    assert nothing.take(1, ["a"]) == {}
