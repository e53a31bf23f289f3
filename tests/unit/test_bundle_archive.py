"""``ledger.bundle.archive``: a downloaded ``.tar.gz`` is unpacked only as the bundle's own files,
copied by their bare names into a private temporary directory; anything else is malformed."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from ledger.bundle import layout
from ledger.bundle.archive import NAMES, bundle_directory, unpack
from ledger.verify import MalformedInput

Member = tuple[tarfile.TarInfo, io.BytesIO | None]
CONTENT = {name: f"contents of {name}\n".encode() for name in sorted(NAMES)}


def regular(name: str, data: bytes) -> tuple[tarfile.TarInfo, io.BytesIO]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, io.BytesIO(data)


def write(path: Path, members: list[Member], mode: str = "w:gz") -> Path:
    with tarfile.open(path, mode) as tar:  # type: ignore[call-overload]
        for info, data in members:
            tar.addfile(info, data)
    return path


def bundle(prefix: str = "trajectledger-export/") -> list[Member]:
    members: list[Member] = []
    if prefix:
        folder = tarfile.TarInfo(prefix.rstrip("/"))
        folder.type = tarfile.DIRTYPE
        members.append((folder, None))
    return members + [regular(prefix + name, data) for name, data in CONTENT.items()]


def unpacked(archive: Path) -> dict[str, bytes]:
    with bundle_directory(archive) as directory:
        assert directory != archive.parent and oct(directory.stat().st_mode & 0o777) == "0o700"
        files = {p.name: p.read_bytes() for p in directory.iterdir()}
    assert not directory.exists(), "the temporary directory was left behind"
    return files


@pytest.mark.parametrize(("prefix", "mode"), [("trajectledger-export/", "w:gz"), ("./", "w:gz"), ("", "w"),
                                              ("any-folder/", "w:xz")])
def test_the_bundles_files_are_unpacked_by_their_names(tmp_path: Path, prefix: str, mode: str) -> None:
    assert unpacked(write(tmp_path / "export.tar.gz", bundle(prefix), mode)) == CONTENT


def test_a_directory_is_read_where_it_is(tmp_path: Path) -> None:
    with bundle_directory(tmp_path) as directory:
        assert directory == tmp_path
    with bundle_directory(tmp_path / "missing") as directory:  # reading it reports the missing manifest
        assert directory == tmp_path / "missing"


def link(name: str, kind: bytes, target: str) -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info, None


def device(name: str) -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type = tarfile.CHRTYPE
    return info, None


def nested(name: str) -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE
    return info, None


BAD: dict[str, tuple[list[Member], str]] = {
    "symlink": ([link("trajectledger-export/checkpoint", tarfile.SYMTYPE, "/etc/passwd")], "archive.member-type"),
    "hardlink": ([link("trajectledger-export/checkpoint", tarfile.LNKTYPE, "trajectledger-export/manifest.json")],
                 "archive.member-type"),
    "device": ([device("trajectledger-export/checkpoint")], "archive.member-type"),
    "nested folder": ([nested("trajectledger-export/sub")], "archive.member-type"),
    "parent": ([regular("../manifest.json", b"x")], "archive.path"),
    "parent inside": ([regular("trajectledger-export/../../manifest.json", b"x")], "archive.path"),
    "absolute": ([regular("/tmp/manifest.json", b"x")], "archive.path"),
    "backslash": ([regular("..\\manifest.json", b"x")], "archive.path"),
    "too deep": ([regular("a/b/manifest.json", b"x")], "archive.path"),
    "unknown file": ([regular("trajectledger-export/run.sh", b"x")], "archive.member"),
    "two bundles": ([regular("other-export/manifest.json", b"x")], "archive.member"),
    "top and folder": ([regular("manifest.json", b"x")], "archive.member"),
    "repeated": ([regular("trajectledger-export/entries.jsonl", b"x")], "archive.member"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_anything_but_the_bundles_files_is_malformed(tmp_path: Path, case: str) -> None:
    extra, rule = BAD[case]
    archive = write(tmp_path / "export.tar.gz", [*bundle(), *extra])
    with pytest.raises(MalformedInput) as refused, bundle_directory(archive):
        pytest.fail("an archive with a bad member was opened")
    assert (refused.value.step, refused.value.rule, refused.value.where) == (1, rule, "export.tar.gz")
    assert refused.value.exit_code == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export.tar.gz"]  # nothing written beside it
    assert not Path("/tmp/manifest.json").exists()


def test_an_archive_without_a_manifest_is_malformed(tmp_path: Path) -> None:
    archive = write(tmp_path / "export.tar.gz", [m for m in bundle() if not m[0].name.endswith(layout.MANIFEST)])
    with pytest.raises(MalformedInput) as refused, bundle_directory(archive):
        pytest.fail("opened")
    assert refused.value.rule == "manifest.missing"


@pytest.mark.parametrize("damage", ["not a tar", "truncated"])
def test_an_unreadable_archive_is_malformed(tmp_path: Path, damage: str) -> None:
    archive = write(tmp_path / "export.tar.gz", bundle())
    data = archive.read_bytes()
    archive.write_bytes(b"this is no archive\n" * 50 if damage == "not a tar" else data[:len(data) // 2])
    with pytest.raises(MalformedInput) as refused, bundle_directory(archive):
        pytest.fail("opened")
    assert refused.value.rule == "archive.unreadable" and refused.value.step == 1


def test_an_archive_that_unpacks_beyond_its_limit_is_malformed_and_leaves_nothing(tmp_path: Path) -> None:
    """A decompression bomb: many zero bytes compress to almost nothing."""
    zeros = bytes(2 * 1024 * 1024)
    archive = write(tmp_path / "bomb.tar.gz", bundle()[:1] + [regular("trajectledger-export/" + layout.MANIFEST, zeros)])
    assert archive.stat().st_size * 50 < len(zeros)  # far beyond the ratio a bundle's JSON compresses by
    target = tmp_path / "out"
    target.mkdir()
    with pytest.raises(MalformedInput) as refused:
        unpack(archive, target, limit=1024 * 1024)
    assert refused.value.rule == "archive.too-large" and list(target.iterdir()) == []
    fits = tmp_path / "fits"
    fits.mkdir()
    unpack(write(tmp_path / "ok.tar.gz", bundle()), fits)  # the default limit: a real bundle unpacks
    assert {p.name for p in fits.iterdir()} == set(CONTENT)
