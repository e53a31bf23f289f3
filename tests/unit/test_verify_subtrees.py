"""Streaming proofs (``ledger.domain.merkle.subtrees``) equal ``ledger.domain.merkle``'s and verify."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.domain.merkle import (
    TreeInputError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root_hash,
    verify_consistency,
    verify_inclusion,
)
from ledger.domain.merkle.subtrees import (
    ProofPlan,
    SubtreeTap,
    consistency_ranges,
    fold,
    inclusion_ranges,
    perfect_parts,
    perfect_root,
    proof_from_stream,
)

LEAVES = [leaf_hash(hashlib.sha256(str(i).encode()).digest()) for i in range(140)]


@pytest.mark.parametrize("size", range(1, 70))
def test_every_inclusion_proof_equals_the_merkle_library(size: int) -> None:
    leaves = LEAVES[:size]
    root = root_hash(leaves)
    for index in range(size):
        proof = proof_from_stream(inclusion_ranges(index, size), iter(LEAVES))
        assert proof == inclusion_proof(leaves, index)
        verify_inclusion(index, size, leaves[index], proof, root)


@pytest.mark.parametrize("size", range(1, 70))
def test_every_consistency_proof_equals_the_merkle_library(size: int) -> None:
    leaves = LEAVES[:size]
    for old in range(1, size + 1):
        proof = proof_from_stream(consistency_ranges(old, size), iter(LEAVES))
        assert proof == consistency_proof(leaves, old)
        verify_consistency(old, size, root_hash(leaves[:old]), root_hash(leaves), proof)


@given(st.integers(0, 139), st.integers(1, 140))
@settings(max_examples=200, deadline=None)
def test_a_range_folds_to_its_merkle_tree_hash(start: int, length: int) -> None:
    end = min(140, start + length)
    for range_start, range_end in consistency_ranges(max(1, start), end) if start < end else []:
        parts = perfect_parts(range_start, range_end)
        assert sum(size for _, size in parts) == range_end - range_start
        assert all(part_start % size == 0 for part_start, size in parts)  # aligned
        tap = SubtreeTap()
        for part in parts:
            tap.want(part)
        tap.extend(LEAVES[:range_end])
        assert fold([tap.take(part) for part in parts]) == root_hash(LEAVES[range_start:range_end])


def test_parts_behind_the_stream_are_taken_from_the_peaks() -> None:
    """The verifier registers a consistency proof when the stream reaches the old size:
    everything left of it must be a peak of the compact range at that size."""
    for old in range(1, 60):
        for size in range(old, 70):
            tap = SubtreeTap()
            tap.extend(LEAVES[:old])
            plan = ProofPlan(consistency_ranges(old, size)).want(tap)
            tap.extend(LEAVES[old:size])
            assert plan.build(tap) == consistency_proof(LEAVES[:size], old)


def test_bad_requests_are_typed_errors() -> None:
    with pytest.raises(TreeInputError):
        inclusion_ranges(5, 5)
    with pytest.raises(TreeInputError):
        consistency_ranges(0, 5)
    with pytest.raises(TreeInputError):
        consistency_ranges(6, 5)
    tap = SubtreeTap()
    tap.extend(LEAVES[:8])
    with pytest.raises(TreeInputError):
        tap.want((0, 4))  # complete, but merged into the peak (0, 8)
    with pytest.raises(TreeInputError):
        tap.take((8, 1))  # never asked for
    with pytest.raises(TreeInputError):
        ProofPlan(inclusion_ranges(3, 20)).want(SubtreeTap()).build(tap)  # stream too short


def test_kept_subtrees_are_released_after_use() -> None:
    tap = SubtreeTap()
    plan = ProofPlan(consistency_ranges(3, 10)).want(tap)
    tap.extend(LEAVES[:10])
    plan.build(tap)
    assert not tap._kept and not tap._wanted


@pytest.mark.parametrize("size", [1, 2, 4, 8, 64])
def test_a_perfect_root_is_the_merkle_tree_hash(size: int) -> None:
    assert perfect_root(LEAVES[:size]) == root_hash(LEAVES[:size])


@pytest.mark.parametrize("size", [0, 3, 6, 100])
def test_only_a_power_of_two_of_leaves_makes_a_perfect_subtree(size: int) -> None:
    with pytest.raises(TreeInputError):
        perfect_root(LEAVES[:size])
