"""Step (9) of the verifier: the newest checkpoint carries a witness quorum (``--witness-policy``).

The policy is a C2SP tlog-policy file (``ledger.domain.witness_policy``). The newest note must be
signed by one of the policy's logs (when it lists any), and the witnesses whose ``cosignature/v1``
lines verify over it must make the policy's quorum. A line that names a witness of the policy
and its key ID but does not verify fails (fail closed); lines by other keys are ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from ledger.bundle import layout
from ledger.domain.checkpoint import CheckpointSignatureError, MalformedCheckpointError, open_checkpoint
from ledger.domain.cosignature import verify_cosignatures
from ledger.domain.witness_policy import Policy, PolicyError, parse_policy
from ledger.verify.checkpoints import note_body
from ledger.verify.errors import MalformedInput, VerificationFailed

STEP = 9
WHERE = "--witness-policy"


@dataclass(frozen=True)
class Witnessed:
    tree_size: int
    quorum: str  # the policy's quorum, in words
    cosigned: dict[str, int]  # policy name of each witness that cosigned -> its cosignature's time


def read_policy(data: bytes) -> Policy:
    try:
        return parse_policy(data)
    except PolicyError as exc:
        raise MalformedInput(STEP, exc.rule, str(exc), where=WHERE) from exc


def check_witnesses(note: bytes, policy: Policy) -> Witnessed:
    """Check the newest checkpoint ``note`` against ``policy``; raise ``VerifyError`` if it falls short."""
    try:
        if policy.logs:
            checkpoint = open_checkpoint(note, [entry.vkey for entry in policy.logs])
        else:
            checkpoint = note_body(note)
        names = {w.cosigner: w.name for w in policy.witnesses.values()}
        found = verify_cosignatures(note, list(names))
    except MalformedCheckpointError as exc:
        raise MalformedInput(STEP, "checkpoint.note", str(exc), where="checkpoint") from exc
    except CheckpointSignatureError as exc:
        raise VerificationFailed(STEP, "witness.signature", str(exc), where="checkpoint") from exc
    cosigned = {names[c.cosigner]: c.timestamp for c in found}
    if not policy.satisfied(cosigned):
        have = ", ".join(sorted(cosigned)) or "none"
        raise VerificationFailed(STEP, "witness.quorum", f"the newest checkpoint (tree size {checkpoint.size}) is "
                                 f"cosigned by {have}; the policy needs {policy.describe()}", where="checkpoint")
    return Witnessed(checkpoint.size, policy.describe(), cosigned)


def read_witness_policy(name: str | None) -> Policy | None:
    """The policy file ``--witness-policy`` names, parsed (None without the option)."""
    if name is None:
        return None
    try:
        data = Path(name).read_bytes()
    except OSError as exc:
        raise MalformedInput(STEP, "file.unreadable", f"cannot read {name}: {exc}", where=WHERE) from exc
    return read_policy(data)


def bundle_witnesses(directory: Path, policy: Policy | None) -> Witnessed | None:
    """(9) on a bundle that passed (1)-(8): its ``checkpoint`` file is the newest note."""
    if policy is None:
        return None
    return check_witnesses((directory / layout.CHECKPOINT).read_bytes(), policy)


def witness_lines(witnessed: Witnessed) -> list[str]:
    lines = [f"witnessed: tree size {witnessed.tree_size} cosigned by {len(witnessed.cosigned)} witnesses; "
             f"quorum {witnessed.quorum} met"]
    for name, timestamp in sorted(witnessed.cosigned.items()):
        lines.append(f"  {name} cosigned at {utc(timestamp)}")
    return lines


def utc(timestamp: int) -> str:
    """POSIX seconds as an ISO 8601 UTC time (or as the number, beyond the calendar's range)."""
    try:
        return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, ValueError, OSError):
        return f"POSIX time {timestamp}"
