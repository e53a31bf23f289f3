"""``verify_bundle``: the offline verifier, a numbered checklist that fails closed.

(1) Parse the manifest (format, origin, key name, the receipts' key, tree size, counts,
    digests) and the auditor's inputs; every listed file must be there.
Then one streaming pass over entries.jsonl, receipts.jsonl and registry.jsonl in lockstep,
checkpoints.jsonl one ahead:
(2) each line is canonical JSON of the entry shape, its log_index is its line number, its
    leaf hash SHA-256(0x00 || line) equals the receipt's (stored at append time), the
    receipt names this entry and its signature verifies, recorded_at does not go back;
    registry lines are copied exactly;
(3) the envelope's payload has a shape the ledger accepts, and its signature verifies
    against the submitter's key live at this log index (replaying the registry: a key
    revoked at N signs nothing after N; the genesis entry signs itself);
(4) the ledger's own rules re-decide the submission against the state so far (registry
    and dossiers, evolved with accepted entries only): verdict, refusal rule and
    conflicting claim must be what was recorded;
(5) at each checkpoint's size, the root of the leaves so far is the checkpoint's root and the
    note verifies with an operator key live at that size (none live -> failure); with
    --trusted-operator-key, that key must be the genesis key or have signed a checkpoint;
(6) successive checkpoints: an RFC 9162 consistency proof is generated from the streamed
    leaf hashes (``ledger.domain.merkle.subtrees``) and verified against the two signed roots
    with ``ledger.domain.merkle.verify_consistency``;
(7) the manifest's tree size is the number of entries, the newest checkpoint covers them
    all, ``checkpoint`` is the newest note, operator-keys.txt lists the replayed operator
    keys, the receipts' key is a live operator key, and counts and SHA-256 digests match;
(8) with --against OLD: the old note verifies with an operator key live at its size, the
    root of the first old-size leaves is its root, and a consistency proof from it to the
    newest checkpoint verifies.

A scoped export (``layout.SCOPED_FORMAT``) is checked the same way, entry by entry, but a
withheld line gives only its leaf hash (``ledger.verify.withheld``): it goes into the tree
as given, so (5), (6) and (8) still cover the whole log; a dossier with a withheld entry is
re-decided (4) up to that entry and not after it, and reported as partly re-decided; (7) also
checks the manifest's scope (its counts, and the mandate against the registry entries).

Ed25519 signatures are checked on the worker processes of an ``Ed25519Pool`` while the main
process streams; the reported failure is the one at the lowest log index (then the lowest step).
A receipt signature that is the previous receipt's, over the same bytes (format 2 receipts all
carry the bundle checkpoint's), is not sent again: the one verification holds for each, and a
failure is reported at the first receipt that carries it.
Memory does not grow with the number of entries; the dossier states do grow with the
number of clients.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from hashlib import sha256
from pathlib import Path
from types import MappingProxyType

from ledger.bundle import layout
from ledger.domain.checkpoint import verifier_key_string
from ledger.domain.dossier import DossierState
from ledger.domain.entry import ACCEPTED
from ledger.domain.envelope import key_id_for
from ledger.domain.errors import InvalidSubmission
from ledger.domain.payloads import REGISTRY_TYPES, validate_payload
from ledger.infra.ed25519_pool import Ed25519Pool
from ledger.verify.checkpoints import NoteLine, NoteStream
from ledger.verify.entries import Entry, read_entry
from ledger.verify.errors import MalformedInput, VerificationFailed, VerifyError
from ledger.verify.files import Lines, Manifest, read_manifest
from ledger.verify.inputs import TrustedKey, parse_old_checkpoint, parse_trusted_key
from ledger.verify.receipts import Receipts
from ledger.verify.replay import Replay
from ledger.verify.signatures import WHAT, Jobs
from ledger.verify.tree import TreeChecks
from ledger.verify.withheld import ScopeReport, Withheld, read_withheld

INLINE_BELOW = 2000  # entries: smaller bundles verify signatures in-process (no worker start-up)
NICENESS = 0  # the verifier's workers run at its own priority: an auditor's command, not a server's helpers


@dataclass(frozen=True)
class Verified:
    """What a bundle that passed every step holds."""

    origin: str
    tree_size: int
    checkpoints: int
    signatures: int
    clients: int
    operator_keys: list[str]
    anchor: str  # what the operator keys were trusted by
    against: int | None = None  # the size of the auditor's checkpoint the log extends
    scope: ScopeReport | None = None  # a scoped export: what it withholds, the dossiers held in part
    # every dossier re-decided whole (4), as its accepted entries left it: what folding the
    # held entries gives (``projections.history.fold``), a scoped export's partial ones left out
    dossiers: Mapping[str, DossierState] = field(default_factory=dict, repr=False, compare=False)


def verify_bundle(directory: Path | str, *, trusted_key: str | None = None, against: bytes | None = None,
                  workers: int | None = None) -> Verified:
    """Run the checklist; return what was verified or raise the first ``VerifyError``.

    ``workers`` processes verify the signatures (default: one per core, at most
    ``ed25519_pool.MAX_WORKERS``, none for small bundles or on one core); this function is
    their composition root: it starts them and stops them before it returns."""
    directory = Path(directory)
    manifest = read_manifest(directory)  # (1)
    trusted = None if trusted_key is None else parse_trusted_key(trusted_key)
    old = None if against is None else parse_old_checkpoint(against)
    if workers is None and manifest.tree_size < INLINE_BELOW:
        workers = 0
    with Ed25519Pool(workers, nice=NICENESS) as pool, pool.jobs() as signatures:
        run = _Run(directory, manifest, trusted, old, signatures)
        try:
            return run.verify()
        finally:
            run.close()


@dataclass
class _Run:
    directory: Path
    manifest: Manifest
    trusted: TrustedKey | None
    old: NoteLine | None
    signatures: Jobs
    replay: Replay = field(default_factory=Replay)
    withheld: Withheld = field(default_factory=Withheld)
    size: int = 0
    _recorded_at: str = ""
    _receipt_job: tuple[bytes, bytes] = (b"", b"")  # the last receipt signature sent, and the bytes it signs
    _repeated: int = 0  # receipt signatures that are that one again

    def __post_init__(self) -> None:
        self.files = {name: Lines(self.directory / name) for name in layout.FILES}
        self.receipt_lines, self.registry_lines = self.files[layout.RECEIPTS], self.files[layout.REGISTRY]
        self.tree = TreeChecks(self.manifest, NoteStream(self.files[layout.CHECKPOINTS]), self.trusted, self.old)
        self.receipt_key = self.manifest.operator_public_key
        self.receipts = Receipts(key_id_for(self.receipt_key))

    def close(self) -> None:
        for lines in self.files.values():
            lines.close()

    def verify(self) -> Verified:
        failures: list[VerifyError] = []
        try:
            self.tree.notes.advance()
            self._stream()
        except VerifyError as exc:
            failures.append(exc)
        failures += [VerificationFailed(step, "signature.invalid", f"the {WHAT[step]} does not verify", log_index=index)
                     for index, step in self.signatures.finish()]
        if not failures:
            failures = self.tree.final() + self._final_checks()
            failures = failures or self._receipt_checkpoints() or self._file_checks()
        if failures:
            raise min(failures, key=lambda failure: failure.order)
        dossiers = self._whole_dossiers()
        return Verified(
            origin=self.manifest.origin, tree_size=self.size, checkpoints=self.tree.notes.count,
            signatures=self.signatures.verified + self._repeated, clients=len(dossiers),
            operator_keys=[verifier_key_string(self.manifest.key_name, k) for k in self.replay.operator_keys],
            anchor=self.tree.anchored, against=None if self.old is None else self.old.tree_size,
            scope=self._scope_report(), dossiers=dossiers,
        )

    def _whole_dossiers(self) -> Mapping[str, DossierState]:
        dossiers, partial = self.replay.dossiers, self.withheld.partial
        return MappingProxyType({client: state for client, state in dossiers.items() if client not in partial}
                                if partial else dossiers)

    def _scope_report(self) -> ScopeReport | None:
        claim, withheld = self.manifest.scope, self.withheld
        if claim is None:
            return None
        return ScopeReport(claim.auditor, claim.funders, withheld.entries, withheld.partial, withheld.by_reason(),
                           sum(partial.held_after for partial in withheld.partial.values()))

    def _stream(self) -> None:
        entries, live_keys = self.files[layout.ENTRIES], self.replay.live_operator_keys
        while not self.signatures.failures:  # a worker found a bad signature: stop, report the first
            lines = entries.next_lines()
            if not lines:
                return
            for line in lines:
                digest = self._entry(self.size, line)
                self.size += 1
                self.tree.append(digest, live_keys)  # (5), (6), (8) when at their size

    # --- (2), (3), (4): one entry ----------------------------------------------------------

    def _entry(self, index: int, line: bytes) -> bytes:
        if not line.endswith(b"\n"):
            raise MalformedInput(2, "line.newline", "the last line does not end in a newline", log_index=index)
        leaf = line[:-1]
        if self.manifest.scope is not None and not leaf.startswith(layout.HELD_LINE):  # a scoped export's
            withheld = read_withheld(leaf, index)
            self.withheld.add(index, withheld)
            return withheld.leaf_hash
        entry = read_entry(leaf, index)
        payload, submitter, recorded_at = entry.payload, entry.submitter, entry.recorded_at
        replay, signatures = self.replay, self.signatures
        if entry.log_index != index:
            raise VerificationFailed(2, "entry.log-index", f"line {index + 1} holds log index {entry.log_index}",
                                     log_index=index)
        digest = sha256(b"\x00" + leaf).digest()
        self._receipt(index, entry, digest)
        if recorded_at < self._recorded_at:  # the ledger's rule: "as known at T" is a prefix of the log
            raise VerificationFailed(2, "entry.recorded-at", f"recorded_at {recorded_at} is before the previous "
                                     f"entry's {self._recorded_at}", log_index=index)
        self._recorded_at = recorded_at
        kind = payload.get("type")  # checked in (3); a registry entry's copy is checked now
        registry_entry = type(kind) is str and kind in REGISTRY_TYPES
        if registry_entry and self.registry_lines.next() != line:
            raise VerificationFailed(2, "registry.copy", f"{layout.REGISTRY} does not hold this registry entry",
                                     log_index=index)

        try:  # (3)
            validate_payload(payload)
            public_key = replay.signing_key(payload, submitter, entry.key_id)
        except InvalidSubmission as exc:
            raise VerificationFailed(3, exc.rule, f"the ledger could not have accepted this envelope: {exc}",
                                     log_index=index) from exc
        signatures.add(index, 3, public_key, entry.signature, entry.signed_payload)
        if not registry_entry and self.withheld.partial and self.withheld.undecidable(payload.get("client_ref")):
            return digest  # after a withheld entry of its dossier: not re-decided (withheld.py)

        decided, why = replay.decide(payload, submitter, recorded_at)  # (4)
        verdict, refusal = entry.verdict, entry.refusal
        if decided != verdict:
            reason = "" if why is None else f" ({why['rule']}: {why['detail']})"
            raise VerificationFailed(4, "verdict.differs", f"recorded {verdict}, the rules say {decided}{reason}",
                                     log_index=index)
        if refusal is not None and why is not None and (
                refusal["rule"], refusal["conflicting_claim"]) != (why["rule"], why["conflicting_claim"]):
            raise VerificationFailed(
                4, "refusal.differs", f"recorded {refusal['rule']} (conflicting claim {refusal['conflicting_claim']}), "
                f"the rules say {why['rule']} (conflicting claim {why['conflicting_claim']})", log_index=index)
        if verdict == ACCEPTED:
            replay.apply(payload, submitter, recorded_at)
        return digest

    def _receipt(self, index: int, entry: Entry, digest: bytes) -> None:
        line = self.receipt_lines.next()
        if line is None:
            raise VerificationFailed(2, "receipt.missing", f"{layout.RECEIPTS} has no receipt for this entry",
                                     log_index=index)
        job = self.receipts.check(line, index, entry, digest)
        if job == self._receipt_job:  # format 2: each receipt proves against the bundle's checkpoint, whose
            self._repeated += 1  # signature was sent with the first: it holds (or fails, at that index) for all
            return
        self._receipt_job = job
        self.signatures.add(index, 2, self.receipt_key, *job)

    # --- (5), (7) once every entry is in -------------------------------------------------

    def _final_checks(self) -> list[VerifyError]:
        failures: list[VerifyError] = []
        if self.size != self.manifest.tree_size:
            failures.append(VerificationFailed(7, "bundle.size", f"the manifest says {self.manifest.tree_size} "
                                               f"entries; {layout.ENTRIES} has {self.size}",
                                               log_index=min(self.size, self.manifest.tree_size)))
        for name, extra in ((layout.RECEIPTS, "receipt"), (layout.REGISTRY, "registry entry")):
            if self.files[name].rest():
                failures.append(VerificationFailed(2, f"{name}.extra", f"{name} has a {extra} beyond the entries",
                                                   log_index=self.size))
        if self.receipt_key not in self.replay.live_operator_keys():
            failures.append(VerificationFailed(7, "receipt.key", "the key that signed the receipts is not a live "
                                               "operator key of this log", where=layout.MANIFEST))
        replayed = "".join(verifier_key_string(self.manifest.key_name, k) + "\n" for k in self.replay.operator_keys)
        if self.files[layout.OPERATOR_KEYS].read_rest() != replayed.encode("ascii"):
            failures.append(VerificationFailed(7, "operator-keys.differ", f"{layout.OPERATOR_KEYS} does not list the "
                                               "operator keys the registry entries register", where=layout.OPERATOR_KEYS))
        if self.files[layout.CHECKPOINT].read_rest() != self.tree.notes.newest_note:
            failures.append(VerificationFailed(7, "checkpoint.file", f"{layout.CHECKPOINT} is not the newest checkpoint",
                                               where=layout.CHECKPOINT))
        return failures + self._anchor() + self._scope_checks()

    def _receipt_checkpoints(self) -> list[VerifyError]:
        """Format 2: every receipt proves inclusion in the bundle's newest checkpoint, the whole note
        (its signature lines too); checked once the tree is known good, so that a history cut short
        is reported where it was cut."""
        return [VerificationFailed(2, "receipt.checkpoint", "the receipt's checkpoint note is not the bundle's "
                                   "newest checkpoint, byte for byte", log_index=index)
                for note, index in self.receipts.notes_seen.items() if note != self.tree.notes.newest_note]

    def _scope_checks(self) -> list[VerifyError]:
        """A scoped export's manifest against what was read: its counts, and the mandate
        against the registry entries (which a scoped export always holds)."""
        claim = self.manifest.scope
        if claim is None:
            return []
        failures: list[VerifyError] = []
        for what, stated, found in (("withheld entries", claim.withheld_entries, self.withheld.entries),
                                    ("partial dossiers", claim.partial_dossiers, len(self.withheld.partial))):
            if stated != found:
                failures.append(VerificationFailed(7, "scope.count", f"the manifest says {stated} {what}; "
                                                   f"{layout.ENTRIES} has {found}", where=layout.MANIFEST))
        registry = self.replay.registry
        audits = sorted(registry.audits(claim.auditor)) if registry.role_of(claim.auditor) == "auditor" else []
        if audits != claim.funders:
            failures.append(VerificationFailed(7, "scope.mandate", f"the manifest scopes the export to {claim.auditor} "
                                               f"auditing {', '.join(claim.funders)}; the registry entries grant it "
                                               f"{', '.join(audits) or 'no mandate'}", where=layout.MANIFEST))
        return failures

    def _anchor(self) -> list[VerifyError]:
        if self.trusted is None:
            self.tree.anchored = "the genesis entry's own key (trust on first use: pass --trusted-operator-key)"
            return []
        if self.trusted.name == self.manifest.key_name and self.replay.operator_keys[:1] == [self.trusted.public_key]:
            self.tree.anchored = "the genesis entry registers the trusted operator key"
        if self.tree.anchored:
            return []
        return [VerificationFailed(5, "trust.anchor", "the trusted operator key neither registered the log's genesis "
                                   "nor signed any of its checkpoints", where="--trusted-operator-key")]

    def _file_checks(self) -> list[VerifyError]:
        failures: list[VerifyError] = []
        for count, name in layout.COUNTS.items():
            if self.files[name].lines != self.manifest.counts[count]:
                failures.append(VerificationFailed(7, "manifest.count", f"{name} has {self.files[name].lines} lines; "
                                                   f"the manifest says {self.manifest.counts[count]}", where=name))
        for name, lines in self.files.items():
            if lines.digest() != self.manifest.files[name]:
                failures.append(VerificationFailed(7, "manifest.digest", f"{name} does not have the SHA-256 and length "
                                                   "the manifest gives", where=name))
        return failures
