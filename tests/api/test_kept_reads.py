"""The reads across dossiers are kept between requests (``api.kept``): after new entries, what
they answer equals what a reader that never kept anything answers, for every caller."""

from __future__ import annotations

from typing import Any

from api.queries import Reader
from tests.api.support import AUDITOR, HAARLEM, UWV, WERKFIT, ApiWorld, Story, tell_story

READS: list[tuple[str, dict[str, Any]]] = [
    ("/claims", {}), ("/claims/counts", {}), ("/claims", {"status": "claimed"}), ("/claims", {"status": "confirmed"}),
    ("/flags", {}), ("/flags", {"peildatum": "2024-07-01"}), ("/payments", {"peildatum": "2025-06-01"}),
    ("/outflow-rates", {"groupBy": "provider", "peildatum": "2025-06-01"}),
    ("/outflow-rates", {"groupBy": "cohort", "peildatum": "2025-06-01"}),
    ("/outflow-rates", {"groupBy": "funder", "peildatum": "2025-06-01", "definition": "six-month-rule"}),
    ("/outflow-rates/differences", {"peildatum": "2025-06-01"}),
    # the same answers again, a page at a time (kept while nothing new is recorded)
    ("/outflow-rates/differences", {"peildatum": "2025-06-01", "limit": 1, "offset": 1}),
    ("/flags", {"limit": 1, "offset": 1}), ("/claims", {"limit": 1, "offset": 1}),
]
PARTIES = ("operator", HAARLEM, UWV, WERKFIT, AUDITOR)


def read_all(world: ApiWorld) -> dict[tuple[str, str, str], Any]:
    found = {}
    for party in PARTIES:
        for path, params in READS:
            response = world.signed(party, "GET", path, params={"limit": 500, **params})
            found[(party, path, str(params))] = (response.status_code, response.json())
    return found


def test_after_new_entries_kept_reads_equal_a_fresh_reader(world: ApiWorld, story: Story) -> None:
    before = read_all(world)  # now kept
    haarlem = world.client(HAARLEM)
    haarlem.submit(haarlem.envelope("PlacementConfirmed", "2024-06-10", client_ref=story.client_ref,
                                    claim_id=story.werkfit_claim))
    tell_story(world, "123456782")  # a second client
    kept = read_all(world)  # brought up to date: only the two changed dossiers judged again
    kept_reader: Reader = world.app.state.reader
    assert {id(k) for k in kept_reader.kept._replays.values()} and all(
        k.results.full_computations == 1 for k in kept_reader.kept._replays.values())
    world.app.state.reader = Reader(kept_reader.ledger, kept_reader.definitions)  # keeps nothing yet
    fresh = read_all(world)
    assert kept == fresh
    assert kept != before
    assert kept[(HAARLEM, "/claims", str({"status": "confirmed"}))][1]["total"] == 1
    for party in PARTIES:  # each status counted as its listing totals it
        counted = {c["status"]: c["claims"] for c in kept[(party, "/claims/counts", "{}")][1]["items"]}
        listed = world.signed(party, "GET", "/claims", params={"limit": 500}).json()["items"]
        assert counted == {s: sum(c["status"] == s for c in listed) for s in ("claimed", "confirmed", "rejected",
                                                                              "withdrawn")}, party
    assert sum(code == 200 for code, _ in kept.values()) > len(READS) * 3  # most reads answered, not refused
