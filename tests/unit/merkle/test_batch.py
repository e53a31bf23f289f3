"""A batch appended to a frontier: the new root and every new leaf's proof equal those of the
reference implementation (``ledger.domain.merkle``) over the whole log."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.domain.merkle import TreeInputError, inclusion_proof, root_hash
from ledger.domain.merkle.batch import BatchTree, Frontier


def leaves(n: int) -> list[bytes]:
    return [hashlib.sha256(b"leaf %d" % i).digest() for i in range(n)]


@pytest.mark.parametrize("old", [0, 1, 2, 3, 5, 8, 13, 31, 32, 33])
@pytest.mark.parametrize("added", [1, 2, 3, 7, 16, 19])
def test_root_and_proofs_match_the_reference(old: int, added: int) -> None:
    hashes = leaves(old + added)
    tree = BatchTree(Frontier().extended(hashes[:old]), hashes[old:])
    assert tree.size == old + added
    assert tree.root() == root_hash(hashes)
    assert tree.new == Frontier().extended(hashes)
    for index in range(old, old + added):
        assert tree.proof(index) == inclusion_proof(hashes, index)


@given(st.integers(0, 300), st.integers(1, 70), st.data())
def test_any_batch_any_leaf(old: int, added: int, data: st.DataObject) -> None:
    hashes = leaves(old + added)
    tree = BatchTree(Frontier().extended(hashes[:old]), hashes[old:])
    index = data.draw(st.integers(old, old + added - 1))
    assert tree.proof(index) == inclusion_proof(hashes, index)
    assert tree.root() == root_hash(hashes)


def test_a_leaf_outside_the_batch_has_no_proof_here() -> None:
    hashes = leaves(10)
    tree = BatchTree(Frontier().extended(hashes[:6]), hashes[6:])
    for index in (5, 10):
        with pytest.raises(TreeInputError):
            tree.proof(index)


def test_a_frontier_has_one_peak_per_set_bit() -> None:
    with pytest.raises(TreeInputError):
        Frontier(3, (bytes(32),))
    assert len(Frontier().extended(leaves(13)).peaks) == 3
