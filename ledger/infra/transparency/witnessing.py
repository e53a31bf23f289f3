"""The ledger asks witnesses to cosign its newest stored checkpoint (c2sp.org/tlog-witness).

A round (``Witnessing.round``) takes the newest stored checkpoint, finds which witnesses of the
policy (``TRAJECTLEDGER_WITNESS_POLICY``, tlog-policy) have not cosigned it yet, and asks each of
them concurrently, with a timeout: ``POST <url>/add-checkpoint`` with ``old <size>``, the RFC 6962
consistency proof from that size and the signed note. A 409 answers the size the witness last
cosigned: the request is made again from that size (the first request after a start says
``old 0`` unless the size is known). Each cosignature returned is verified with the witness's
key from the policy before it is added to the stored note (``checkpoints.note``; a
compare-and-swap update, so concurrent rounds never drop one another's lines). The export
bundle carries the stored notes, cosignatures included; the API and the tiles publish the newest
one the quorum cosigned (``ledger.infra.transparency.published``).

Rounds run on a background thread, at most one per ``every_seconds``, in one process per server
(``serve --workers N``: the manager's, ``api.serve``): ingest never waits for a witness, and a
witness that is down or slow costs a timeout on that thread only. Of several servers on one
database, the one holding the ``witnessing`` lease runs them (``ledger.infra.lease``; the others
check each round whether it has lapsed, ``lease.ttl`` seconds after its holder's last round).
"""

from __future__ import annotations

import http.client
import logging
import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import update
from sqlalchemy.exc import SQLAlchemyError

from ledger.domain.checkpoint import CheckpointError, split_note
from ledger.domain.cosignature import verify_cosignatures, with_signatures
from ledger.domain.witness_policy import Policy, PolicyError, PolicyWitness, check_for_log
from ledger.infra.lease import Lease
from ledger.infra.storage.tables import checkpoints
from ledger.infra.transparency.service import SignedCheckpoint, TransparencyLog
from ledger.settings import SettingsError
from ledger.witness.request import format_request

logger = logging.getLogger(__name__)

EVERY_SECONDS = 10.0
TIMEOUT_SECONDS = 5.0
MAX_ATTEMPTS = 3  # a 409 names the witness's size: ask again from it (twice at most)
SIZE_TYPE = "text/x.tlog.size"
LEASE = "witnessing"  # the name of the lease whose holder runs the rounds (``ledger.infra.lease``)


@dataclass(frozen=True)
class HttpReply:
    status: int
    content_type: str
    body: bytes


Post = Callable[[str, bytes, float], HttpReply]  # (url, body, timeout) -> reply; raises OSError


def post(url: str, body: bytes, timeout: float) -> HttpReply:
    """POST ``body`` to an http(s) URL (standard library only: the ledger imports no HTTP client)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise OSError(f"not an http(s) URL: {url!r}")
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = kind(parts.hostname, parts.port, timeout=timeout)
    try:
        connection.request("POST", parts.path + (f"?{parts.query}" if parts.query else ""), body=body,
                           headers={"content-type": "text/plain", "user-agent": "trajectledger"})
        response = connection.getresponse()
        return HttpReply(response.status, response.getheader("content-type") or "", response.read(1 << 16))
    except http.client.HTTPException as exc:
        raise OSError(f"{type(exc).__name__}: {exc}") from exc
    finally:
        connection.close()


@dataclass(frozen=True)
class Outcome:
    """One witness's answer in a round: its cosignature line, or why there is none."""

    witness: str
    tree_size: int
    line: str | None = None
    problem: str | None = None


class Witnessing:
    def __init__(self, log: TransparencyLog, policy: Policy, *, every_seconds: float = EVERY_SECONDS,
                 timeout: float = TIMEOUT_SECONDS, poster: Post = post) -> None:
        """The lease lasts two rounds plus the longest round can take (``lease.ttl``)."""
        try:
            check_for_log(policy, log.verifier_key)
        except PolicyError as exc:
            raise SettingsError(f"TRAJECTLEDGER_WITNESS_POLICY: {exc}") from exc
        self.witnesses = [w for w in policy.witnesses.values() if w.url]
        self.log, self.policy, self.every_seconds = log, policy, every_seconds
        self._sizes: dict[str, int] = {}  # the size each witness last cosigned, as far as known
        self._post, self._timeout = poster, timeout
        self._executor = ThreadPoolExecutor(max_workers=max(1, len(self.witnesses)), thread_name_prefix="witness")
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.lease = Lease(log.engine, LEASE, 2 * every_seconds + MAX_ATTEMPTS * timeout)
        self._holding = False

    # --- the background thread -------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="witnessing", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop the rounds and give the lease up, for another server to take over at once."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._executor.shutdown(wait=True, cancel_futures=True)
        if self._holding:
            try:
                self.lease.release()
            except SQLAlchemyError as exc:  # it lapses by itself
                logger.warning("witnessing lease not released: %s", exc)

    def _run(self) -> None:
        while not self._stop.wait(self.every_seconds):
            try:
                self.turn()
            except (SQLAlchemyError, CheckpointError) as exc:  # the database or a stored note: next round
                logger.warning("witnessing round failed: %s", exc)
            except Exception:  # never let the thread die silently: witnessing would stop for good
                logger.exception("witnessing round failed")

    def turn(self) -> list[Outcome] | None:
        """The background thread's step: a round if this process holds the lease (taken or
        renewed now); None while another server holds it."""
        holding = self.lease.hold()
        if holding != self._holding:
            self._holding = holding
            if holding:
                logger.info("this server pushes the checkpoints to the witnesses (lease %s)", self.lease.holder)
            else:
                logger.info("another server pushes the checkpoints to the witnesses")
        return self.round() if holding else None

    # --- one round -------------------------------------------------------------------------

    def round(self) -> list[Outcome]:
        """Ask every witness that has not cosigned the newest stored checkpoint; add what they return."""
        newest = self.log.latest()
        if newest is None:
            return []
        have = {c.cosigner for c in verify_cosignatures(newest.note, [w.cosigner for w in self.witnesses])}
        missing = [w for w in self.witnesses if w.cosigner not in have]
        outcomes = list(self._executor.map(lambda w: self._ask(w, newest), missing))
        lines = [o.line for o in outcomes if o.line is not None]
        if lines:
            self._attach(newest.tree_size, lines)
        for outcome in outcomes:
            if outcome.problem is not None:
                logger.warning("witness %s did not cosign tree size %d: %s", outcome.witness, outcome.tree_size,
                               outcome.problem)
        return outcomes

    def _ask(self, witness: PolicyWitness, checkpoint: SignedCheckpoint) -> Outcome:
        size, url = checkpoint.tree_size, f"{(witness.url or '').rstrip('/')}/add-checkpoint"
        old = self._sizes.get(witness.name, 0)
        for _ in range(MAX_ATTEMPTS):
            if old > size:
                return Outcome(witness.name, size, problem=f"the witness has cosigned tree size {old} already")
            proof = self.log.consistency_proof(old, size) if 0 < old < size else []
            try:
                reply = self._post(url, format_request(old, proof, checkpoint.note), self._timeout)
            except OSError as exc:  # refused, unreachable, timed out, not HTTP
                return Outcome(witness.name, size, problem=f"{url}: {exc}")
            text = reply.body.decode("utf-8", errors="replace")
            if reply.status == 409 and reply.content_type.split(";")[0].strip() == SIZE_TYPE:
                known = _size(text)
                if known is None or known == old:
                    return Outcome(witness.name, size, problem=f"409 with tree size {text.strip()[:40]!r}")
                old = self._sizes[witness.name] = known
                continue
            if reply.status != 200:
                return Outcome(witness.name, size, problem=f"HTTP {reply.status}: {text.strip()[:200]}")
            return self._cosigned(witness, checkpoint, reply.body)
        return Outcome(witness.name, size, problem=f"no cosignature after {MAX_ATTEMPTS} requests")

    def _cosigned(self, witness: PolicyWitness, checkpoint: SignedCheckpoint, body: bytes) -> Outcome:
        text, _ = split_note(checkpoint.note)
        try:
            found = verify_cosignatures(text + b"\n" + body, [witness.cosigner])
        except CheckpointError as exc:
            return Outcome(witness.name, checkpoint.tree_size, problem=f"answer is not a valid cosignature: {exc}")
        if not found:
            return Outcome(witness.name, checkpoint.tree_size, problem="answer holds no cosignature by its key")
        self._sizes[witness.name] = checkpoint.tree_size
        return Outcome(witness.name, checkpoint.tree_size, line=found[0].line)

    def _attach(self, tree_size: int, lines: list[str]) -> None:
        """Add the lines to the stored note (compare-and-swap: a concurrent writer's lines stay)."""
        for _ in range(10):
            stored = self.log.stored(tree_size)
            if stored is None:
                return
            merged = with_signatures(stored.note, lines)
            if merged == stored.note:
                return
            with self.log.engine.begin() as connection:
                changed = connection.execute(
                    update(checkpoints).where(checkpoints.c.tree_size == tree_size,
                                              checkpoints.c.note == stored.note.decode("utf-8"))
                    .values(note=merged.decode("utf-8"))).rowcount
            if changed == 1:
                return
        logger.warning("cosignatures for tree size %d not stored: the note kept changing", tree_size)


def _size(text: str) -> int | None:
    """A ``text/x.tlog.size`` body: a decimal size and a newline."""
    return int(text[:-1]) if re.fullmatch(r"(0|[1-9][0-9]{0,19})\n", text) else None
