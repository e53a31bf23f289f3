"""A bundle as it arrives: a directory, or the ``.tar.gz`` the API serves (``GET /v1/log/export``).

``bundle_directory(path)`` yields the directory to read: a directory as it is; an archive
unpacked into a private temporary directory, removed afterwards. Nothing is extracted by
the names the archive gives: each member must be a regular file named as one of the
bundle's files (``layout``), at the top or in one folder (the API packs
``trajectledger-export/<file>``), and is copied to that bare name in the temporary
directory. A link, a device, an absolute name, ``..``, an unknown or repeated file, or an
archive that cannot be read is ``MalformedInput`` (step 1): exit 2, as a malformed bundle.
So is one whose files add up to more than ``RATIO`` times the archive's own size (at least
``FLOOR`` bytes): a bundle's JSON compresses a few times, a decompression bomb a thousand.
"""

from __future__ import annotations

import shutil
import tarfile
import tempfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from ledger.bundle import layout
from ledger.verify.errors import MalformedInput

NAMES = frozenset((layout.MANIFEST, *layout.FILES))
RATIO = 50  # unpacked bytes per archive byte, at most
FLOOR = 256 * 1024 * 1024  # bytes any archive may unpack to


@contextmanager
def bundle_directory(path: Path | str) -> Iterator[Path]:
    """The bundle directory ``path`` names, or the one its archive holds (see the module note).
    A path that is neither a file nor a directory is passed on as a directory: reading it
    reports the missing manifest."""
    path = Path(path)
    if not path.is_file():
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="trajectledger-bundle-") as work:
        directory = Path(work)
        directory.chmod(0o700)
        unpack(path, directory)
        yield directory


def unpack(archive: Path, directory: Path, limit: int | None = None) -> None:
    """Copy the bundle's files out of ``archive`` (a tar file, compressed or not) into the
    empty ``directory`` (see the module note); ``limit``: the most bytes it may unpack to."""
    folders: set[str | None] = set()
    found: set[str] = set()
    budget = max(FLOOR, RATIO * archive.stat().st_size) if limit is None else limit
    try:
        with tarfile.open(archive, "r:*") as tar:
            for member in tar:
                parts = _member_parts(member, archive)
                if member.isdir() and len(parts) <= 1:
                    continue  # the bundle's folder itself (or "." for the top)
                if not parts:
                    raise _malformed("archive.path", f"{member.name!r} names no file", archive)
                name, parent = parts[-1], (parts[0] if len(parts) == 2 else None)
                if not member.isreg():
                    raise _malformed("archive.member-type", f"{member.name} is not a regular file "
                                     "(links, devices and nested folders are refused)", archive)
                if name not in NAMES:
                    raise _malformed("archive.member", f"{member.name} is not a file of a bundle", archive)
                folders.add(parent)
                if len(folders) > 1 or name in found:
                    raise _malformed("archive.member", f"{member.name}: the archive holds more than one bundle", archive)
                found.add(name)
                budget -= member.size  # what the member's header says it holds: exactly what is copied
                if budget < 0:
                    raise _malformed("archive.too-large", f"{archive.name} unpacks to more than its size allows "
                                     "(a decompression bomb?)", archive)
                source = tar.extractfile(member)
                if source is None:  # a regular file always has contents to read; fail closed
                    raise _malformed("archive.member", f"cannot read {member.name}", archive)
                with source, (directory / name).open("xb") as target:
                    shutil.copyfileobj(source, target)
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise _malformed("archive.unreadable", f"cannot read {archive.name} as a tar archive: {exc}", archive) from exc
    if layout.MANIFEST not in found:
        raise _malformed("manifest.missing", f"no {layout.MANIFEST} in {archive.name}", archive)


def _member_parts(member: tarfile.TarInfo, archive: Path) -> list[str]:
    """The parts of a safe member name: [], [name] or [folder, name] ("." left out)."""
    if member.name.startswith("/") or "\\" in member.name:
        raise _malformed("archive.path", f"{member.name!r}: absolute names and backslashes are refused", archive)
    parts = [part for part in PurePosixPath(member.name).parts if part != "."]
    if ".." in parts or len(parts) > 2:
        raise _malformed("archive.path", f"{member.name!r} is not a bundle file or its folder", archive)
    return parts


def _malformed(rule: str, detail: str, archive: Path) -> MalformedInput:
    return MalformedInput(1, rule, detail, where=archive.name)
