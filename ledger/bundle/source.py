"""A verified bundle's entries, read the way the ledger's are: the reports' input offline.

    with open_verified("trajectledger-export-4941.tar.gz", trusted_key=KEY) as bundle:
        bundle.verified.tree_size                 # what verify_bundle checked
        bundle.entries.entries(0, 1000)           # [(log_index, body)], as Ledger.entries

``open_verified`` takes a bundle directory or its ``.tar.gz`` (``archive``), runs the offline
verifier's whole checklist (``ledger.verify.verify_bundle``: its first failure is raised and
nothing is read), then hands out ``BundleEntries``: ``entries.jsonl`` as a paged source with
the shape of ``Ledger.entries`` - body ``{envelope, verdict, refusal, recorded_at}``, the
leaf's ``log_index`` taken out as the index - so anything that reads the ledger's entries
(the projections' ``EntrySource``) reads the export the same way.

A scoped export (``layout.SCOPED_FORMAT``) hands out only what it holds whole: its withheld
lines and every entry of a dossier held in part (``verified.scope.partial``) are left out,
so no report treats a partial dossier as whole; the entries handed out are numbered 0, 1,
2, ... in log order (the projections read a dense sequence).

``BundleEntries`` also hands out the dossiers the checklist rebuilt (``folded()``, a
``projections.source.FoldedSource``): re-deciding every entry (step 4) evolved each dossier
with its accepted entries, in log order, with the ledger's own ``evolve`` - what folding the
entries gives - so a report of everything recorded takes them as they are instead of reading
and folding ``entries.jsonl`` a second time. A scoped export's dossiers held in part are not
among them, as they are not among its entries.

What is read is what was verified: the dossiers are the checklist's own; when the entries are
read again (a cut-off, a listing), the file's SHA-256 and length are kept while it is read,
and at its end they must be the manifest's (read before the checklist ran, which proved the
file matched them): a file changed since is ``VerificationFailed`` (step 7), raised before a
reader that reads to the end (every report) has produced anything.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO

from ledger.bundle import layout
from ledger.bundle.archive import bundle_directory
from ledger.domain.dossier.state import DossierState
from ledger.verify import Verified, verify_bundle
from ledger.verify.errors import MalformedInput, VerificationFailed
from ledger.verify.files import FileDigest, read_manifest
from ledger.verify.withheld import ScopeReport

Entry = tuple[int, dict[str, Any]]


class BundleEntries:
    """``entries.jsonl`` as a paged source: ``entries(start, limit) -> [(log_index, body)]``.
    A page that continues the previous one reads on; any other start reads the file again
    from its first line (the projections read forward, from 0)."""

    def __init__(self, path: Path, expected: FileDigest, dossiers: Mapping[str, DossierState],
                 scope: ScopeReport | None = None) -> None:
        self.path, self.expected, self.scope = path, expected, scope
        self.dossiers = dossiers  # the checklist's (``Verified.dossiers``)
        # a scoped export: the dossiers held in part are left out
        self.leave_out = None if scope is None else frozenset(scope.partial)
        self._reported = 0  # a scoped export: the position of the next entry handed out
        self._file: BinaryIO | None = None
        self._position = 0  # the index of the next line
        self._sha256 = hashlib.sha256()
        self._bytes = 0

    def entries(self, start: int = 0, limit: int = 1000) -> list[Entry]:
        if start < 0 or limit < 0:
            raise ValueError(f"start and limit must not be negative, not {start}, {limit}")
        if self._file is None or start < self._position:
            self._rewind()
        page: list[Entry] = []
        while len(page) < limit:
            line = self._next_line()
            if line is None:
                break
            index = self._position - 1
            if self.leave_out is not None:
                self._scoped(page, start, line, index, self.leave_out)
            elif index >= start:
                page.append((index, _body(line, index)))
        return page

    def folded(self) -> Mapping[str, DossierState]:
        """The dossiers the entries handed out make, as the checklist rebuilt them."""
        return self.dossiers

    def _scoped(self, page: list[Entry], start: int, line: bytes, index: int, leave_out: frozenset[str]) -> None:
        """A scoped export's line: withheld lines, and entries of dossiers held in part, are
        skipped; the entries handed out are numbered densely, in log order."""
        if not line.startswith(layout.HELD_LINE):
            return
        body = _body(line, index)
        if body["envelope"]["payload"].get("client_ref") in leave_out:
            return
        position, self._reported = self._reported, self._reported + 1
        if position >= start:
            page.append((position, body))

    def _rewind(self) -> None:
        self.close()
        self._file = self.path.open("rb")
        self._position, self._sha256, self._bytes, self._reported = 0, hashlib.sha256(), 0, 0

    def _next_line(self) -> bytes | None:
        if self._file is None:
            raise ValueError("the entries are closed")
        line = self._file.readline()
        if not line:
            self._end()
            return None
        self._sha256.update(line)
        self._bytes += len(line)
        self._position += 1
        return line

    def _end(self) -> None:
        if FileDigest(self._sha256.hexdigest(), self._bytes) != self.expected:
            raise VerificationFailed(7, "manifest.digest", f"{layout.ENTRIES} changed after it was verified: "
                                     "no longer the SHA-256 and length the manifest gives", where=layout.ENTRIES)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> BundleEntries:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


def _body(line: bytes, index: int) -> dict[str, Any]:
    """The entry body of a leaf line (its ``log_index`` checked and taken out)."""
    try:
        body = json.loads(line)
    except ValueError as exc:
        raise MalformedInput(2, "entry.json", f"not JSON: {exc}", log_index=index) from exc
    if not isinstance(body, dict) or body.pop("log_index", None) != index:
        raise VerificationFailed(2, "entry.log-index", f"line {index + 1} does not hold log index {index}",
                                 log_index=index)
    return body


@dataclass(frozen=True)
class VerifiedBundle:
    verified: Verified  # what the checklist established: size, origin, operator keys, trust anchor
    entries: BundleEntries


@contextmanager
def open_verified(path: Path | str, *, trusted_key: str | None = None, against: bytes | None = None,
                  workers: int | None = None) -> Iterator[VerifiedBundle]:
    """The bundle at ``path`` (a directory or its ``.tar.gz``), verified, with its entries to
    read; ``VerifyError`` (``MalformedInput`` or ``VerificationFailed``) at the first failure.
    ``trusted_key``, ``against`` and ``workers`` as for ``verify_bundle``."""
    with bundle_directory(path) as directory:
        manifest = read_manifest(directory)  # the digests the checklist proves the files have
        verified = verify_bundle(directory, trusted_key=trusted_key, against=against, workers=workers)
        with BundleEntries(directory / layout.ENTRIES, manifest.files[layout.ENTRIES], verified.dossiers,
                           verified.scope) as entries:
            yield VerifiedBundle(verified, entries)
