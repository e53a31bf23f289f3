"""Every page of the dashboard in headless Chromium, live as the demo municipality and on the
demo's export bundle: it loads, shows its chart and its table, and axe-core (vendored,
``assets/axe.min.js``) finds no WCAG 2.1 A/AA violation. A funder confirms a claim through the
page and the ledger holds the signed confirmation; a provider sees only its own trajectories."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from dashboard.live import LiveSource
from dashboard.offline import BundleSource
from ledger.bundle.source import open_verified
from ledger.domain.envelope import parse_envelope, verify_signature
from ledger.domain.errors import LedgerError
from projections.definitions.registry import installed
from tests.browser.conftest import ARTIFACTS, FUNDER, OTHER_PROVIDER, PROVIDER, Demo
from tests.support import claim, commission

AXE = (Path(__file__).parent / "assets" / "axe.min.js").read_text(encoding="utf-8")
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PAGES = [("/", "overview", True), ("/claims?status=all", "claims", False), ("/payments", "payments", True),
         ("/flags", "flags", True)]


def axe_violations(driver: Any) -> list[dict[str, Any]]:
    driver.execute_script(AXE)
    return driver.execute_async_script(  # type: ignore[no-any-return]
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}})"
        ".then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))),"
        " e => done([{id: 'axe-error', help: String(e)}]));", WCAG_AA)


def visit(driver: Any, url: str, shot: str) -> None:
    from selenium.webdriver.common.by import By

    driver.get(url)
    assert driver.find_element(By.TAG_NAME, "h1").text, f"{url}: no heading"
    assert not driver.find_elements(By.CSS_SELECTOR, ".alarm"), f"{url}: {driver.find_element(By.CSS_SELECTOR, '.alarm').text}"
    driver.save_screenshot(str(ARTIFACTS / f"{shot}.png"))
    assert axe_violations(driver) == [], f"{url}: axe-core found WCAG 2.1 A/AA violations"


def rows(driver: Any, table_id: str) -> list[list[str]]:
    from selenium.webdriver.common.by import By

    table = driver.find_element(By.ID, table_id)
    return [[td.text for td in tr.find_elements(By.TAG_NAME, "td")] for tr in table.find_elements(By.CSS_SELECTOR, "tbody tr")]


@pytest.mark.parametrize("mode", ["live", "bundle"])
@pytest.mark.parametrize(("path", "name", "charted"), PAGES, ids=[p[1] for p in PAGES])
def test_each_page_shows_its_chart_and_table_and_passes_axe(
        request: pytest.FixtureRequest, browser: Any, mode: str, path: str, name: str, charted: bool) -> None:
    from selenium.webdriver.common.by import By

    base = request.getfixturevalue("funder_dashboard" if mode == "live" else "bundle_dashboard")
    visit(browser, base + path, f"{mode}-{name}")
    tables = browser.find_elements(By.CSS_SELECTOR, "main table")
    assert tables and any(rows(browser, t.get_attribute("id")) for t in tables), f"{path}: no table with rows"
    charts = browser.find_elements(By.CSS_SELECTOR, ".chart svg[role='img'] title")
    assert (len(charts) > 0) == charted, f"{path}: charts {len(charts)}"
    csv_link = browser.find_element(By.CSS_SELECTOR, "p.csv a").get_attribute("href")
    import httpx

    download = httpx.get(csv_link)
    assert download.status_code == 200 and download.headers["content-type"].startswith("text/csv")
    assert len(download.text.splitlines()) >= 2  # the header and at least one row


@pytest.mark.parametrize("mode", ["live", "bundle"])
def test_the_drill_down_lists_entries_in_log_order_with_checked_proofs(
        request: pytest.FixtureRequest, browser: Any, mode: str) -> None:
    from selenium.webdriver.common.by import By

    base = request.getfixturevalue("funder_dashboard" if mode == "live" else "bundle_dashboard")
    browser.get(base + "/claims?status=confirmed")
    browser.find_element(By.CSS_SELECTOR, "#table-claims tbody a").click()
    visit(browser, browser.current_url, f"{mode}-claim")
    entries = rows(browser, "table-entries")
    indexes = [int(row[0]) for row in entries]
    assert indexes == sorted(indexes) and len(indexes) >= 2
    assert {row[1] for row in entries} >= {"TrajectoryCommissioned", "PlacementClaimed", "PlacementConfirmed"}
    assert all(row[-1] == "gecontroleerd" for row in entries)


def test_english_is_one_click_away(browser: Any, funder_dashboard: str) -> None:
    from selenium.webdriver.common.by import By

    browser.get(funder_dashboard + "/payments")
    browser.find_element(By.CSS_SELECTOR, "a[hreflang='en']").click()
    assert browser.find_element(By.TAG_NAME, "h1").text == "Payments"
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    assert axe_violations(browser) == []
    browser.find_element(By.CSS_SELECTOR, "a[hreflang='nl']").click()
    assert browser.find_element(By.TAG_NAME, "h1").text == "Betalingen"


def test_a_funder_confirms_a_claim_through_the_page(browser: Any, demo: Demo, funder_dashboard: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    funder, provider = demo.client(FUNDER), demo.client(PROVIDER)
    try:
        ref = funder.pseudonym("111222333")
        commissioned = commission(ref, provider=PROVIDER, start="2024-01-01", planned_end="2024-12-31")
        assert funder.submit(funder_signed(funder, commissioned)).accepted
        placed = claim(ref, commissioned["trajectory_id"], kvk="87654321", job_start="2024-06-01")
        assert provider.submit(funder_signed(provider, placed)).accepted
    finally:
        funder.close()
        provider.close()
    browser.get(funder_dashboard + "/claims")  # the queue: awaiting confirmation
    browser.find_element(By.CSS_SELECTOR, f"a[href='/claims/{ref}/{placed['claim_id']}']").click()
    browser.find_element(By.ID, "confirm").click()
    WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.ID, "receipt-verdict") or d.find_elements(By.CSS_SELECTOR, ".alarm"))
    assert browser.find_elements(By.ID, "receipt-verdict"), browser.find_element(By.TAG_NAME, "main").text
    assert browser.find_element(By.ID, "receipt-verdict").text == "aanvaard"
    envelope_id = browser.find_element(By.ID, "receipt-envelope").text
    browser.save_screenshot(str(ARTIFACTS / "live-receipt.png"))
    assert axe_violations(browser) == []
    browser.get(funder_dashboard + "/claims")  # no longer awaiting confirmation
    assert not browser.find_elements(By.CSS_SELECTOR, f"a[href='/claims/{ref}/{placed['claim_id']}']")
    # the ledger holds the confirmation, signed by the funder's key
    assert demo.ledger.dossier(ref).data["claims"][placed["claim_id"]]["status"] == "confirmed"
    recorded = [body for _, body in demo.ledger.dossier_entries(ref) if body["envelope"]["payload"]["envelope_id"] == envelope_id]
    assert len(recorded) == 1 and recorded[0]["verdict"] == "accepted"
    envelope = parse_envelope(recorded[0]["envelope"])
    assert envelope.submitter == FUNDER and envelope.payload["type"] == "PlacementConfirmed"
    key = demo.ledger.current_registry().signing_key(FUNDER, envelope.key_id)
    verify_signature(envelope, key)
    tampered = parse_envelope({**recorded[0]["envelope"], "payload": {**envelope.payload, "claim_id": commissioned["trajectory_id"]}})
    with pytest.raises(LedgerError):
        verify_signature(tampered, key)


def funder_signed(client: Any, payload: dict[str, Any]) -> Any:
    from ledger.domain.envelope import sign

    return sign(payload, client.party_id, client.private_key)


def test_a_provider_sees_only_its_own_trajectories(browser: Any, demo: Demo, provider_dashboard: str) -> None:
    from selenium.webdriver.common.by import By

    visit(browser, provider_dashboard + "/claims?status=all", "provider-claims")
    providers = {row[1] for row in rows(browser, "table-claims")}
    assert providers == {PROVIDER}
    browser.get(provider_dashboard + "/")
    assert "Niet beschikbaar voor uw rol" in browser.find_element(By.TAG_NAME, "main").text  # outflow rates: funders'
    funder = demo.client(FUNDER)
    try:
        theirs = funder.get("/claims", provider=OTHER_PROVIDER, limit=1)["items"][0]
    finally:
        funder.close()
    for path in (f"/claims/{theirs['client_ref']}/{theirs['claim_id']}",
                 f"/trajectories/{theirs['client_ref']}/{theirs['trajectory_id']}"):
        browser.get(provider_dashboard + path)
        shown = browser.find_element(By.TAG_NAME, "main").text
        assert browser.find_elements(By.CSS_SELECTOR, ".alarm") and not browser.find_elements(By.ID, "table-entries")
        assert OTHER_PROVIDER not in shown and "TrajectoryCommissioned" not in shown


def test_an_entry_changed_after_it_was_logged_fails_its_proof_on_either_source(demo: Demo) -> None:
    """The drill-down's check can fail: an entry changed after it was logged no longer leads to the root."""
    client = demo.client(FUNDER)
    try:
        with open_verified(demo.bundle) as bundle:
            offline = BundleSource(bundle, demo.bundle, str(demo.bundle), installed(), date(2026, 6, 30))
            ref = next(c["client_ref"] for c in offline.claims() if c["funder"] == FUNDER)  # held, and the funder's
            held = offline.entries(ref)
            assert [c.ok for c in offline.prove([held[0], {**held[1], "verdict": "refused"}])] == [True, False]
        live = LiveSource(client, demo.api_url)
        entries = live.entries(ref)
        assert {e["log_index"] for e in entries} <= {e["log_index"] for e in held}  # the bundle holds the whole dossier
        changed = [entries[0], {**entries[1], "recorded_at": "2020-01-01T00:00:00.000000Z"}]
        assert [c.ok for c in live.prove(changed)] == [True, False]
    finally:
        client.close()
