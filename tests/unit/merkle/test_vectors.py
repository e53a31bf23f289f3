"""Conformance: RFC 9162 proof vectors (transparency-dev/merkle) and real CT proofs (Argon2020).

The vectors live outside the project, in ``../shared/vectors`` next to the repository root.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from ledger.domain.merkle import (
    MalformedProofError,
    MerkleError,
    RootMismatchError,
    leaf_hash,
    root_from_inclusion_proof,
    verify_consistency,
    verify_inclusion,
)

REPO_ROOT = Path(__file__).resolve().parents[3]
VECTORS = (REPO_ROOT / ".." / "shared" / "vectors" / "rfc9162").resolve()
MISSING = f"conformance vectors not found at {VECTORS} (expected ../shared/vectors next to the repo)"


def _files(kind: str) -> list[Any]:  # pytest.param(...) values
    """One pytest param per vector file, id = its path under rfc9162/; a failing one if absent."""
    files = sorted((VECTORS / kind).rglob("*.json"))
    if not files:
        return [pytest.param(None, id=f"{kind}-vectors-missing")]
    return [pytest.param(f, id=f.relative_to(VECTORS).as_posix()) for f in files]


def _load(path: Path | None) -> dict[str, Any]:
    if path is None:
        pytest.fail(MISSING)
    vector: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return vector


def _b64(value: str) -> bytes:
    return base64.b64decode(value)


def _proof(vector: dict[str, Any]) -> list[bytes]:
    return [_b64(p) for p in vector["proof"] or []]


def _check_inclusion(v: dict[str, Any]) -> None:
    verify_inclusion(v["leafIdx"], v["treeSize"], _b64(v["leafHash"]), _proof(v), _b64(v["root"]))


def _check_consistency(v: dict[str, Any]) -> None:
    verify_consistency(v["size1"], v["size2"], _b64(v["root1"]), _b64(v["root2"]), _proof(v))


def test_vector_directories_are_present() -> None:
    assert VECTORS.is_dir(), MISSING
    for kind in ("inclusion", "consistency"):
        vectors = [json.loads(f.read_text()) for f in (VECTORS / kind).rglob("*.json")]
        assert len(vectors) >= 50, f"too few {kind} vectors in {VECTORS}"
        assert {v["wantErr"] for v in vectors} == {True, False}


@pytest.mark.parametrize("path", _files("inclusion"))
def test_inclusion_vector(path: Path | None) -> None:
    vector = _load(path)
    if vector["wantErr"]:
        with pytest.raises(MerkleError):
            _check_inclusion(vector)
    else:
        _check_inclusion(vector)
        root = root_from_inclusion_proof(
            vector["leafIdx"], vector["treeSize"], _b64(vector["leafHash"]), _proof(vector)
        )
        assert root == _b64(vector["root"])


@pytest.mark.parametrize("path", _files("consistency"))
def test_consistency_vector(path: Path | None) -> None:
    vector = _load(path)
    if vector["wantErr"]:
        with pytest.raises(MerkleError):
            _check_consistency(vector)
    else:
        _check_consistency(vector)  # returns, raises nothing


# Vector categories whose error kind is unambiguous: a changed hash value is a mismatch,
# a changed proof length or a hash of the wrong size is malformed.
ERROR_KINDS = {
    RootMismatchError: ("modified proof", "random root", "swapped roots"),
    MalformedProofError: (
        "truncated proof", "trailing garbage", "preceding garbage", "inserted component",
        "removed component", "wrong leaf", "wrong root1", "wrong root2", "empty proof",
        "trailing root", "preceding root", "preceding proof",
    ),
}


def _categorised() -> list[Any]:  # pytest.param(...) values
    params = []
    for param in _files("inclusion") + _files("consistency"):
        (path,) = param.values
        desc = _load(path)["desc"] if path is not None else ""
        for error, prefixes in ERROR_KINDS.items():
            if desc.startswith(prefixes):
                params.append(pytest.param(path, error, id=param.id))
    return params or [pytest.param(None, MerkleError, id="vectors-missing")]


@pytest.mark.parametrize(("path", "error"), _categorised())
def test_vector_error_kind(path: Path | None, error: type[MerkleError]) -> None:
    vector = _load(path)
    assert vector["wantErr"] is True
    check = _check_inclusion if "leafIdx" in vector else _check_consistency
    with pytest.raises(error):
        check(vector)


# --- Argon2020: real proofs from a Certificate Transparency log of 961,984,013 entries ---

ARGON_OLD_SIZE = 3_654_490
ARGON_OLD_ROOT = "AuIZ5V6sDUj1vn3Y1K85oOaQ7y+FJJKtyRTl1edIKBQ="  # from argon2020/README.md


def _argon(name: str) -> dict[str, Any]:
    path = VECTORS / "argon2020" / name
    return _load(path if path.is_file() else None)


def _flip(value: bytes, bit: int = 0) -> bytes:
    return value[: bit // 8] + bytes([value[bit // 8] ^ (1 << bit % 8)]) + value[bit // 8 + 1 :]


def _argon_inclusion() -> tuple[int, int, bytes, list[bytes], bytes]:
    sth, entry, proof = _argon("sth.json"), _argon("entry.json"), _argon("proof.json")
    assert entry["leaf_index"] == proof["leaf_index"] == 10000
    leaf = leaf_hash(_b64(entry["leaf_input"]))
    path = [_b64(p) for p in proof["audit_path"]]
    return 10000, sth["tree_size"], leaf, path, _b64(sth["sha256_root_hash"])


def test_argon2020_inclusion_verifies() -> None:
    index, size, leaf, path, root = _argon_inclusion()
    assert size == 961_984_013
    verify_inclusion(index, size, leaf, path, root)
    assert root_from_inclusion_proof(index, size, leaf, path) == root


@pytest.mark.parametrize("element", [0, 14, 29])
def test_argon2020_inclusion_mutated_proof_fails(element: int) -> None:
    index, size, leaf, path, root = _argon_inclusion()
    path[element] = _flip(path[element], 77)
    with pytest.raises(RootMismatchError):
        verify_inclusion(index, size, leaf, path, root)


def test_argon2020_inclusion_mutated_inputs_fail() -> None:
    index, size, leaf, path, root = _argon_inclusion()
    with pytest.raises(RootMismatchError):
        verify_inclusion(index, size, _flip(leaf), path, root)
    with pytest.raises(RootMismatchError):
        verify_inclusion(index, size, leaf, path, _flip(root, 255))
    with pytest.raises(MerkleError):
        verify_inclusion(index + 1, size, leaf, path, root)
    with pytest.raises(MalformedProofError):
        verify_inclusion(index, size, leaf, path[:-1], root)


def _argon_consistency() -> tuple[list[bytes], bytes, int]:
    sth, proof = _argon("sth.json"), _argon("consistency.json")
    return [_b64(p) for p in proof["consistency"]], _b64(sth["sha256_root_hash"]), sth["tree_size"]


def test_argon2020_consistency_verifies() -> None:
    path, root, size = _argon_consistency()
    verify_consistency(ARGON_OLD_SIZE, size, _b64(ARGON_OLD_ROOT), root, path)


@pytest.mark.parametrize("element", [0, 15, 29])
def test_argon2020_consistency_mutated_proof_fails(element: int) -> None:
    path, root, size = _argon_consistency()
    path[element] = _flip(path[element], 130)
    with pytest.raises(RootMismatchError):
        verify_consistency(ARGON_OLD_SIZE, size, _b64(ARGON_OLD_ROOT), root, path)


def test_argon2020_consistency_mutated_inputs_fail() -> None:
    path, root, size = _argon_consistency()
    old_root = _b64(ARGON_OLD_ROOT)
    with pytest.raises(RootMismatchError):
        verify_consistency(ARGON_OLD_SIZE, size, _flip(old_root), root, path)
    with pytest.raises(RootMismatchError):
        verify_consistency(ARGON_OLD_SIZE, size, old_root, _flip(root), path)
    with pytest.raises(MerkleError):
        verify_consistency(ARGON_OLD_SIZE + 1, size, old_root, root, path)
    with pytest.raises(MalformedProofError):
        verify_consistency(ARGON_OLD_SIZE, size, old_root, root, path + [root])
