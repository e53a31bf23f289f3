"""One worked case per attribution flag, through a real ledger."""

from __future__ import annotations

from projections import flags as f
from projections.flags import claim_flags
from projections.replay import flag_listing
from tests.projections.support import JOBSTAP, UWV, WERKFIT, Client, day
from tests.support import World

WAGE_DATA = {f.EMPLOYMENT_NOT_VERIFIED, f.VERIFICATION_CONTRADICTS_CLAIM}


def names(client: Client, claim_id: str, peildatum: str | None = None, wage_data: bool = False) -> set[str]:
    """The claim's flags; the wage-data flags only with ``wage_data`` (the other cases have no wage data)."""
    at = None if peildatum is None else day(peildatum)
    return {flag.name for flag in claim_flags(client.dossier(), claim_id, at) if wage_data or flag.name not in WAGE_DATA}


def mediated_trajectory(client: Client, start: str = "2024-01-01") -> str:
    tid = client.commission(start, "2024-12-31")
    client.activity(tid, 30, "2024-01-20")  # one-to-one mediation
    return tid


def test_a_clean_placement_has_no_flags(world: World) -> None:
    client = Client.named(world, "clean")
    tid = mediated_trajectory(client)
    claim_id = client.placed(tid, application_date="2024-02-01", job_start="2024-03-01")
    assert names(client, claim_id, wage_data=True) == {f.EMPLOYMENT_NOT_VERIFIED}  # on the provider's word only
    client.verify(claim_id, "2024-03-01", "2024-09-30")
    assert names(client, claim_id, wage_data=True) == set()


def test_wage_data_that_contradicts_the_claim(world: World) -> None:
    client = Client.named(world, "contradicted")
    tid = mediated_trajectory(client)
    elsewhere = client.placed(tid, application_date="2024-02-01", job_start="2024-03-01")
    client.verify(elsewhere, "2024-03-01", "2024-09-30", kvk="87654321")
    [flag] = [x for x in claim_flags(client.dossier(), elsewhere) if x.name == f.VERIFICATION_CONTRADICTS_CLAIM]
    assert "87654321" in flag.detail
    missing = client.placed(tid, application_date="2024-02-01", job_start="2024-10-01", kvk="11223344")
    client.verify(None, "2024-10-01", "2024-12-31", kvk="11223344", found=False)
    assert f.VERIFICATION_CONTRADICTS_CLAIM in names(client, missing, wage_data=True)


def test_application_before_the_trajectory(world: World) -> None:
    client = Client.named(world, "found-herself")
    tid = mediated_trajectory(client, start="2024-01-15")
    claim_id = client.placed(tid, application_date="2024-01-10", job_start="2024-02-01")
    [flag] = [x for x in claim_flags(client.dossier(), claim_id) if x.name == f.APPLICATION_BEFORE_TRAJECTORY]
    assert "2024-01-10" in flag.detail and "2024-01-15" in flag.detail


def test_no_mediation_activity_before_the_job_start(world: World) -> None:
    client = Client.named(world, "no-mediation")
    tid = client.commission("2024-01-01", "2024-12-31")
    client.activity(tid, 12, "2024-01-20")  # not a mediation instrument
    client.activity(tid, 29, "2024-03-01")  # matching, but on the job's first day
    claim_id = client.placed(tid, application_date="2024-02-01", job_start="2024-03-01")
    assert names(client, claim_id) == {f.NO_MEDIATION}


def test_secondment_via_the_provider_itself(world: World) -> None:
    client = Client.named(world, "seconded")
    tid = mediated_trajectory(client)
    claim_id = client.placed(tid, application_date="2024-02-01", job_start="2024-03-01", secondment=True)
    assert names(client, claim_id) == {f.SECONDMENT}


def test_a_fixed_term_contract_of_five_months(world: World) -> None:
    client = Client.named(world, "five-months")
    tid = mediated_trajectory(client)
    claim_id = client.placed(tid, application_date="2024-02-01", job_start="2024-03-01", contract_end="2024-07-31")
    assert names(client, claim_id) == {f.SHORT_CONTRACT}


def test_employment_ended_within_six_months_from_the_day_it_ended(world: World) -> None:
    client = Client.named(world, "quit")
    tid = mediated_trajectory(client)
    claim_id = client.placed(tid, application_date="2024-02-01", job_start="2024-03-01")
    client.employment_ended(claim_id, "2024-04-30")
    assert names(client, claim_id, "2024-04-29") == set()
    assert names(client, claim_id, "2024-04-30") == {f.SHORT_CONTRACT}


def test_two_funders_overlapping_trajectories_with_one_job(world: World) -> None:
    client = Client.named(world, "two-funders")
    t1 = mediated_trajectory(client)
    t2 = client.commission("2024-02-01", "2024-10-31", funder=UWV, provider=JOBSTAP)
    claim_id = client.placed(t1, application_date="2024-03-01", job_start="2024-04-01")
    refused = client.claim(t2, application_date="2024-03-01", job_start="2024-04-01", provider=JOBSTAP, accept=False)
    dossier = client.dossier()
    assert refused not in dossier.claims  # the ledger refused the double claim
    [flag] = [x for x in claim_flags(dossier, claim_id) if x.name == f.OVERLAPPING_TRAJECTORIES]
    assert t2 in flag.detail and UWV in flag.detail
    listed = [(x.claim_id, x.provider) for x in flag_listing([(client.ref, dossier)]) if x.flag not in WAGE_DATA]
    assert listed == [(claim_id, WERKFIT)]


def test_the_same_funders_trajectories_do_not_count_as_overlapping(world: World) -> None:
    client = Client.named(world, "one-funder")
    t1 = mediated_trajectory(client)
    client.commission("2024-02-01", "2024-10-31", provider=JOBSTAP)
    claim_id = client.placed(t1, application_date="2024-03-01", job_start="2024-04-01")
    assert f.OVERLAPPING_TRAJECTORIES not in names(client, claim_id)


def test_revolving_door_back_on_benefit_within_six_months_of_the_placement(world: World) -> None:
    client = Client.named(world, "back-on-benefit")
    tid = mediated_trajectory(client)
    claim_id = client.placed(tid, application_date="2024-02-01", job_start="2024-03-01")
    client.benefit("2024-08-20", "WW", funder=UWV)
    assert names(client, claim_id, "2024-08-19") == set()
    assert names(client, claim_id, "2024-08-20") == {f.REVOLVING_DOOR}


def test_a_rejected_claim_is_no_placement_for_the_revolving_door(world: World) -> None:
    client = Client.named(world, "rejected")
    tid = mediated_trajectory(client)
    claim_id = client.claim(tid, application_date="2024-02-01", job_start="2024-03-01")
    client.reject(claim_id, "2024-03-10")
    client.benefit("2024-08-20")
    assert f.REVOLVING_DOOR not in names(client, claim_id)


def test_revolving_door_placed_twice_in_a_year(world: World) -> None:
    client = Client.named(world, "twice")
    tid = mediated_trajectory(client)
    first = client.placed(tid, application_date="2024-02-01", job_start="2024-03-01", contract_end="2024-09-30")
    second = client.placed(tid, application_date="2024-10-01", job_start="2024-11-01", kvk="87654321")
    assert f.REVOLVING_DOOR in names(client, first)
    [flag] = [x for x in claim_flags(client.dossier(), second) if x.name == f.REVOLVING_DOOR]
    assert first in flag.detail


def test_flag_listing_can_be_narrowed_to_some_flags(world: World) -> None:
    client = Client.named(world, "narrow")
    tid = client.commission("2024-01-01", "2024-12-31")
    client.placed(tid, application_date="2024-02-01", job_start="2024-03-01", secondment=True)
    listing = flag_listing([(client.ref, client.dossier())], only=[f.SECONDMENT])
    assert [x.flag for x in listing] == [f.SECONDMENT]
    assert {x.flag for x in flag_listing([(client.ref, client.dossier())])} == {f.SECONDMENT, f.NO_MEDIATION,
                                                                                f.EMPLOYMENT_NOT_VERIFIED}
