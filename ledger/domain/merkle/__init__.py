"""RFC 9162 Merkle trees: hashing, roots, proof generation and proof verification.

Pure functions over primitives (ints, bytes, sequences of 32-byte hashes).
"""

from ledger.domain.merkle.consistency import verify_consistency
from ledger.domain.merkle.errors import (
    MalformedProofError,
    MerkleError,
    RootMismatchError,
    TreeInputError,
)
from ledger.domain.merkle.hashing import EMPTY_ROOT, HASH_SIZE, leaf_hash, node_hash
from ledger.domain.merkle.inclusion import root_from_inclusion_proof, verify_inclusion
from ledger.domain.merkle.tree import (
    RootAccumulator,
    consistency_proof,
    inclusion_proof,
    root_hash,
)

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "MalformedProofError",
    "MerkleError",
    "RootAccumulator",
    "RootMismatchError",
    "TreeInputError",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "root_from_inclusion_proof",
    "root_hash",
    "verify_consistency",
    "verify_inclusion",
]
