"""Flags and outflow rates across dossiers (from the projections), scoped to the caller."""

from __future__ import annotations

from typing import Any

from tests.api.support import AUDITOR, HAARLEM, JOBSTAP, UWV, WERKFIT, ApiWorld, Story


def get(world: ApiWorld, party: str, path: str, **params: Any) -> tuple[int, dict[str, Any]]:
    response = world.signed(party, "GET", path, params=params or None)
    return response.status_code, response.json()


def groups(body: dict[str, Any]) -> list[str]:
    return [row["group"] for row in body["items"]]


def test_flags_are_the_callers_own(world: ApiWorld, story: Story) -> None:
    flagged = world.client(HAARLEM).flags()
    assert {(f["claim_id"], f["flag"]["name"]) for f in flagged} == {(story.werkfit_claim, "overlapping-trajectories")}
    assert all(UWV not in f["flag"]["detail"] for f in flagged)
    assert world.client(UWV).flags() == []
    assert [f["claim_id"] for f in world.client(AUDITOR).flags()] == [story.werkfit_claim]
    status, page = get(world, "operator", "/flags", flag="revolving-door")
    assert status == 200 and page["items"] == []


def test_flags_as_known_before_the_claim_are_empty(world: ApiWorld, story: Story) -> None:
    status, page = get(world, HAARLEM, "/flags", asKnownAt="2020-01-01")
    assert status == 200 and page["total"] == 0
    status, page = get(world, HAARLEM, "/flags", peildatum="2024-05-31")
    assert status == 200 and page["total"] == 0  # the job started on 2024-06-01


def test_outflow_rates_are_scoped_to_the_caller(world: ApiWorld, story: Story) -> None:
    status, body = get(world, HAARLEM, "/outflow-rates", peildatum="2025-06-01", definition="six-month-rule")
    assert status == 200
    assert groups(body) == [WERKFIT, "(all)"]
    assert [d["name"] for d in body["definitions"]] == ["six-month-rule"]
    assert body["items"][-1]["trajectories"] == 1 and body["peildatum"] == "2025-06-01"
    assert groups(get(world, UWV, "/outflow-rates", peildatum="2025-06-01")[1]) == [JOBSTAP, "(all)"]
    assert groups(get(world, AUDITOR, "/outflow-rates", peildatum="2025-06-01")[1]) == [WERKFIT, "(all)"]
    status, body = get(world, "operator", "/outflow-rates", peildatum="2025-06-01", groupBy="funder")
    assert groups(body) == [HAARLEM, UWV, "(all)"] and body["group_by"] == "funder"
    assert len(body["items"][0]["outcomes"]) == len(body["definitions"]) >= 5


def test_outflow_rates_as_known_at_leave_out_what_was_recorded_later(world: ApiWorld, story: Story) -> None:
    status, body = get(world, "operator", "/outflow-rates", asKnownAt="2020-01-01T00:00:00Z")
    assert status == 200 and body["as_known_at"] == "2020-01-01T00:00:00.000000Z"
    assert body["peildatum"] == "2020-01-01" and groups(body) == ["(all)"] and body["items"][0]["trajectories"] == 0


def test_bad_report_parameters_are_400_naming_the_field(world: ApiWorld) -> None:
    status, body = get(world, HAARLEM, "/outflow-rates", definition="no-such-rule")
    assert (status, body["rule"], body["field"]) == (400, "definition.unknown", "definition")
    status, body = get(world, HAARLEM, "/outflow-rates", asKnownAt="2024-01-01T10:00:00")  # no zone
    assert (status, body["field"]) == (400, "query.asKnownAt")
    status, body = get(world, HAARLEM, "/flags", peildatum="2024-02-30")
    assert (status, body["field"]) == (400, "query.peildatum")
    status, body = get(world, HAARLEM, "/flags", limit=0)
    assert (status, body["field"]) == (400, "query.limit")
    status, body = get(world, HAARLEM, "/outflow-rates", groupBy="colour")
    assert (status, body["field"]) == (400, "query.groupBy")


def test_outflow_rates_carry_each_trajectory_under_its_own_contract_s_definition(world: ApiWorld, story: Story) -> None:
    """``by_contract``: what was reported and paid at the time; here every contract named the
    six-month rule, so it is that definition's outcome, kept and with a cut-off alike."""
    for params in ({}, {"asKnownAt": "2030-01-01T00:00:00Z"}):
        status, body = get(world, "operator", "/outflow-rates", peildatum="2025-06-01", groupBy="cohort", **params)
        assert status == 200 and body["items"][-1]["trajectories"] >= 2
        for row in body["items"]:
            six = next(o for o in row["outcomes"] if o["definition"] == "six-month-rule")
            assert row["by_contract"] == {**{k: six[k] for k in ("success", "failure", "pending", "rate")}, "unjudged": 0}
