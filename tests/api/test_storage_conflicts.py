"""A storage conflict or failure the ledger did not absorb is a 503 with Retry-After - never a
500 - logged once with its traceback; and the SDK waits as told and tries again."""

from __future__ import annotations

import logging
from typing import Any, Callable

import httpx
import pytest
import sqlalchemy.exc
from eventsourcing import persistence
from eventsourcing.domain import OriginatorVersionError

from tests.api.support import HAARLEM, ApiWorld
from tests.support import commission, new_id

SECRET = "stored_events secret-internals"  # stands for SQL, table names, driver messages: never shown
BUSY = ("urn:trajectledger:problem:busy", "ledger.busy", "1")
UNAVAILABLE = ("urn:trajectledger:problem:unavailable", "storage.unavailable", "5")
REF = "ef" * 32

ERRORS = [  # (how to make the error, the problem type, rule and Retry-After it is answered with)
    pytest.param(lambda: OriginatorVersionError(f"{SECRET}: expected version 7"), BUSY, id="OriginatorVersionError"),
    pytest.param(lambda: persistence.IntegrityError(f"duplicate key value in {SECRET}"), BUSY, id="IntegrityError"),
    pytest.param(lambda: persistence.RecordConflictError(SECRET), BUSY, id="RecordConflictError"),
    pytest.param(lambda: sqlalchemy.exc.IntegrityError(f"INSERT INTO {SECRET}", {}, Exception("duplicate key")),
                 BUSY, id="sqlalchemy.IntegrityError"),
    pytest.param(lambda: persistence.OperationalError(f"canceling statement due to lock timeout on {SECRET}"),
                 UNAVAILABLE, id="OperationalError"),
    pytest.param(lambda: persistence.InternalError(SECRET), UNAVAILABLE, id="InternalError"),
    pytest.param(lambda: persistence.PersistenceError(SECRET), UNAVAILABLE, id="PersistenceError"),
    pytest.param(lambda: sqlalchemy.exc.OperationalError(f"SELECT * FROM {SECRET}", {},
                                                         Exception("server closed the connection unexpectedly")),
                 UNAVAILABLE, id="sqlalchemy.OperationalError"),
    pytest.param(lambda: sqlalchemy.exc.DBAPIError(f"UPDATE {SECRET}", {}, Exception("lock timeout")),
                 UNAVAILABLE, id="sqlalchemy.DBAPIError"),
]


def submit(world: ApiWorld) -> httpx.Response:
    return world.post_envelope(HAARLEM, commission(REF))


def submit_batch(world: ApiWorld) -> httpx.Response:
    return world.http().post("/v1/envelopes/_batch", json={"envelopes": [world.envelope(HAARLEM, commission(REF))]})


def read_receipt(world: ApiWorld) -> httpx.Response:
    return world.signed(HAARLEM, "GET", f"/receipts/{new_id()}")


ROUTES = [  # (the ledger method the route calls, the request)
    pytest.param("submit", submit, id="POST-envelopes"),
    pytest.param("submit_batch", submit_batch, id="POST-envelopes-batch"),
    pytest.param("receipt", read_receipt, id="GET-receipt"),
]


@pytest.mark.parametrize(("method", "request_"), ROUTES)
@pytest.mark.parametrize(("make", "expected"), ERRORS)
def test_a_storage_error_is_a_503_problem_with_retry_after_logged_once(
    world: ApiWorld, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, method: str,
    request_: Callable[[ApiWorld], httpx.Response], make: Callable[[], Exception], expected: tuple[str, str, str],
) -> None:
    error = make()

    def fail(*args: Any, **kwargs: Any) -> Any:
        raise error

    monkeypatch.setattr(world.app.state.ledger, method, fail)
    caplog.set_level(logging.INFO)
    response = request_(world)

    problem_type, rule, retry_after = expected
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["Retry-After"] == retry_after
    body = response.json()
    assert body["type"] == problem_type and body["status"] == 503 and body["rule"] == rule
    assert body["title"] and body["detail"] == "try again later" and body["field"] is None
    assert body["instance"] == response.request.url.path
    for internal in ("secret", "stored_events", "SELECT", "INSERT", "UPDATE", "Traceback", type(error).__name__):
        assert internal not in response.text
    logged = [record for record in caplog.records if record.levelno >= logging.WARNING or record.exc_info]
    assert len(logged) == 1, [record.getMessage() for record in logged]
    assert logged[0].name == "api.problems" and logged[0].exc_info is not None and logged[0].exc_info[1] is error


def test_the_client_waits_retry_after_and_resubmits_after_a_conflict(world: ApiWorld,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    ledger = world.app.state.ledger
    real_submit, calls = ledger.submit, []

    def conflict_once(payload: dict[str, Any]) -> Any:
        calls.append(payload["payload"]["envelope_id"])
        if len(calls) == 1:
            raise persistence.IntegrityError("duplicate key value violates unique constraint")
        return real_submit(payload)

    monkeypatch.setattr(ledger, "submit", conflict_once)
    slept: list[float] = []
    client = world.client(HAARLEM, sleep=slept.append)
    envelope = client.envelope("TrajectoryCommissioned", **commission(REF))
    receipt = client.submit(envelope)
    assert receipt.accepted and receipt.envelope_id == envelope.envelope_id
    assert calls == [envelope.envelope_id] * 2 and slept == [1.0]


@pytest.mark.parametrize("make", [
    pytest.param(lambda: persistence.ProgrammingError(f"syntax error at {SECRET}"), id="ProgrammingError"),
    pytest.param(lambda: persistence.DataError(SECRET), id="DataError"),
    pytest.param(lambda: sqlalchemy.exc.ProgrammingError(f"SELECT {SECRET}", {}, Exception("no such column")),
                 id="sqlalchemy.ProgrammingError"),
])
def test_a_storage_error_that_is_a_bug_stays_a_500_without_internals(world: ApiWorld, monkeypatch: pytest.MonkeyPatch,
                                                                      make: Callable[[], Exception]) -> None:
    """A retry cannot help a bad statement: it is an internal error (logged), not a 503 to wait out."""
    error = make()

    def fail(*args: Any, **kwargs: Any) -> Any:
        raise error

    monkeypatch.setattr(world.app.state.ledger, "submit", fail)
    response = submit(world)
    assert response.status_code == 500 and "Retry-After" not in response.headers
    assert response.json()["type"] == "urn:trajectledger:problem:internal"
    assert "secret" not in response.text and "SELECT" not in response.text
