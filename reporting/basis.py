"""What every figure of a report rests on: peildatum, as-known-at, the checkpoint, the denominator.

``bundle_basis`` takes it from a verified bundle (``ledger.bundle.source.open_verified``): the
checkpoint is the bundle's newest signed note (its ``checkpoint`` file), which the checklist
proved to be the log's newest; it is read here once more, held to the manifest's digest and its
signature to the verified operator keys, so a file swapped after the checklist ran gives no report.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import date

from ledger.bundle import layout
from ledger.bundle.source import VerifiedBundle
from ledger.domain.checkpoint import Checkpoint, CheckpointError, open_checkpoint
from ledger.verify.errors import VerificationFailed
from ledger.verify.files import FileDigest, read_manifest

DENOMINATOR = ("Uitstroompercentage = geslaagd / (geslaagd + niet geslaagd). Trajecten met uitkomst 'pending' "
               "(nog niet te beoordelen op de peildatum) tellen niet mee in de noemer; ze staan wel in de kolom "
               "'trajecten' en in de kolom 'pending'. Alleen trajecten die op de peildatum begonnen waren tellen mee.")


@dataclass(frozen=True)
class Basis:
    origin: str  # the log's origin line
    checkpoint_size: int
    checkpoint_root: str  # base64, as the signed note writes it
    peildatum: str
    as_known_at: str | None  # the recorded_at cut-off, None: everything the checkpoint covers
    scope: str | None = None  # a scoped export: what it withholds and what the figures leave out

    @property
    def known(self) -> str:
        return self.as_known_at or f"alles wat vastgelegd is tot en met checkpoint {self.checkpoint_size}"

    def lines(self) -> list[tuple[str, str]]:
        """The basis as (label, value) pairs, the same in every format."""
        return [
            ("peildatum", self.peildatum),
            ("stand van kennis (as known at)", self.known),
            ("log", self.origin),
            ("checkpoint", f"grootte {self.checkpoint_size}, root {self.checkpoint_root}"),
            ("noemer", DENOMINATOR),
        ] + ([("reikwijdte", self.scope)] if self.scope else [])

    def sentence(self) -> str:
        return (f"Peildatum {self.peildatum}; stand van kennis: {self.known}; checkpoint van {self.origin}: "
                f"grootte {self.checkpoint_size}, root {self.checkpoint_root}. Pending telt niet mee in de noemer."
                + (f" {self.scope}" if self.scope else ""))


def bundle_basis(bundle: VerifiedBundle, peildatum: date, as_known_at: str | None) -> Basis:
    checkpoint = newest_checkpoint(bundle)
    scope = bundle.verified.scope
    scoped = None if scope is None else (
        f"Export afgebakend voor {scope.auditor} (opdrachtgevers: {', '.join(scope.funders)}): "
        f"{scope.withheld_entries} vastleggingen van andere opdrachtgevers achtergehouden; de {len(scope.partial)} "
        "cliëntdossiers die deels in de export staan, tellen in geen enkel cijfer mee.")
    return Basis(checkpoint.origin, checkpoint.size, base64.b64encode(checkpoint.root_hash).decode("ascii"),
                 peildatum.isoformat(), as_known_at, scoped)


def newest_checkpoint(bundle: VerifiedBundle) -> Checkpoint:
    """The verified bundle's ``checkpoint`` file, opened (see the module note)."""
    directory = bundle.entries.path.parent
    note = (directory / layout.CHECKPOINT).read_bytes()
    expected = read_manifest(directory).files[layout.CHECKPOINT]
    if FileDigest(hashlib.sha256(note).hexdigest(), len(note)) != expected:
        raise VerificationFailed(7, "manifest.digest", f"{layout.CHECKPOINT} changed after it was verified",
                                 where=layout.CHECKPOINT)
    try:
        checkpoint = open_checkpoint(note, bundle.verified.operator_keys)
    except CheckpointError as exc:
        raise VerificationFailed(5, "checkpoint.signature", f"{layout.CHECKPOINT} no longer verifies: {exc}",
                                 where=layout.CHECKPOINT) from exc
    if checkpoint.size != bundle.verified.tree_size:
        raise VerificationFailed(7, "checkpoint.file", f"{layout.CHECKPOINT} is of size {checkpoint.size}, the log "
                                 f"verified is of size {bundle.verified.tree_size}", where=layout.CHECKPOINT)
    return checkpoint
