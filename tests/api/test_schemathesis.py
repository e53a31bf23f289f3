"""Schemathesis against the app's own OpenAPI document: no server error, and no response
(status, content type, headers, body) that its operation does not declare.

Requests are signed on the way in (``SignAs``) as the operator, who may call every read, so
the signed operations are exercised beyond their 401; a second run signs as a provider, whose
answers include the 403s and 404s of scoping. Positive and negative (schema-violating) data;
bounded: ``EXAMPLES`` per operation and mode, derandomized. Each operation runs as a plain
Hypothesis test (``schemathesis.pytest.from_fixture`` fails on pytest 9: it reads
``Function._nodeid``).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Err, Ok
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from sdk.http_signatures import signature_headers
from tests.api.support import WERKFIT, ApiWorld, open_world, tell_story

EXAMPLES = 25
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]


class SignAs:
    """ASGI wrapper that signs each request (RFC 9421) with one party's key, as the SDK would."""

    def __init__(self, app: Any, key: Any) -> None:
        self.app, self.key = app, key

    async def __call__(self, scope: dict[str, Any], receive: Callable[[], Awaitable[dict[str, Any]]], send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if message["type"] != "http.request" or not message.get("more_body"):
                break
        body, now = b"".join(chunks), int(time.time())
        raw_path = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
        added = signature_headers(scope["method"], raw_path, scope.get("query_string", b"").decode("latin-1"),
                                  body, self.key, now, now + 60)
        kept = [(k, v) for k, v in scope["headers"] if k.decode("latin-1").lower() not in {h.lower() for h in added}]
        headers = kept + [(k.lower().encode(), v.encode()) for k, v in added.items()]
        sent = False

        async def replay() -> dict[str, Any]:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app({**scope, "headers": headers}, replay, send)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiWorld]:
    path: Path = tmp_path_factory.mktemp("schemathesis")
    world = open_world(f"sqlite:///{path}/ledger.sqlite3")
    tell_story(world)
    yield world
    world.close()


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=lambda m: m.value)
@pytest.mark.parametrize("party", ["operator", WERKFIT])
def test_every_operation_keeps_its_contract(served: ApiWorld, party: str, mode: GenerationMode) -> None:
    schema = schemathesis.openapi.from_asgi("/v1/openapi.json", SignAs(served.app, served.key(party)))
    results = list(schema.get_all_operations())
    assert not [result.err() for result in results if isinstance(result, Err)]
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    served_operations = sum(len(item) for item in served.app.openapi()["paths"].values())
    assert len(operations) == served_operations >= 22  # schemathesis loads every operation the document has
    statuses: Counter[int] = Counter()

    for operation in operations:
        raw = operation.definition.raw
        if mode is GenerationMode.NEGATIVE and not (raw.get("parameters") or raw.get("requestBody")):
            continue  # nothing to make invalid
        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def keeps_contract(case: schemathesis.Case[Any]) -> None:
            statuses[case.call_and_validate(checks=CHECKS).status_code] += 1

        keeps_contract()
    assert not any(status >= 500 for status in statuses), statuses
    if mode is GenerationMode.POSITIVE:
        assert statuses[200] + statuses[201] > 0, statuses  # signed reads got through
