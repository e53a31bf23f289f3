"""The witness's decision on an add-checkpoint request (c2sp.org/tlog-witness), in the spec's order:

1. a body that is not ``old``, proof lines, empty line, checkpoint note -> 400;
2. an origin the witness has no log key for -> 404;
3. no signature by a trusted key of that origin (unknown keys ignored) -> 403;
4. old size above the checkpoint's size -> 400;
5. old size not the size it last cosigned for this origin (0 if none) -> 409, body
   ``<size>\\n``, ``Content-Type: text/x.tlog.size``;
6. old size equal to the checkpoint's size but another root -> 409;
7. a consistency proof (RFC 6962 2.1.2; empty from 0) that does not verify -> 422;
8. otherwise store the checkpoint as the latest cosigned, then answer 200 with its
   ``cosignature/v1`` line, timed now - or at the previous cosignature's time if the clock went back.

Steps 5 to 8 run in one state transaction. A validly signed checkpoint that provably conflicts
with the cosigned one - same size, another root; or no valid proof from the cosigned size to
it - is kept as evidence whatever the answer.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.domain.checkpoint import (
    CheckpointSignatureError,
    InvalidKeyError,
    MalformedCheckpointError,
    open_checkpoint,
    parse_checkpoint_body,
    parse_verifier_key,
    split_note,
)
from ledger.domain.cosignature import cosign, cosigner_vkey
from ledger.domain.merkle import MerkleError, verify_consistency
from ledger.witness.request import MalformedRequest, parse_request
from ledger.witness.state import Cosigned, WitnessState

SIZE_TYPE = "text/x.tlog.size"
TEXT_TYPE = "text/plain; charset=utf-8"


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    content_type: str = TEXT_TYPE


class Witness:
    def __init__(self, name: str, private_key: Ed25519PrivateKey, log_vkeys: Sequence[str], state: WitnessState,
                 *, clock: Callable[[], float] = time.time) -> None:
        """``log_vkeys``: the logs' verifier keys (type 0x01); the key name is the log's origin.
        Several keys of one origin (a rotated operator key) are all trusted for it."""
        self.name, self._key, self.state, self._clock = name, private_key, state, clock
        self.vkey = cosigner_vkey(name, private_key.public_key().public_bytes_raw())  # validates the name
        self.logs: dict[str, list[str]] = {}
        for vkey in log_vkeys:
            origin, _, _ = parse_verifier_key(vkey)
            self.logs.setdefault(origin, []).append(vkey)
        if not self.logs:
            raise InvalidKeyError("a witness needs at least one log verifier key")

    def add_checkpoint(self, body: bytes) -> Reply:
        try:
            request = parse_request(body)
            text, _ = split_note(request.note)
            checkpoint = parse_checkpoint_body(text)
        except (MalformedRequest, MalformedCheckpointError) as exc:
            return Reply(400, f"malformed add-checkpoint request: {exc}\n".encode())
        keys = self.logs.get(checkpoint.origin)
        if keys is None:
            return Reply(404, f"unknown log origin {checkpoint.origin!r}\n".encode())
        try:
            open_checkpoint(request.note, keys)
        except CheckpointSignatureError as exc:
            return Reply(403, f"the checkpoint is not signed by a key of its log: {exc}\n".encode())
        if request.old_size > checkpoint.size:
            return Reply(400, f"old size {request.old_size} is above the checkpoint's size {checkpoint.size}\n".encode())
        now = int(self._clock())
        with self.state.transaction() as state:
            cosigned = state.cosigned(checkpoint.origin)
            size = 0 if cosigned is None else cosigned.tree_size

            def evidence(reason: str) -> None:
                if cosigned is not None:
                    state.record(checkpoint.origin, now, reason, request.note, cosigned.note, body)

            if cosigned is not None and checkpoint.size == size and checkpoint.root_hash != cosigned.root_hash:
                evidence(f"tree size {size} signed with another root hash than the one cosigned")
                return Reply(409, b"%d\n" % size, SIZE_TYPE)
            if request.old_size != size:
                return Reply(409, b"%d\n" % size, SIZE_TYPE)
            if cosigned is None or size == 0:
                if request.proof:
                    return Reply(422, b"a consistency proof from size 0 must be empty\n")
            elif size < checkpoint.size:
                try:
                    verify_consistency(size, checkpoint.size, cosigned.root_hash, checkpoint.root_hash, request.proof)
                except MerkleError as exc:
                    evidence(f"no valid consistency proof from the cosigned tree size {size} to {checkpoint.size}: "
                             f"{exc}")
                    return Reply(422, f"the consistency proof does not verify: {exc}\n".encode())
            elif request.proof:
                return Reply(422, b"a consistency proof between equal sizes must be empty\n")
            # a cosignature says "as of this time, the largest tree": its time never goes back, even if the clock does
            signed_at = now if cosigned is None else max(now, cosigned.cosigned_at)
            state.store(Cosigned(checkpoint.origin, checkpoint.size, checkpoint.root_hash, request.note, signed_at))
        return Reply(200, cosign(text, self.name, self._key, signed_at).encode("utf-8"))
