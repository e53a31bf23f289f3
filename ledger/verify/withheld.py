"""A scoped export's withheld lines (``ledger.bundle.layout``), and the dossiers they leave partial.

A withheld line gives its entry's leaf hash: taken as given for the tree (steps 5, 6, 8),
so every checkpoint root and consistency proof is still checked over the whole log. In a
dossier held in part it also names the dossier and why the entry is withheld; from that
entry on, the verifier cannot know the dossier's state, so it re-decides the dossier's held
entries up to the first withheld one and none after it: the dossier is neither verified nor
failed as a whole, it is counted and listed as partly re-decided.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from ledger.bundle import layout
from ledger.verify.canonical import CanonicalError, loads
from ledger.verify.errors import MalformedInput, VerificationFailed

_HEX64 = re.compile(r"[0-9a-f]{64}")
_BARE = {"leaf_hash", "log_index"}
_NAMED = {"client_ref", "leaf_hash", "log_index", "withheld"}


@dataclass(frozen=True)
class WithheldLine:
    leaf_hash: bytes
    client_ref: str | None  # the dossier, when it is held in part
    reason: str | None


def read_withheld(leaf: bytes, index: int) -> WithheldLine:
    """Line ``index`` (without its newline) as a withheld line, or ``MalformedInput`` (step 2)."""
    try:
        data = loads(leaf)
    except CanonicalError as exc:
        raise MalformedInput(2, exc.rule, f"a withheld line that is not canonical JSON: {exc}", log_index=index) from exc
    if not isinstance(data, dict) or set(data) not in (_BARE, _NAMED):
        raise MalformedInput(2, "withheld.shape", "neither an entry nor a withheld line {leaf_hash, log_index"
                             "[, client_ref, withheld]}", log_index=index)
    leaf_hash, client, reason = data["leaf_hash"], data.get("client_ref"), data.get("withheld")
    if type(leaf_hash) is not str or not _HEX64.fullmatch(leaf_hash):
        raise MalformedInput(2, "withheld.leaf-hash", "leaf_hash is not 64 lowercase hex digits", log_index=index)
    if data["log_index"] != index:
        raise VerificationFailed(2, "entry.log-index", f"line {index + 1} holds log index {data['log_index']}",
                                 log_index=index)
    if client is not None and (type(client) is not str or not _HEX64.fullmatch(client)):
        raise MalformedInput(2, "withheld.client-ref", "client_ref is not 64 lowercase hex digits", log_index=index)
    if "withheld" in data and reason not in layout.REASONS:
        raise MalformedInput(2, "withheld.reason", f"withheld is one of {', '.join(layout.REASONS)}", log_index=index)
    return WithheldLine(bytes.fromhex(leaf_hash), client, reason)


@dataclass
class Partial:
    """A dossier held in part: its first withheld entry and the reasons of all of them."""

    first_withheld: int
    reasons: Counter[str] = field(default_factory=Counter)
    held_after: int = 0  # held entries after the first withheld one: not re-decided


@dataclass
class Withheld:
    """What the withheld lines of a scoped export left out, as the verifier met them."""

    entries: int = 0
    partial: dict[str, Partial] = field(default_factory=dict)

    def add(self, index: int, line: WithheldLine) -> None:
        self.entries += 1
        if line.client_ref is not None and line.reason is not None:
            partial = self.partial.setdefault(line.client_ref, Partial(index))
            partial.reasons[line.reason] += 1

    def undecidable(self, client_ref: object) -> bool:
        """Whether a held entry of this dossier comes after one of its withheld entries
        (counted: it is signed and in the log, but not re-decided)."""
        partial = self.partial.get(client_ref) if isinstance(client_ref, str) else None
        if partial is None:
            return False
        partial.held_after += 1
        return True

    def by_reason(self) -> dict[str, int]:
        """How many partial dossiers hold a withheld entry for each reason."""
        counts: Counter[str] = Counter()
        for partial in self.partial.values():
            counts.update(partial.reasons.keys())
        return {reason: counts[reason] for reason in layout.REASONS if counts[reason]}


@dataclass(frozen=True)
class ScopeReport:
    """What a verified scoped export holds and what it could only partly re-decide."""

    auditor: str
    funders: list[str]
    withheld_entries: int
    partial: dict[str, Partial]  # client_ref -> its partial dossier, in the order first met
    by_reason: dict[str, int]  # reason -> partial dossiers with a withheld entry for it
    not_redecided: int  # held entries of partial dossiers after their first withheld entry
