"""Property tests: generated proofs verify, any single change makes verification fail.

The slow literal recursive definitions of RFC 9162 §2.1.1 (MTH), §2.1.3.1 (PATH) and
§2.1.4.1 (PROOF) below exist only to cross-check the library.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.domain.merkle import (
    EMPTY_ROOT,
    MalformedProofError,
    MerkleError,
    RootAccumulator,
    RootMismatchError,
    TreeInputError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_hash,
    verify_consistency,
    verify_inclusion,
)

MAX_SIZE = 300
FAST = settings(max_examples=100, deadline=None)


def _k(n: int) -> int:
    """Largest power of two strictly smaller than n (n > 1), by counting up."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_mth(d: list[bytes]) -> bytes:
    """MTH(D[n]) exactly as written in RFC 9162 §2.1.1, over leaf hashes."""
    if not d:
        return hashlib.sha256(b"").digest()
    if len(d) == 1:
        return d[0]
    k = _k(len(d))
    return hashlib.sha256(b"\x01" + ref_mth(d[:k]) + ref_mth(d[k:])).digest()


def ref_path(m: int, d: list[bytes]) -> list[bytes]:
    """PATH(m, D[n]) exactly as written in RFC 9162 §2.1.3.1."""
    if len(d) == 1:
        return []
    k = _k(len(d))
    if m < k:
        return ref_path(m, d[:k]) + [ref_mth(d[k:])]
    return ref_path(m - k, d[k:]) + [ref_mth(d[:k])]


def ref_subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b) exactly as written in RFC 9162 §2.1.4.1."""
    if m == len(d):
        return [] if b else [ref_mth(d)]
    k = _k(len(d))
    if m <= k:
        return ref_subproof(m, d[:k], b) + [ref_mth(d[k:])]
    return ref_subproof(m - k, d[k:], False) + [ref_mth(d[:k])]


def leaves(n: int, salt: int = 0) -> list[bytes]:
    """n distinct leaf hashes."""
    return [leaf_hash(f"{salt}:{i}".encode()) for i in range(n)]


def flip(value: bytes, bit: int) -> bytes:
    return value[: bit // 8] + bytes([value[bit // 8] ^ (1 << bit % 8)]) + value[bit // 8 + 1 :]


sizes = st.integers(min_value=1, max_value=MAX_SIZE)
salts = st.integers(min_value=0, max_value=2**32)
bits = st.integers(min_value=0, max_value=255)


def test_hashing_matches_rfc_9162_definitions() -> None:
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert leaf_hash(b"") == hashlib.sha256(b"\x00").digest()
    assert node_hash(b"L" * 32, b"R" * 32) == hashlib.sha256(b"\x01" + b"L" * 32 + b"R" * 32).digest()
    assert root_hash([]) == EMPTY_ROOT == RootAccumulator().root()


@FAST
@given(st.integers(min_value=0, max_value=MAX_SIZE), salts)
def test_root_hash_matches_reference(n: int, salt: int) -> None:
    d = leaves(n, salt)
    assert root_hash(d) == ref_mth(d)


@FAST
@given(st.integers(min_value=0, max_value=MAX_SIZE), salts)
def test_accumulator_matches_root_hash_at_every_prefix(n: int, salt: int) -> None:
    d = leaves(n, salt)
    accumulator = RootAccumulator()
    assert accumulator.root() == root_hash([])
    for i, h in enumerate(d, start=1):
        accumulator.append(h)
        assert accumulator.size == i
        assert accumulator.root() == root_hash(d[:i])


def test_proofs_match_reference_exhaustively_for_small_trees() -> None:
    for n in range(1, 40):
        d = leaves(n)
        root = root_hash(d)
        for i in range(n):
            proof = inclusion_proof(d, i)
            assert proof == ref_path(i, d)
            verify_inclusion(i, n, d[i], proof, root)
        for m in range(1, n + 1):
            proof = consistency_proof(d, m)
            assert proof == ref_subproof(m, d, True)
            verify_consistency(m, n, root_hash(d[:m]), root, proof)


@FAST
@given(sizes, salts, st.data())
def test_inclusion_proofs_verify(n: int, salt: int, data: st.DataObject) -> None:
    d = leaves(n, salt)
    root = root_hash(d)
    for i in {0, n - 1, data.draw(st.integers(0, n - 1), label="index")}:
        proof = inclusion_proof(d, i)
        assert proof == ref_path(i, d)
        verify_inclusion(i, n, d[i], proof, root)


@FAST
@given(sizes, salts, st.data())
def test_consistency_proofs_verify(n: int, salt: int, data: st.DataObject) -> None:
    d = leaves(n, salt)
    root = root_hash(d)
    for m in {1, n, data.draw(st.integers(1, n), label="old size")}:
        proof = consistency_proof(d, m)
        assert proof == ref_subproof(m, d, True)
        verify_consistency(m, n, root_hash(d[:m]), root, proof)


@FAST
@given(sizes, salts, bits, st.data())
def test_inclusion_single_bit_flips_fail(n: int, salt: int, bit: int, data: st.DataObject) -> None:
    d = leaves(n, salt)
    i = data.draw(st.integers(0, n - 1), label="index")
    proof, root = inclusion_proof(d, i), root_hash(d)
    with pytest.raises(RootMismatchError):
        verify_inclusion(i, n, flip(d[i], bit), proof, root)
    with pytest.raises(RootMismatchError):
        verify_inclusion(i, n, d[i], proof, flip(root, bit))
    if proof:
        j = data.draw(st.integers(0, len(proof) - 1), label="proof element")
        proof[j] = flip(proof[j], bit)
        with pytest.raises(RootMismatchError):
            verify_inclusion(i, n, d[i], proof, root)


@FAST
@given(sizes, salts, st.data())
def test_inclusion_wrong_index_or_size_fails(n: int, salt: int, data: st.DataObject) -> None:
    d = leaves(MAX_SIZE + 1, salt)  # longer than the tree, for roots at other sizes
    i = data.draw(st.integers(0, n - 1), label="index")
    proof = inclusion_proof(d[:n], i)
    if n > 1:
        j = data.draw(st.integers(0, n - 1).filter(lambda j: j != i), label="wrong index")
        with pytest.raises(MerkleError):
            verify_inclusion(j, n, d[i], proof, root_hash(d[:n]))
    # A wrong size, claimed with that size's real root, never verifies.
    s = data.draw(st.integers(i + 1, MAX_SIZE + 1).filter(lambda s: s != n), label="wrong size")
    with pytest.raises(MerkleError):
        verify_inclusion(i, s, d[i], proof, root_hash(d[:s]))
    with pytest.raises(MalformedProofError):
        verify_inclusion(n, n, d[i], proof, root_hash(d[:n]))


@FAST
@given(sizes, salts, bits, st.data())
def test_consistency_single_bit_flips_fail(n: int, salt: int, bit: int, data: st.DataObject) -> None:
    d = leaves(n, salt)
    m = data.draw(st.integers(1, n), label="old size")
    proof, root1, root2 = consistency_proof(d, m), root_hash(d[:m]), root_hash(d)
    with pytest.raises(RootMismatchError):
        verify_consistency(m, n, flip(root1, bit), root2, proof)
    with pytest.raises(RootMismatchError):
        verify_consistency(m, n, root1, flip(root2, bit), proof)
    if proof:
        j = data.draw(st.integers(0, len(proof) - 1), label="proof element")
        proof[j] = flip(proof[j], bit)
        with pytest.raises(RootMismatchError):
            verify_consistency(m, n, root1, root2, proof)


@FAST
@given(st.integers(min_value=2, max_value=MAX_SIZE), salts, st.data())
def test_consistency_wrong_sizes_fail(n: int, salt: int, data: st.DataObject) -> None:
    d = leaves(MAX_SIZE + 1, salt)
    m = data.draw(st.integers(1, n - 1), label="old size")
    proof = consistency_proof(d[:n], m)
    # Wrong sizes, each claimed with that size's real root, never verify.
    m2 = data.draw(st.integers(1, n).filter(lambda x: x != m), label="wrong old size")
    with pytest.raises(MerkleError):
        verify_consistency(m2, n, root_hash(d[:m2]), root_hash(d[:n]), proof)
    n2 = data.draw(st.integers(m + 1, MAX_SIZE + 1).filter(lambda x: x != n), label="wrong size")
    with pytest.raises(MerkleError):
        verify_consistency(m, n2, root_hash(d[:m]), root_hash(d[:n2]), proof)
    with pytest.raises(MalformedProofError):
        verify_consistency(n, m, root_hash(d[:n]), root_hash(d[:m]), proof)


def test_malformed_inputs_are_malformed_not_mismatch() -> None:
    d = leaves(5)
    proof, root = inclusion_proof(d, 2), root_hash(d)
    bads: tuple[Callable[[], object], ...] = (
        lambda: verify_inclusion(2, 5, d[2][:31], proof, root),
        lambda: verify_inclusion(2, 5, d[2], proof, root + b"\x00"),
        lambda: verify_inclusion(2, 5, d[2], [*proof[:-1], b""], root),
        lambda: verify_inclusion(-1, 5, d[2], proof, root),
        lambda: verify_inclusion(2, 5, d[2], proof + proof[:1], root),
        lambda: verify_consistency(0, 5, root, root, []),
        lambda: verify_consistency(3, 3, root, root, [root]),
        lambda: verify_consistency(3, 5, root_hash(d[:3]), root, []),
    )
    for bad in bads:
        with pytest.raises(MalformedProofError):
            bad()
    with pytest.raises(RootMismatchError) as info:
        verify_consistency(5, 5, root_hash(d[:4]), root, [])
    assert (info.value.expected, info.value.calculated) == (root, root_hash(d[:4]))
    verify_consistency(5, 5, root, root, [])  # returns, raises nothing


def test_tree_input_errors() -> None:
    d = leaves(4)
    for bad in (
        lambda: root_hash([*d, b"short"]),
        lambda: inclusion_proof(d, 4),
        lambda: inclusion_proof([], 0),
        lambda: consistency_proof(d, 0),
        lambda: consistency_proof(d, 5),
        lambda: RootAccumulator().append(b"\x00" * 33),
    ):
        with pytest.raises(TreeInputError):
            bad()


def test_large_tree_proofs() -> None:
    d = leaves(100_003)
    accumulator = RootAccumulator()
    accumulator.extend(d[:65_536])
    assert accumulator.root() == root_hash(d[:65_536])
    accumulator.extend(d[65_536:])
    root = root_hash(d)
    assert accumulator.root() == root
    for i in (0, 65_535, 65_536, 100_002):
        verify_inclusion(i, len(d), d[i], inclusion_proof(d, i), root)
    for m in (1, 65_536, 99_999):
        verify_consistency(m, len(d), root_hash(d[:m]), root, consistency_proof(d, m))
