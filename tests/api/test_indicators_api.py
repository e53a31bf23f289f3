"""GET /indicators over HTTP, scoped to the caller (issue 16)."""

from __future__ import annotations

from typing import Any

from tests.api.support import AUDITOR, IDLE_AUDITOR, JOBSTAP, UWV, WERKFIT, ApiWorld, Story
from tests.support import payload


def get(world: ApiWorld, party: str, **params: Any) -> tuple[int, dict[str, Any]]:
    response = world.signed(party, "GET", "/indicators", params=params or None)
    return response.status_code, response.json()


def rows(body: dict[str, Any]) -> dict[tuple[str, str, str, str], tuple[int, int]]:
    return {(m["group"], m["area"], m["indicator"], m["slice"]): (m["count"], m["denominator"]) for m in body["items"]}


def test_the_indicators_with_their_counts_scoped_to_the_caller(world: ApiWorld, story: Story) -> None:
    """The story: Haarlem -> werkfit (placed from 2024-06-01), UWV -> jobstap; jobstap declines nothing."""
    declined = payload("ReferralDeclined", story.client_ref, "2024-01-02", trajectory_id=story.uwv_trajectory,
                       reason="no-capacity")
    response = world.post_envelope(JOBSTAP, declined)
    status, body = get(world, UWV, peildatum="2025-06-30", limit=500)
    assert status == 200 and body["group_by"] == "provider" and body["parking_weeks"] == 8
    assert rows(body) == {  # UWV sees its own referral only: declined, so nothing else to measure
        ("jobstap", "selection", "declined", "all"): (1, 1), ("jobstap", "selection", "declined", "rung-unknown"): (1, 1),
        ("(all)", "selection", "declined", "all"): (1, 1), ("(all)", "selection", "declined", "rung-unknown"): (1, 1)}
    [declines] = [c for c in body["comparison"] if (c["indicator"], c["slice"]) == ("declined", "all")]
    assert declines["no_cure_no_pay"]["count"] == 1 and declines["no_cure_less_pay"] is None
    assert declines["difference"] is None
    _, audited = get(world, AUDITOR, peildatum="2025-06-30", limit=500)  # mandated for Haarlem only
    seen = rows(audited)
    assert seen["(all)", "selection", "declined", "all"] == (0, 1)
    assert seen["werkfit", "durability", "contract-length", "open-ended"] == (1, 1)
    assert seen["werkfit", "deadweight", "application-before-trajectory", "all"] == (0, 1)
    _, by_year = get(world, UWV, peildatum="2025-06-30", groupBy="year")
    assert rows(by_year)["2024", "selection", "declined", "all"] == (1, 1)
    assert get(world, WERKFIT)[0] == 403  # a report, as the flags: benefits in it are funders' data
    assert response.status_code in (200, 201)


def test_bad_parameters_and_no_mandate(world: ApiWorld, story: Story) -> None:
    assert get(world, AUDITOR, groupBy="funder")[0] == 400
    assert get(world, AUDITOR, parkingWeeks=0)[0] == 400
    assert get(world, IDLE_AUDITOR)[0] == 403
