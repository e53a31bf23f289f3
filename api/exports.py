"""The export bundle as one download: ``ledger.bundle.export.export_bundle`` writes the
bundle directory (the whole log, or scoped to an auditor's mandate); this packs it into a
``.tar.gz`` in a temporary folder that is removed once the response is sent."""

from __future__ import annotations

import shutil
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ledger.application import Ledger
from ledger.bundle.export import export_bundle

FOLDER = "trajectledger-export"


@dataclass(frozen=True)
class Archive:
    path: Path
    tree_size: int

    @property
    def filename(self) -> str:
        return f"{FOLDER}-{self.tree_size}.tar.gz"

    def remove(self) -> None:
        shutil.rmtree(self.path.parent, ignore_errors=True)


def export_archive(ledger: Ledger, for_auditor: str | None = None) -> Archive:
    work = Path(tempfile.mkdtemp(prefix="trajectledger-export-"))
    try:
        summary = export_bundle(ledger, work / FOLDER, for_auditor=for_auditor)
        archive = work / "export.tar.gz"
        with tarfile.open(archive, "w:gz") as tar:
            tar.add(work / FOLDER, arcname=FOLDER)
        shutil.rmtree(work / FOLDER)
        return Archive(archive, summary.tree_size)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
