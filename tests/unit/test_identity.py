import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.domain.errors import MalformedSubmission
from ledger.domain.identity import BSN_WEIGHTS, client_ref, validate_bsn, validate_client_ref, validate_kvk

KEY = b"k" * 32


@pytest.mark.parametrize("bsn", ["111222333", "123456782", "100000009"])
def test_valid_bsns_pass_the_eleven_test(bsn: str) -> None:
    assert validate_bsn(bsn) == bsn


@pytest.mark.parametrize(
    ("bsn", "rule"),
    [
        ("111222334", "bsn.eleven-test"),
        ("000000000", "bsn.eleven-test"),
        ("12345678", "bsn.format"),
        ("1234567890", "bsn.format"),
        ("12345678a", "bsn.format"),
        (" 11122233", "bsn.format"),
    ],
)
def test_bad_bsns_name_the_rule(bsn: str, rule: str) -> None:
    with pytest.raises(MalformedSubmission) as err:
        validate_bsn(bsn)
    assert err.value.rule == rule
    assert err.value.field == "bsn"


@given(st.from_regex(r"\A[0-9]{9}\Z"))
def test_eleven_test_matches_its_definition(bsn: str) -> None:
    passes = sum(int(d) * w for d, w in zip(bsn, BSN_WEIGHTS)) % 11 == 0 and bsn != "000000000"
    try:
        validate_bsn(bsn)
        assert passes
    except MalformedSubmission:
        assert not passes


def test_client_ref_is_a_keyed_pseudonym() -> None:
    ref = client_ref(KEY, "111222333")
    assert ref == client_ref(KEY, "111222333")
    assert ref != client_ref(b"x" * 32, "111222333")
    assert ref != client_ref(KEY, "123456782")
    assert "111222333" not in ref and len(ref) == 64
    assert validate_client_ref(ref) == ref


def test_client_ref_refuses_a_short_key_and_a_bad_bsn() -> None:
    with pytest.raises(ValueError):
        client_ref(b"short", "111222333")
    with pytest.raises(MalformedSubmission):
        client_ref(KEY, "111222334")


@pytest.mark.parametrize("kvk", ["1234567", "123456789", "abcdefgh", 12345678])
def test_kvk_is_eight_digits(kvk: object) -> None:
    with pytest.raises(MalformedSubmission) as err:
        validate_kvk(kvk)
    assert err.value.rule == "kvk.format"
    assert validate_kvk("12345678") == "12345678"


@pytest.mark.parametrize("value", ["111222333\n", "111222333 ", "\n111222333"])
def test_no_trailing_or_leading_characters_slip_through(value: str) -> None:
    with pytest.raises(MalformedSubmission):
        validate_bsn(value)
    with pytest.raises(MalformedSubmission):
        validate_kvk(value[:8] + "\n")
