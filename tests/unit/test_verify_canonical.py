"""The verifier's fast canonical JSON equals the reference RFC 8785 encoder."""

from __future__ import annotations

import json

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.domain.canonical import SAFE
from ledger.verify.canonical import _SCAN, CanonicalError, _flat_and_canonical, dumps, loads
from tests.strategies import JSON, JSON_VALUES, TEXT


@given(JSON_VALUES)
@settings(max_examples=400, deadline=None)
def test_dumps_equals_the_reference_encoder(value: JSON) -> None:
    assert dumps(value) == rfc8785.dumps(value)


@given(JSON_VALUES)
@settings(max_examples=200, deadline=None)
def test_canonical_bytes_round_trip_and_any_other_spelling_is_refused(value: JSON) -> None:
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


PLAIN_TEXT = st.text(st.sampled_from("abz09-é\ufb01"), max_size=5)  # nothing to escape
FLAT = st.dictionaries(PLAIN_TEXT | TEXT, st.none() | st.booleans() | st.integers(-SAFE, SAFE) | st.sampled_from([0, -1])
                       | PLAIN_TEXT | TEXT, min_size=1, max_size=6)
EDITS = st.lists(st.tuples(st.integers(0, 400), st.sampled_from(["insert", "delete", "replace"]),
                           st.sampled_from(list(' \t\n\\"{}[],:-0aé\U0001F600') + ["-0", '"a":1,']),
                           ), max_size=3)


def edited(text: str, edits: list[tuple[int, str, str]]) -> str:
    for at, how, what in edits:
        at = at % (len(text) + 1)
        if how == "insert":
            text = text[:at] + what + text[at:]
        elif how == "delete":
            text = text[:at] + text[at + 1:]
        else:
            text = text[:at] + what + text[at + 1:]
    return text


def reference_loads(line: bytes) -> object:
    """The slow, literal rule: JSON of safe integers whose RFC 8785 form is these bytes."""
    def refuse(text: str) -> object:
        raise CanonicalError("json.integer", text)
    try:
        value = json.loads(line, parse_float=refuse, parse_constant=refuse)
        if rfc8785.dumps(value) == line:
            return value
    except (ValueError, rfc8785.CanonicalizationError):
        pass
    raise CanonicalError("json.canonical", "not canonical")


@given(FLAT, EDITS)
@settings(max_examples=1500, deadline=None)
def test_a_flat_object_told_canonical_without_encoding_is_canonical(value: dict[str, JSON],
                                                                    edits: list[tuple[int, str, str]]) -> None:
    text = edited(rfc8785.dumps(value).decode(), edits)
    try:
        parsed, end = _SCAN(text, 0)
    except (ValueError, StopIteration):
        return
    if _flat_and_canonical(text, parsed, end):
        assert text.encode() == rfc8785.dumps(parsed)
    try:
        expected = reference_loads(text.encode("utf-8", "surrogatepass"))
    except CanonicalError:
        with pytest.raises(CanonicalError):
            loads(text.encode("utf-8", "surrogatepass"))
        return
    assert loads(text.encode()) == expected


@pytest.mark.parametrize("text, plain", [
    ('{"a":1,"b":"x"}', True),
    ('{"a":1,"b":"x,y"}', False),  # a comma in a string: left to the encoder, which accepts it
    ('{"a":0,"b":"12:-05"}', False),
    ('{"a":{"b":1}}', False),
    ('{"a":[1]}', False),
    ('{"a":"b c"}', False),
    ('{"a":"\\u00e9"}', False),
    ('{}', False),
])
def test_which_objects_are_plainly_canonical(text: str, plain: bool) -> None:
    value, end = _SCAN(text, 0)
    assert _flat_and_canonical(text, value, end) is plain
    if not text.startswith('{"a":"\\u'):
        assert loads(text.encode()) == value
