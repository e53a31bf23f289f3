"""The checkpoint the ledger publishes: the newest stored one that carries the witness quorum.

Every write stores the checkpoint of its tree size; the witnessing rounds
(``ledger.infra.transparency.witnessing``) add cosignature lines to the newest one now and
then. A client that checks checkpoints under the witness policy (c2sp.org/tlog-policy) can use
only a cosigned one, so ``/v1/log/checkpoint`` and the tiles' ``checkpoint`` serve
``PublishedCheckpoints.newest()``: the newest stored checkpoint whose cosignatures by the
policy's witnesses verify and make its quorum. Without a policy (or with ``quorum none``) that
is simply the newest stored checkpoint.

Finding it stays cheap as the log grows: only notes with two signature lines or more (the
operator's and at least one cosignature) are candidates, newest first, and only those newer
than the last one found here; that one is read again so that later cosignatures on it show.
"""

from __future__ import annotations

import threading

from sqlalchemy import select

from ledger.domain.checkpoint import CheckpointError
from ledger.domain.cosignature import verify_cosignatures
from ledger.domain.errors import LedgerError
from ledger.domain.witness_policy import NONE, Policy
from ledger.infra.storage.tables import checkpoints
from ledger.infra.transparency.service import SignedCheckpoint, TransparencyLog
from ledger.infra.transparency.tiles import NoCheckpoint

PAGE = 100
TWO_SIGNATURES = "%\n\u2014 %\n\u2014 %"  # a note with the operator's signature line and at least one more


class NotWitnessed(LedgerError):
    """No stored checkpoint carries the cosignatures the witness policy asks for (yet)."""

    rule = "checkpoint.not-witnessed"


class PublishedCheckpoints:
    def __init__(self, log: TransparencyLog, policy: Policy | None) -> None:
        self._log = log
        self.policy = None if policy is None or policy.quorum == NONE else policy
        self._names = {} if self.policy is None else {w.cosigner: w.name for w in self.policy.witnesses.values()}
        self._lock = threading.Lock()
        self._found = 0  # the tree size of the newest cosigned checkpoint found so far (0: none)

    def witnessed(self, note: bytes) -> bool:
        """Whether the policy's witnesses that cosigned ``note`` make its quorum (no policy: always).
        A cosignature line by a witness of the policy that does not verify makes it not witnessed."""
        if self.policy is None:
            return True
        try:
            found = verify_cosignatures(note, list(self._names))
        except CheckpointError:
            return False
        return self.policy.satisfied({self._names[c.cosigner] for c in found})

    def newest(self) -> SignedCheckpoint:
        """The newest stored checkpoint that the witness quorum cosigned; ``NotWitnessed`` if none is
        (without a policy: the newest stored one, ``NoCheckpoint`` if there is none)."""
        if self.policy is None:
            latest = self._log.latest()
            if latest is None:
                raise NoCheckpoint("the log has no signed checkpoint yet")
            return latest
        with self._lock:
            found = self._found
        newer = self._newer_than(found)
        if newer is not None:
            with self._lock:
                self._found = max(self._found, newer.tree_size)
            return newer
        stored = self._log.stored(found) if found else None
        if stored is None:
            raise NotWitnessed(f"no checkpoint is cosigned by the witness quorum ({self.policy.describe()}) yet",
                               field="tree_size")
        return stored

    def _newer_than(self, found: int) -> SignedCheckpoint | None:
        """The newest cosigned checkpoint of more than ``found`` entries, if any (newest candidates first)."""
        below: int | None = None
        while True:
            query = select(checkpoints.c.tree_size).where(checkpoints.c.tree_size > found,
                                                          checkpoints.c.note.like(TWO_SIGNATURES))
            if below is not None:
                query = query.where(checkpoints.c.tree_size < below)
            with self._log.engine.connect() as connection:
                sizes = [int(size) for size in connection.execute(
                    query.order_by(checkpoints.c.tree_size.desc()).limit(PAGE)).scalars()]
            for size in sizes:
                candidate = self._log.stored(size)
                if candidate is not None and self.witnessed(candidate.note):
                    return candidate
            if len(sizes) < PAGE:
                return None
            below = sizes[-1]
