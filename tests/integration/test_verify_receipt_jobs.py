"""The verifier's Ed25519 jobs for format 2 receipts: every receipt of a bundle proves against
its checkpoint and carries that checkpoint's signature, so the signature goes to the workers
once - not once per entry - and still fails closed: a receipt carrying another signature is
checked on its own, and a bad signature is reported at the first receipt that carries it."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest

from ledger.bundle import layout
from ledger.infra.ed25519_pool import Jobs
from ledger.verify import VerificationFailed, verify_bundle
from tests.support import exported_synthetic

SIGNATURE_LINE = "\u2014 ".encode()  # a note's signature line: an em dash, the key name, base64(key hash + signature)


@pytest.fixture
def bundle(sqlite_url: str, tmp_path: Path) -> Path:
    return exported_synthetic(sqlite_url, tmp_path / "bundle", seed=3, clients=10, batch=40)


def sent(monkeypatch: pytest.MonkeyPatch) -> Counter[int]:
    """Jobs added to the workers' stream, per step (2 receipts, 3 envelopes)."""
    steps: Counter[int] = Counter()
    add = Jobs.add

    def counted(self: Jobs, log_index: int, step: int, *rest: bytes) -> None:
        steps[step] += 1
        add(self, log_index, step, *rest)

    monkeypatch.setattr(Jobs, "add", counted)
    return steps


def bend_signature(line: bytes) -> bytes:
    """The receipt with one character of its checkpoint's signature changed (still base64)."""
    at = line.rindex(SIGNATURE_LINE)
    at = line.index(b" ", at + len(SIGNATURE_LINE)) + 40  # inside the signature, past the 4-byte key hash
    return line[:at] + (b"B" if line[at:at + 1] != b"B" else b"C") + line[at + 1:]


def test_the_checkpoint_signature_of_format_2_receipts_is_verified_once(bundle: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    receipts = (bundle / layout.RECEIPTS).read_bytes().splitlines()
    assert all(b'"receipt_version":2' in line for line in receipts)
    steps = sent(monkeypatch)
    verified = verify_bundle(bundle, workers=0)
    assert steps == {3: verified.tree_size, 2: 1}
    assert verified.signatures == 2 * verified.tree_size  # each receipt's signature counts as checked


@pytest.mark.parametrize("bent", ["all", "one"])
def test_a_bad_receipt_signature_is_reported_at_the_first_receipt_carrying_it(bundle: Path, tmp_path: Path,
                                                                             bent: str) -> None:
    copy = tmp_path / "bent"
    shutil.copytree(bundle, copy)
    lines = (copy / layout.RECEIPTS).read_bytes().splitlines(keepends=True)
    index = 0 if bent == "all" else len(lines) // 2
    for i in range(index, len(lines) if bent == "all" else index + 1):
        lines[i] = bend_signature(lines[i])
    (copy / layout.RECEIPTS).write_bytes(b"".join(lines))
    with pytest.raises(VerificationFailed) as failed:
        verify_bundle(copy, workers=0)
    assert (failed.value.step, failed.value.rule, failed.value.log_index) == (2, "signature.invalid", index)
