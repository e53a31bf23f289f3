"""Browser tests: real headless Chromium (Debian's ``chromium`` and ``chromium-driver``) driven by
selenium, on a demo ledger served over HTTP and on its export bundle.

Outside CI a machine without Chromium skips these tests with a message saying so; under CI
(``CI=true``) they fail instead. Screenshots of every page go to ``tests/browser/artifacts/``
(git-ignored), the test run's artifacts.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from api.app import create_app
from api.settings import ApiSettings
from cli.main import main as cli_main
from cli.submit_file import read_private_key
from dashboard.app import create_dashboard
from dashboard.live import LiveSource
from dashboard.offline import BundleSource
from ledger.bundle.source import open_verified
from ledger.domain.entry import now_utc, recording_date
from ledger.settings import Settings, load_keys
from projections.definitions.registry import installed
from sdk.client import LedgerClient
from tests.e2e.server import running

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
ARTIFACTS = Path(__file__).parent / "artifacts"
FUNDER, PROVIDER, OTHER_PROVIDER = "gemeente-haarlem", "baanzicht", "stap-vooruit"
DEMO_CLIENTS = 30


def _missing() -> str | None:
    for path in (CHROMIUM, CHROMEDRIVER):
        if shutil.which(path) is None:
            return f"{path} is not installed (apt-get install chromium chromium-driver)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[dev]')"
    return None


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    missing = _missing()
    if missing is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests need Chromium under CI: {missing}")
        pytest.skip(f"browser tests skipped: {missing}")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="dashboard-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                 f"--user-data-dir={profile}", "--window-size=1280,1000"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_script_timeout(60)
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@dataclass
class Demo:
    api_url: str
    ledger: Any  # the served ledger.application.Ledger
    keys: Path  # the demo's key folder (parties/<party>.pem)
    bundle: Path

    def client(self, party: str) -> LedgerClient:
        return LedgerClient.connect(self.api_url, party, read_private_key(self.keys / "parties" / f"{party}.pem"))


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """The demo ledger (``trajectledger demo``), served over HTTP, and its export bundle."""
    if _missing() is not None and os.environ.get("CI") != "true":
        pytest.skip(f"browser tests skipped: {_missing()}")
    root = tmp_path_factory.mktemp("dashboard-demo")
    url = f"sqlite:///{root / 'demo.sqlite3'}"
    saved = {k: os.environ.get(k) for k in ("TRAJECTLEDGER_DATABASE_URL", "TRAJECTLEDGER_KEY_DIR")}
    os.environ["TRAJECTLEDGER_DATABASE_URL"], os.environ["TRAJECTLEDGER_KEY_DIR"] = url, str(root / "demo" / "keys")
    try:
        assert cli_main(["demo", "--clients", str(DEMO_CLIENTS), "--dir", str(root / "demo")]) == 0
        assert cli_main(["export", str(root / "bundle")]) == 0
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    operator_key, pseudonym_key = load_keys(root / "demo" / "keys")
    app = create_app(ApiSettings(Settings(url, operator_key, pseudonym_key)))
    try:
        with running(app) as api_url:
            yield Demo(api_url, app.state.ledger, root / "demo" / "keys", root / "bundle")
    finally:
        app.state.ledger.close()


def _live(demo: Demo, party: str) -> Iterator[str]:
    client = demo.client(party)
    try:
        with running(create_dashboard(LiveSource(client, demo.api_url))) as url:
            yield url
    finally:
        client.close()


@pytest.fixture(scope="session")
def funder_dashboard(demo: Demo) -> Iterator[str]:
    yield from _live(demo, FUNDER)


@pytest.fixture(scope="session")
def provider_dashboard(demo: Demo) -> Iterator[str]:
    yield from _live(demo, PROVIDER)


@pytest.fixture(scope="session")
def bundle_dashboard(demo: Demo) -> Iterator[str]:
    with open_verified(demo.bundle) as bundle:
        source = BundleSource(bundle, demo.bundle, str(demo.bundle), installed(), recording_date(now_utc()))
        with running(create_dashboard(source)) as url:
            yield url
