"""The ledger's canonical JSON (fast path) equals the reference RFC 8785 encoder, and
refuses what JCS cannot write exactly, naming the place."""

from __future__ import annotations

from collections import OrderedDict
from enum import IntEnum

import pytest
import rfc8785
from hypothesis import given, settings

from ledger.domain.canonical import SAFE, canonical_bytes
from ledger.domain.errors import MalformedSubmission
from tests.strategies import JSON, JSON_VALUES


@given(JSON_VALUES)
@settings(max_examples=500, deadline=None)
def test_equals_the_reference_encoder(value: JSON) -> None:
    assert canonical_bytes(value) == rfc8785.dumps(value)


@pytest.mark.parametrize("value", [
    {"\U0001F600": 1, "\ufb01": 2},  # code point order differs from UTF-16 order
    {"a": "\x00\x1f\x7f\"\\\b\f\n\r\t\u2028"},
    [SAFE, -SAFE, 0, True, False, None],
    "\u20ac alone",
    OrderedDict([("b", 1), ("a", 2)]),  # not exactly a dict: the reference path
])
def test_edge_cases_equal_the_reference(value: JSON) -> None:
    assert canonical_bytes(value) == rfc8785.dumps(value)


class Rung(IntEnum):
    TWO = 2


def test_int_subclasses_are_written_as_their_number() -> None:
    assert canonical_bytes({"rung": Rung.TWO}) == b'{"rung":2}'


@pytest.mark.parametrize("value, rule, field", [
    ({"a": {"b": 1.5}}, "json.integer", "payload.a.b"),
    ({"a": [1, 2.0]}, "json.integer", "payload.a[1]"),
    ({"a": SAFE + 1}, "json.integer", "payload.a"),
    ({"a": [-SAFE - 1]}, "json.integer", "payload.a[0]"),
    ({"a": {1: "x"}}, "json.key", "payload.a"),
    ({"a": "\ud800"}, "json.canonical", "payload"),
    ({"a": {1, 2}}, "json.canonical", "payload"),
])
def test_what_jcs_cannot_write_is_refused_with_rule_and_field(value: object, rule: str, field: str) -> None:
    with pytest.raises(MalformedSubmission) as err:
        canonical_bytes(value)
    assert (err.value.rule, err.value.field) == (rule, field)
