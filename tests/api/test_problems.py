"""The one translation table (api/problems.py) covers every typed error, and nothing - not
even a bug - reaches a client as a stack trace."""

from __future__ import annotations

import inspect

import pytest
import sqlalchemy.exc

import api.errors
import ledger.bundle.export
import ledger.domain.errors
import ledger.infra.transparency.service
import projections.errors
from api.problems import PROBLEMS, error_problem, kind_of
from ledger.domain.errors import REFUSAL_CLASSES, InvalidSubmission, LedgerBusy, LedgerError, Refusal
from ledger.domain.merkle import TreeInputError
from ledger.infra.transparency.service import BeyondLog
from tests.api.support import ApiWorld

GENERIC = PROBLEMS[LedgerError]


def error_classes() -> list[type[LedgerError]]:
    found: set[type[LedgerError]] = {LedgerBusy}
    for module in (ledger.domain.errors, projections.errors, api.errors, ledger.infra.transparency.service, ledger.bundle.export):
        found |= {cls for _, cls in inspect.getmembers(module, inspect.isclass)
                  if issubclass(cls, LedgerError) and cls.__module__ == module.__name__}
    return sorted(found, key=lambda cls: cls.__name__)


@pytest.mark.parametrize("cls", error_classes(), ids=lambda cls: cls.__name__)
def test_every_typed_error_has_a_status_and_a_problem_type(cls: type[LedgerError]) -> None:
    kind = kind_of(cls("detail"))
    assert kind is not None and 400 <= kind.status <= 599
    assert kind.type.startswith("urn:trajectledger:problem:") and kind.title
    if cls is not LedgerError:
        assert kind is not GENERIC, f"{cls.__name__} falls through to the generic problem"
    if issubclass(cls, InvalidSubmission):
        assert kind.status in (400, 409, 422)
    if issubclass(cls, Refusal):
        assert kind.status in (403, 409, 422)


def test_tree_positions_are_4xx_with_their_message() -> None:
    assert error_problem(BeyondLog("the log has 3 entries, not 9"))[1]["detail"] == "the log has 3 entries, not 9"
    kind, body = error_problem(TreeInputError("index 5 is not in [0, 3)"))
    assert (kind.status, body["rule"]) == (400, "log.position")


def test_each_refusal_rule_has_its_own_problem_type() -> None:
    kinds = {rule: kind_of(cls("x")) for rule, cls in REFUSAL_CLASSES.items()}
    assert len({k.type for k in kinds.values() if k}) == len(kinds)
    assert kinds["claim.unique-job"].status == 409  # type: ignore[union-attr]


def test_an_unexpected_error_is_a_bare_500_problem(world: ApiWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> None:
        raise RuntimeError("secret internals at api/app.py line 3")

    monkeypatch.setattr(world.app.state.reader, "health", broken)
    response = world.http().get("/v1/health")
    assert response.status_code == 500 and response.headers["content-type"] == "application/problem+json"
    assert response.headers["API-Version"] == "1.0.0"
    assert response.json()["rule"] == "internal"
    assert "secret" not in response.text and "Traceback" not in response.text


def test_an_unavailable_database_is_a_503_with_retry_after(world: ApiWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    def down() -> int:
        raise sqlalchemy.exc.OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(world.app.state.ledger, "log_size", down)
    response = world.http().get("/v1/health")
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert "connection refused" not in response.text
