"""Checkpoints in a bundle (checkpoints.jsonl, the auditor's --against note) and opening
them with the operator keys live at their tree size (``ledger.domain.checkpoint``, fail closed)."""

from __future__ import annotations

from dataclasses import dataclass

from ledger.bundle import layout
from ledger.domain.checkpoint import (
    Checkpoint,
    CheckpointSignatureError,
    InvalidKeyError,
    MalformedCheckpointError,
    open_checkpoint,
    parse_checkpoint_body,
    verifier_key_string,
)
from ledger.domain.merkle.subtrees import ProofPlan
from ledger.verify.canonical import CanonicalError, loads
from ledger.verify.errors import MalformedInput, VerificationFailed
from ledger.verify.files import Lines


@dataclass(frozen=True)
class NoteLine:
    """A checkpoint as the bundle lists it; ``body`` is parsed but not yet verified."""

    tree_size: int
    note: bytes
    body: Checkpoint


def note_body(note: bytes) -> Checkpoint:
    """The checkpoint a signed note carries, parsed without checking any signature."""
    split = note.rfind(b"\n\n")
    if split < 0:
        raise MalformedCheckpointError("a signed note has a blank line before its signatures")
    return parse_checkpoint_body(note[: split + 1])


def parse_note_line(line: bytes, number: int) -> NoteLine:
    """Line ``number`` (from 1) of checkpoints.jsonl; raises ``MalformedInput`` (step 1)."""
    where = f"{layout.CHECKPOINTS} line {number}"
    try:
        data = loads(line[:-1] if line.endswith(b"\n") else b"")
    except CanonicalError as exc:
        raise MalformedInput(1, exc.rule, f"not a canonical JSON line: {exc}", where=where) from exc
    if not isinstance(data, dict) or sorted(data) != list(layout.CHECKPOINT_FIELDS) \
            or not isinstance(data["note"], str) or not isinstance(data["tree_size"], int):
        raise MalformedInput(1, "checkpoint.shape", f"expected {{{', '.join(layout.CHECKPOINT_FIELDS)}}}", where=where)
    note = data["note"].encode("utf-8")
    try:
        body = note_body(note)
    except MalformedCheckpointError as exc:
        raise MalformedInput(1, "checkpoint.note", str(exc), where=where) from exc
    if body.size != data["tree_size"] or body.size < 1:
        raise MalformedInput(1, "checkpoint.size", f"tree_size {data['tree_size']} but the note says {body.size}",
                             where=where)
    return NoteLine(body.size, note, body)


def open_note(note: bytes, key_name: str, public_keys: list[bytes], *, step: int, where: str,
              log_index: int | None) -> Checkpoint:
    """Verify ``note`` with the given operator keys; an empty key list fails (fail closed)."""
    if not public_keys:
        raise VerificationFailed(step, "checkpoint.no-key", "no operator key was live at this tree size",
                                 log_index=log_index, where=where)
    try:
        return open_checkpoint(note, [verifier_key_string(key_name, key) for key in public_keys])
    except CheckpointSignatureError as exc:
        raise VerificationFailed(step, "checkpoint.signature",
                                 f"{exc} (no valid signature by an operator key live at this size)",
                                 log_index=log_index, where=where) from exc
    except (MalformedCheckpointError, InvalidKeyError) as exc:
        raise MalformedInput(step, "checkpoint.note", str(exc), log_index=log_index, where=where) from exc


def signed_by(note: bytes, verifier_key: str) -> bool:
    """Whether ``note`` carries a valid signature by this one key."""
    try:
        open_checkpoint(note, [verifier_key])
    except (CheckpointSignatureError, MalformedCheckpointError):
        return False
    return True


@dataclass
class NoteStream:
    """checkpoints.jsonl read one ahead, and the consistency proof being collected."""

    lines: Lines
    number: int = 0
    next: NoteLine | None = None
    newest: Checkpoint | None = None
    newest_note: bytes = b""
    count: int = 0
    plan: ProofPlan | None = None

    def advance(self) -> None:
        line = self.lines.next()
        if line is None:
            self.next = None
            return
        self.number += 1
        following = parse_note_line(line, self.number)
        if self.next is not None and following.tree_size <= self.next.tree_size:
            raise MalformedInput(1, "checkpoint.order", f"tree size {following.tree_size} after {self.next.tree_size}",
                                 where=f"{layout.CHECKPOINTS} line {self.number}")
        self.next = following
