"""The verifier's fast canonical JSON equals the reference RFC 8785 encoder."""

from __future__ import annotations

import json

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.verify.canonical import SAFE, CanonicalError, dumps, loads

TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-SAFE, SAFE) | TEXT,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(TEXT, children, max_size=4),
    max_leaves=20,
)


@given(VALUES)
@settings(max_examples=400, deadline=None)
def test_dumps_equals_the_reference_encoder(value: object) -> None:
    assert dumps(value) == rfc8785.dumps(value)


@given(VALUES)
@settings(max_examples=200, deadline=None)
def test_canonical_bytes_round_trip_and_any_other_spelling_is_refused(value: object) -> None:
    canonical = rfc8785.dumps(value)
    assert loads(canonical) == value
    spaced = json.dumps(value, ensure_ascii=True, indent=1).encode()
    if spaced != canonical:
        with pytest.raises(CanonicalError):
            loads(spaced)


def test_keys_beyond_the_bmp_sort_by_utf16_code_units() -> None:
    value = {"\U0001F600": 1, "\ufb01": 2}
    assert dumps(value) == rfc8785.dumps(value)
    assert loads(rfc8785.dumps(value)) == value


@pytest.mark.parametrize("line, rule", [
    (b'{"a":1.0}', "json.integer"),
    (b'{"a":1e3}', "json.integer"),
    (b'{"a":NaN}', "json.integer"),
    (b'{"a":9007199254740992}', "json.integer"),
    (b'{"a":-0}', "json.canonical"),
    (b'{"b":1,"a":2}', "json.canonical"),
    (b'{"a":1,"a":1}', "json.canonical"),
    (b'{"a": 1}', "json.canonical"),
    (b'{"a":"\\u0041"}', "json.canonical"),
    (b'{"a":"\\ud800"}', "json.unicode"),
    (b'{"a":"\xff"}', "json.utf8"),
    (b'{"a":', "json.syntax"),
    (b'', "json.syntax"),
])
def test_not_canonical_lines_are_refused_with_their_rule(line: bytes, rule: str) -> None:
    with pytest.raises(CanonicalError) as caught:
        loads(line)
    assert caught.value.rule == rule
