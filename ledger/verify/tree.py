"""Steps (5), (6) and (8): the Merkle tree of the streamed leaf hashes against the checkpoints.

``TreeChecks`` is fed each leaf hash in log order, into one binary counter of subtree
hashes (``ledger.domain.merkle.subtrees.SubtreeTap``, RFC 9162's compact range). When the
stream reaches a checkpoint's size it opens the note with the operator keys live at that
size, compares the root (the fold of the counter's peaks), and verifies an RFC 9162
consistency proof from the previous checkpoint, generated from the same leaves and checked
with ``ledger.domain.merkle.verify_consistency`` against the two signed roots. The
auditor's earlier checkpoint (--against) is checked the same way at its size and, at the
end, against the newest checkpoint. Memory: O(log n) hashes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ledger.domain.checkpoint import Checkpoint
from ledger.domain.merkle import MerkleError, verify_consistency
from ledger.domain.merkle.subtrees import ProofPlan, SubtreeTap, consistency_ranges
from ledger.verify.checkpoints import NoteLine, NoteStream, note_body, open_note, signed_by
from ledger.verify.errors import VerificationFailed, VerifyError
from ledger.verify.files import Manifest
from ledger.verify.inputs import TrustedKey


@dataclass
class TreeChecks:
    manifest: Manifest
    notes: NoteStream
    trusted: TrustedKey | None
    old: NoteLine | None
    tap: SubtreeTap = field(default_factory=SubtreeTap)
    anchored: str = ""
    _against_plan: ProofPlan | None = None

    def append(self, leaf_hash: bytes, live_keys: Callable[[], list[bytes]]) -> None:
        """The next leaf hash; then the checks due at the new size."""
        tap = self.tap
        tap.append(leaf_hash)
        size = tap.size
        if self.notes.next is not None and self.notes.next.tree_size == size:
            self._checkpoint(size, live_keys())
        if self.old is not None and self.old.tree_size == size:
            self._against(size, live_keys())

    def root(self) -> bytes:
        """MTH of the leaves so far (at least one): the fold of the peaks, which are the
        perfect parts of [0, size) (RFC 9162 §2.1.1)."""
        return ProofPlan([(0, self.tap.size)]).want(self.tap).build(self.tap)[0]

    def _checkpoint(self, size: int, live: list[bytes]) -> None:  # (5), (6)
        notes, line = self.notes, self.notes.next
        if line is None:
            return
        where = f"checkpoint at tree size {size}"
        opened = open_note(line.note, self.manifest.key_name, live, step=5, where=where, log_index=size - 1)
        if opened.origin != self.manifest.origin:
            raise VerificationFailed(5, "checkpoint.origin", f"origin {opened.origin!r} is not the log's "
                                     f"{self.manifest.origin!r}", log_index=size - 1, where=where)
        root = self.root()
        if opened.root_hash != root:
            raise VerificationFailed(5, "checkpoint.root", f"entries 0..{size - 1} hash to root {root.hex()}; the "
                                     f"checkpoint says {opened.root_hash.hex()}", log_index=size - 1, where=where)
        if self.trusted is not None and not self.anchored and self.trusted.public_key in live \
                and signed_by(line.note, self.trusted.verifier_key):
            self.anchored = f"checkpoint at tree size {size} is signed by the trusted operator key"
        if notes.plan is not None and notes.newest is not None:
            consistent(6, notes.newest, opened, notes.plan.build(self.tap), log_index=size - 1, where=where)
        notes.newest, notes.newest_note, notes.count = opened, line.note, notes.count + 1
        notes.advance()
        if notes.next is not None:
            notes.plan = ProofPlan(consistency_ranges(size, notes.next.tree_size)).want(self.tap)

    def _against(self, size: int, live: list[bytes]) -> None:  # (8), at the old size
        where = f"the auditor's checkpoint (tree size {size})"
        if self.old is None:
            return
        opened = open_note(self.old.note, self.manifest.key_name, live, step=8, where=where, log_index=None)
        if opened.origin != self.manifest.origin:
            raise VerificationFailed(8, "against.origin", f"origin {opened.origin!r} is not this log's", where=where)
        root = self.root()
        if opened.root_hash != root:
            raise VerificationFailed(8, "against.root", f"this log's first {size} entries hash to {root.hex()}, not "
                                     f"{opened.root_hash.hex()}: the log was rewritten", where=where)
        if size < self.manifest.tree_size:
            self._against_plan = ProofPlan(consistency_ranges(size, self.manifest.tree_size)).want(self.tap)

    def final(self) -> list[VerifyError]:
        """What only the end of the stream can tell: checkpoints beyond it, coverage, --against."""
        size, notes = self.tap.size, self.notes
        failures: list[VerifyError] = []
        if notes.next is not None:
            failures.append(VerificationFailed(5, "checkpoint.beyond", f"checkpoint at tree size {notes.next.tree_size} "
                                               f"covers entries the bundle does not have (it ends after {size})",
                                               log_index=size))
        elif notes.newest is None or notes.newest.size != size:
            newest = 0 if notes.newest is None else notes.newest.size
            failures.append(VerificationFailed(7, "checkpoint.coverage", f"entries {newest}..{size - 1} are not "
                                               "covered by any checkpoint", log_index=newest))
        if self.old is not None and notes.newest is not None:
            where = f"the auditor's checkpoint (tree size {self.old.tree_size})"
            if self.old.tree_size > size:
                failures.append(VerificationFailed(8, "against.beyond", f"the auditor saw {self.old.tree_size} entries; "
                                                   f"this log has {size}: it was truncated or rewritten", where=where))
            elif self._against_plan is not None and notes.newest.size == self.manifest.tree_size == size:
                try:
                    consistent(8, note_body(self.old.note), notes.newest, self._against_plan.build(self.tap),
                               log_index=None, where=where)
                except VerifyError as exc:
                    failures.append(exc)
        return failures


def consistent(step: int, old: Checkpoint, new: Checkpoint, proof: list[bytes], *, log_index: int | None,
               where: str) -> None:
    try:
        verify_consistency(old.size, new.size, old.root_hash, new.root_hash, proof)
    except MerkleError as exc:
        raise VerificationFailed(step, "consistency.proof", f"the tree of {new.size} entries does not extend the "
                                 f"tree of {old.size}: {exc}", log_index=log_index, where=where) from exc
