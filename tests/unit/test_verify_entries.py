"""A line of entries.jsonl as the verifier reads it: the envelope accepted exactly when
``parse_envelope`` accepts it, the bytes cut from the line equal the serialised ones, and
the plain path (the entry template, only payload and refusal parsed) reads exactly what the
whole-line parser reads, or leaves the line to it."""

from __future__ import annotations

import base64

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.domain.entry import leaf_bytes
from ledger.domain.envelope import parse_envelope
from ledger.domain.errors import MalformedSubmission
from ledger.verify.entries import Entry, parsed_entry, plain_entry, read_entry
from ledger.verify.errors import MalformedInput
from tests.strategies import JSON

SIGNATURE = base64.b64encode(bytes(range(64))).decode()
PAYLOAD: dict[str, JSON] = {"envelope_id": "6f1c1b8e-3a52-4c1e-9d8b-2f4b5c6d7e8f", "type": "ActivityRecorded",
           "occurred_on": "2024-03-01", "client_ref": "ab" * 32, "instrument": 18,
           "trajectory_id": "0b7c6d5e-4f3a-4b2c-8d1e-0f9a8b7c6d5e"}
ENVELOPE = {"payload": PAYLOAD, "submitter": "werkfit", "key_id": "ed25519:0123456789abcdef", "signature": SIGNATURE}
REFUSAL = {"rule": "role.violation", "field": "submitter", "detail": 'a "quoted" detail, "verdict":', "conflicting_claim": None}

TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=8)
ODD: st.SearchStrategy[object] = st.none() | st.booleans() | st.integers(-5, 5) | TEXT | st.just("") | st.just("x" * 101) \
    | st.just(SIGNATURE[:-2] + "x=") | st.just(SIGNATURE[:-3] + "B==") | st.just(SIGNATURE + "AAAA") \
    | st.just({}) | st.just([SIGNATURE])


def line(envelope: object, index: int = 7, verdict: str = "accepted", refusal: object = None) -> bytes:
    return leaf_bytes({"envelope": envelope, "verdict": verdict, "refusal": refusal,
                       "recorded_at": "2024-03-01T10:00:00.000000Z"}, index)


@given(field=st.sampled_from(sorted(ENVELOPE) + ["extra"]), value=ODD, drop=st.booleans())
@settings(max_examples=300, deadline=None)
def test_an_envelope_is_accepted_exactly_when_parse_envelope_accepts_it(field: str, value: object, drop: bool) -> None:
    envelope: dict[str, object] = dict(ENVELOPE)
    if drop and field in envelope:
        del envelope[field]
    else:
        envelope[field] = value
    try:
        expected = parse_envelope(envelope)
    except MalformedSubmission as exc:
        with pytest.raises(MalformedInput) as caught:
            read_entry(line(envelope), 7)
        assert (caught.value.step, caught.value.rule, caught.value.log_index) == (2, exc.rule, 7)
        return
    entry = read_entry(line(envelope), 7)
    assert (entry.payload, entry.submitter, entry.key_id) == (expected.payload, expected.submitter, expected.key_id)
    assert entry.signature == base64.b64decode(expected.signature)


@pytest.mark.parametrize("verdict, refusal", [("accepted", None), ("refused", REFUSAL)])
@pytest.mark.parametrize("submitter", ["werkfit", 'a "quoted","signature":"x' + "\u00e9\U0001F600"])
def test_the_bytes_cut_from_a_line_are_the_serialised_ones(verdict: str, refusal: JSON, submitter: str) -> None:
    payload = {**PAYLOAD, "note": '"payload":{"signature":"x"},"log_index":1,"verdict":'}
    entry = read_entry(line({**ENVELOPE, "payload": payload, "submitter": submitter}, 7, verdict, refusal), 7)
    assert isinstance(entry, Entry)
    assert entry.signed_payload == rfc8785.dumps(payload)
    assert entry.members == b',"log_index":7,"recorded_at":"2024-03-01T10:00:00.000000Z","refusal":' \
        + rfc8785.dumps(refusal)
    assert entry.verdict_member == b',"verdict":' + rfc8785.dumps(verdict) + b"}"


def test_a_line_of_another_shape_is_malformed() -> None:
    for bad, rule in ((b'{"not":"an entry"}', "entry.shape"), (line(ENVELOPE, 7, "accepted", REFUSAL), "entry.verdict"),
                      (line(ENVELOPE)[:-1], "json.syntax"), (line(ENVELOPE).replace(b":", b": ", 1), "json.canonical")):
        with pytest.raises(MalformedInput) as caught:
            read_entry(bad, 7)
        assert (caught.value.step, caught.value.rule) == (2, rule)


PIECES = [b'"', b"\\", b" ", b"{", b"}", b"[", b",", b":", b"0", b"-0", b"7", b"A", b"=", b"\xc3\xa9", b"\xff", b"null",
          b'","signature":"', b'"},"log_index":', b',"verdict":"refused"}', b',"verdict":"accepted"}', b'"refusal":null']
EDITS = st.lists(st.tuples(st.integers(0, 1000), st.sampled_from(["insert", "delete", "replace"]), st.sampled_from(PIECES)),
                 max_size=2)
SUBMITTERS = st.sampled_from(["werkfit", "x", "y" * 100, "y" * 101, "", 'a "quoted" one', "caf\u00e9", "back\\slash"])


def edited(data: bytes, edits: list[tuple[int, str, bytes]]) -> bytes:
    for at, how, piece in edits:
        at = at % (len(data) + 1)
        if how == "insert":
            data = data[:at] + piece + data[at:]
        elif how == "delete":
            data = data[:at] + data[at + len(piece):]
        else:
            data = data[:at] + piece + data[at + len(piece):]
    return data


@given(refused=st.booleans(), submitter=SUBMITTERS, key_id=SUBMITTERS, index=st.sampled_from([0, 7, 10**15 - 1, 2**53 - 1]),
       note=st.none() | st.text(max_size=6) | st.integers(-3, 3), edits=EDITS)
@settings(max_examples=1500, deadline=None)
def test_the_plain_path_reads_exactly_what_the_parser_reads(refused: bool, submitter: str, key_id: str, index: int,
                                                            note: object, edits: list[tuple[int, str, bytes]]) -> None:
    payload = PAYLOAD if note is None else {**PAYLOAD, "note": note}
    envelope = {**ENVELOPE, "payload": payload, "submitter": submitter, "key_id": key_id}
    leaf = edited(line(envelope, index, *(("refused", REFUSAL) if refused else ("accepted", None))), edits)
    plain = plain_entry(leaf)
    try:
        expected = parsed_entry(leaf, index)
    except MalformedInput as exc:
        assert plain is None
        with pytest.raises(MalformedInput) as caught:
            read_entry(leaf, index)
        assert (caught.value.rule, str(caught.value)) == (exc.rule, str(exc))
        return
    assert plain is None or plain == expected
    assert read_entry(leaf, index) == expected


@pytest.mark.parametrize("verdict, refusal", [("accepted", None), ("refused", REFUSAL)])
def test_the_usual_line_takes_the_plain_path(verdict: str, refusal: object) -> None:
    leaf = line(ENVELOPE, 7, verdict, refusal)
    assert plain_entry(leaf) == parsed_entry(leaf, 7) == read_entry(leaf, 7)
    assert plain_entry(leaf) is not None
