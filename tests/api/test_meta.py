"""Health, the published ledger key, the OpenAPI document and the Dutch API Design Rules
basics every response follows (API-Version, problem+json)."""

from __future__ import annotations

import re

from ledger.domain.envelope import b64decode, key_id_for
from tests.api.support import ApiWorld

SEMVER = re.compile(r"^\d+\.\d+\.\d+$")


def test_health_and_the_ledger_key(world: ApiWorld) -> None:
    http = world.http()
    health = http.get("/v1/health")
    assert health.status_code == 200 and SEMVER.match(health.headers["API-Version"])
    assert health.json() == {"status": "ok", "log_size": 9}  # genesis, 7 parties, 1 mandate
    key = http.get("/v1/ledger-key").json()
    assert b64decode(key["public_key"], "public_key", 32) == world.ledger_key
    assert key["key_id"] == key_id_for(world.ledger_key) and key["algorithm"] == "ed25519"


def test_the_openapi_document_is_served_under_v1(world: ApiWorld) -> None:
    response = world.http().get("/v1/openapi.json")
    assert response.status_code == 200 and response.headers["API-Version"] == "1.0.0"
    document = response.json()
    assert document["info"]["version"] == "1.0.0" and document["servers"][0]["url"].endswith("/v1")
    assert set(document["info"]["contact"]) == {"name", "email", "url"}
    assert "/envelopes/_batch" in document["paths"] and not any(p.startswith("/v1") for p in document["paths"])
    assert "@signature-params" in document["info"]["description"]


def test_every_error_is_problem_json_with_the_version_header(world: ApiWorld) -> None:
    http = world.http()
    unknown = http.get("/v1/no-such-thing")
    assert unknown.status_code == 404 and unknown.headers["content-type"] == "application/problem+json"
    assert unknown.headers["API-Version"] == "1.0.0" and unknown.json()["rule"] == "route.unknown"
    wrong_method = http.delete("/v1/health")
    assert wrong_method.status_code == 405 and wrong_method.json()["status"] == 405
    assert "GET" in wrong_method.headers["allow"]
    assert http.get("/v1/health/").status_code == 404  # API-48: a trailing slash is a 404, not a redirect
