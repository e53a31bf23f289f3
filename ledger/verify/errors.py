"""What the verifier reports: the step of the checklist, the entry, the rule and the detail.

As in sigstore-python, "malformed" is kept apart from "does not verify" (STYLE.md 6):

* ``MalformedInput`` - the bundle, or an auditor's input, cannot be read: a missing file, a
  line that is not canonical JSON of the expected shape, a note that is not a signed note,
  a key string that is not one. Exit code 2.
* ``VerificationFailed`` - well-formed, but something does not hold: a hash, a signature,
  a key that was not live, a verdict the rules do not give, a root. Exit code 3.
"""

from __future__ import annotations

STEPS = {
    1: "parse the manifest and the files",
    2: "entries: canonical, in log order, leaf hash as appended, receipt signed, time not going back",
    3: "envelope signatures against the key live at each log index",
    4: "re-decide every submission with the ledger's rules",
    5: "checkpoints: root at their size, signed by an operator key live at that size",
    6: "consistency between successive checkpoints (RFC 9162 proofs)",
    7: "the manifest's tree size, counts and digests; the newest checkpoint covers all",
    8: "the log extends the auditor's earlier checkpoint (--against)",
    9: "the newest checkpoint is cosigned by the witness quorum (--witness-policy)",
}


class VerifyError(Exception):
    exit_code = 3

    def __init__(self, step: int, rule: str, detail: str, *, log_index: int | None = None,
                 where: str | None = None) -> None:
        super().__init__(detail)
        self.step, self.rule, self.detail = step, rule, detail
        self.log_index, self.where = log_index, where

    @property
    def order(self) -> tuple[int, int]:
        """Failures sort by entry, then step; failures about no one entry come last."""
        return (self.log_index if self.log_index is not None else 1 << 62, self.step)

    def __str__(self) -> str:
        at = f"entry {self.log_index}" if self.log_index is not None else (self.where or "bundle")
        if self.log_index is not None and self.where:
            at += f" ({self.where})"
        return f"{at}: step ({self.step}) {STEPS[self.step]}: {self.rule}: {self.detail}"


class MalformedInput(VerifyError):
    exit_code = 2


class VerificationFailed(VerifyError):
    exit_code = 3
