"""``replay``, ``flags`` and ``payments --bundle PATH``: an audit office's reports from the export
it downloaded and verified, with no database, keys or settings. The bundle is verified first
(a tampered one gives no report: exit 3, the first failing step as ``verify`` names it), then
reported on: the same output, byte for byte, as the same command on the operator's database
(SQLite and PostgreSQL), for every definition, the ``employed-q2`` plugin, several cut-offs
and peildatums - from the bundle directory and from the ``.tar.gz`` the API serves."""

from __future__ import annotations

import json
import os
import shutil
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import cli.main as cli
from api.exports import FOLDER, export_archive
from ledger.application import Ledger
from ledger.bundle import layout
from ledger.bundle.export import export_bundle
from ledger.bundle.source import open_verified
from ledger.domain.checkpoint import verifier_key_string
from ledger.domain.envelope import public_key_bytes
from ledger.reader import LedgerReader
from ledger.synthetic import generate
from ledger.verify import VerificationFailed
from projections.history import known_at_day
from projections.source import iter_entries
from tests.support import new_settings

CLIENTS = 40
ALL = ["six-month-rule", "ladder-step", "voluntary-stop", "contract-6m", "composite-2009", "employed-q2"]


@dataclass(frozen=True)
class Recorded:
    ledger: Ledger
    bundle: Path  # what `trajectledger export` writes
    archive: Path  # what GET /v1/log/export serves
    cutoffs: list[str]  # recorded_at instants a third and two thirds into the log
    last_day: str  # the Dutch day of the last entry: a date cut-off that keeps every entry


def record(url: str, directory: Path) -> Recorded:
    ledger = Ledger(new_settings(url))
    history = generate(seed=5, clients=CLIENTS, operator_key=ledger.settings.operator_key, pseudonymise=ledger.pseudonym)
    for item in history.registry:
        ledger.submit(item.envelope)
    envelopes = [item.envelope for item in history.submissions]
    for start in range(0, len(envelopes), 50):  # several batches: several recorded_at instants
        ledger.submit_batch(envelopes[start:start + 50])
    export_bundle(ledger, directory / "bundle")
    served = export_archive(ledger)  # api/exports.py, as the export route packs it
    archive = directory / served.filename
    shutil.copy(served.path, archive)
    served.remove()
    size = ledger.log_size()
    recorded_at = [body["recorded_at"] for _, body in ledger.entries(0, size)]
    return Recorded(ledger, directory / "bundle", archive, [recorded_at[size // 3], recorded_at[2 * size // 3]],
                    known_at_day(recorded_at[-1]).isoformat())


@pytest.fixture
def recorded(database_url: str, tmp_path: Path) -> Iterator[Recorded]:
    found = record(database_url, tmp_path)
    yield found
    found.ledger.close()


@pytest.fixture
def on_sqlite(sqlite_url: str, tmp_path: Path) -> Iterator[Recorded]:
    """The same history where the database plays no part in what is tested (the bundle side)."""
    found = record(sqlite_url, tmp_path)
    yield found
    found.ledger.close()


def _no_database() -> NoReturn:
    raise AssertionError("a report on a bundle opened the ledger")


def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], argv: list[str],
        ledger: Ledger | None = None) -> tuple[int, str, str]:
    """``trajectledger ARGV`` on the database of ``ledger``, or (None) with no database, no keys,
    no settings at all: opening the ledger fails the test."""
    monkeypatch.delenv("TRAJECTLEDGER_KEY_DIR", raising=False)
    if ledger is None:
        monkeypatch.setattr(cli, "open_ledger", _no_database)
        monkeypatch.setattr(cli, "open_reader", _no_database)
        monkeypatch.setenv("TRAJECTLEDGER_DATABASE_URL", "sqlite:////no/such/folder/ledger.sqlite3")
    else:  # the operator's database, read with no keys, as the read-only commands do without them
        settings = ledger.settings
        monkeypatch.setattr(cli, "open_ledger", lambda: Ledger(settings))
        monkeypatch.setattr(cli, "open_reader", lambda: LedgerReader(settings.database_url))
    code = cli.main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def cases(r: Recorded) -> list[list[str]]:
    early, late = r.cutoffs
    replay, payments = ["replay", "--definition", *ALL], ["payments", "--definition", *ALL]
    return [
        *([*replay, "--peildatum", day] for day in ("2023-06-30", "2025-06-30", "2026-12-31")),
        *([*replay, "--as-known-at", cut] for cut in (early, late, r.last_day)),  # peildatum: the cut-off's day
        [*replay, "--as-known-at", late, "--peildatum", "2025-12-31", "--by", "funder"],
        ["replay", "--peildatum", "2025-12-31", "--by", "cohort"],  # every installed definition
        ["replay", "--definition", "employed-q2", "contract-6m", "--peildatum", "2026-06-30", "--only", "differences"],
        ["flags"],  # no peildatum: every fact known counts
        ["flags", "--peildatum", "2024-12-31"],
        ["flags", "--as-known-at", early],
        ["flags", "--flag", "contract-under-six-months", "secondment-via-provider", "--peildatum", "2026-06-30"],
        *([*payments, "--peildatum", day] for day in ("2024-12-31", "2026-12-31")),
        *(["payments", "--as-known-at", cut, "--peildatum", "2026-12-31"] for cut in (early, late)),
    ]


def test_reports_on_the_bundle_print_what_the_database_prints(recorded: Recorded, monkeypatch: pytest.MonkeyPatch,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    size = recorded.ledger.log_size()
    documents: dict[str, Any] = {}
    for case in cases(recorded):
        argv = [*case, "--format", "json"]
        code, expected, _ = run(monkeypatch, capsys, argv, recorded.ledger)
        assert code == 0, argv
        for path in (recorded.bundle, recorded.archive):
            code, out, err = run(monkeypatch, capsys, [*argv, "--bundle", str(path)])
            assert (code, out) == (0, expected), f"{argv} on {path.name}"
            assert f"verified {size} entries" in err and "trust on first use" in err
        documents[" ".join(case)] = json.loads(expected)

    # the numbers compared are worth comparing: outcomes vary, and the cut-offs and peildatums matter
    early, late = recorded.cutoffs
    full = documents[f"replay --definition {' '.join(ALL)} --peildatum 2026-12-31"]
    total = full["rates"][-1]
    assert total["group"] == "(all)" and total["trajectories"] >= CLIENTS // 2
    assert all(total["outcomes"][name]["success"] > 0 and total["outcomes"][name]["failure"] > 0 for name in ALL)
    assert full["differences"], "the definitions never disagree"
    known = [documents[f"replay --definition {' '.join(ALL)} --as-known-at {cut}"]["rates"][-1]["trajectories"]
             for cut in (early, late)]
    assert 0 < known[0] < known[1] < documents[f"replay --definition {' '.join(ALL)} --as-known-at {recorded.last_day}"][
        "rates"][-1]["trajectories"]
    owed = documents[f"payments --definition {' '.join(ALL)} --peildatum 2026-12-31"]["contracts"]
    assert sum(c["owed_cents"] for c in owed) > 0 and all(set(c["owed_if"]) == set(ALL) for c in owed)
    assert len(documents["flags"]["flags"]) > len(documents[f"flags --as-known-at {early}"]["flags"]) > 0


def test_table_and_csv_are_the_same_too(on_sqlite: Recorded, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    for fmt in ("table", "csv"):
        for case in (["replay", "--definition", *ALL, "--peildatum", "2026-06-30"], ["payments", "--peildatum", "2026-06-30"],
                     ["flags", "--peildatum", "2026-06-30"]):
            argv = [*case, "--format", fmt]
            code, expected, _ = run(monkeypatch, capsys, argv, on_sqlite.ledger)
            assert code == 0 and expected.count("\n") > 5
            assert run(monkeypatch, capsys, [*argv, "--bundle", str(on_sqlite.archive)])[:2] == (0, expected)


def tamper(bundle: Path, index: int) -> None:
    """Change one byte of entry ``index``: a digit of its payload's occurred_on year."""
    path = bundle / layout.ENTRIES
    lines = path.read_bytes().splitlines(keepends=True)
    at = lines[index].index(b'"occurred_on":"20') + len(b'"occurred_on":"20') + 1
    line = bytearray(lines[index])
    line[at] = ord("0") + (line[at] - ord("0") + 1) % 10
    lines[index] = bytes(line)
    path.write_bytes(b"".join(lines))


def pack(bundle: Path, archive: Path) -> Path:
    """A .tar.gz as the API packs it (``api.exports``)."""
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(bundle, arcname=FOLDER)
    return archive


@pytest.mark.parametrize("form", ["directory", "tar.gz"])
def test_a_tampered_bundle_gives_no_report(on_sqlite: Recorded, tmp_path: Path, form: str,
                                           monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    bundle = tmp_path / "tampered"
    shutil.copytree(on_sqlite.bundle, bundle)
    index = on_sqlite.ledger.log_size() // 2
    tamper(bundle, index)
    path = bundle if form == "directory" else pack(bundle, tmp_path / "tampered.tar.gz")

    code, out, _ = run(monkeypatch, capsys, ["verify", str(path), "--workers", "0"])
    assert code == 3
    failed = out.strip()
    assert failed.startswith(f"FAILED: entry {index}: step (2) ") and "\n" not in failed
    for report in (["replay", "--peildatum", "2026-06-30"], ["flags"], ["payments", "--peildatum", "2026-06-30"]):
        code, out, err = run(monkeypatch, capsys, [*report, "--format", "json", "--bundle", str(path)])
        assert (code, out, err.strip()) == (3, "", failed), report  # no report; the failure as verify names it


def test_a_malformed_bundle_gives_no_report(on_sqlite: Recorded, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    no_manifest = tmp_path / "no-manifest"
    shutil.copytree(on_sqlite.bundle, no_manifest)
    (no_manifest / layout.MANIFEST).unlink()
    code, out, err = run(monkeypatch, capsys, ["replay", "--peildatum", "2026-06-30", "--bundle", str(no_manifest)])
    assert (code, out) == (2, "") and "step (1)" in err and "manifest.missing" in err

    linked = tmp_path / "linked.tar.gz"  # a link in the archive: refused before anything is read
    with tarfile.open(linked, "w:gz") as tar:
        tar.add(on_sqlite.bundle, arcname=FOLDER)
        link = tarfile.TarInfo(f"{FOLDER}/{layout.CHECKPOINT}")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tar.addfile(link)
    for argv in (["verify", str(linked)], ["flags", "--bundle", str(linked)]):
        code, out, err = run(monkeypatch, capsys, argv)
        assert code == 2 and "archive.member-type" in out + err and "FAILED: linked.tar.gz: step (1)" in out + err
        assert not (argv[0] == "flags" and out)


def test_verify_reads_the_archive_as_it_reads_the_directory(on_sqlite: Recorded, monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    code, from_directory, _ = run(monkeypatch, capsys, ["verify", str(on_sqlite.bundle)])
    assert code == 0 and f"verified {on_sqlite.ledger.log_size()} entries" in from_directory
    assert run(monkeypatch, capsys, ["verify", str(on_sqlite.archive)])[:2] == (0, from_directory)


def test_the_auditors_anchors_apply(on_sqlite: Recorded, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    report = ["payments", "--peildatum", "2026-06-30", "--format", "json", "--bundle", str(on_sqlite.archive)]
    _, untrusted, _ = run(monkeypatch, capsys, report)
    pinned = tmp_path / "operator.key"
    pinned.write_text(on_sqlite.ledger.transparency.verifier_key + "\n")
    kept = tmp_path / "kept.checkpoint"
    kept.write_bytes((on_sqlite.bundle / layout.CHECKPOINT).read_bytes())
    code, out, err = run(monkeypatch, capsys, [*report, "--trusted-operator-key", str(pinned), "--against", str(kept)])
    assert (code, out) == (0, untrusted) and "trusted by: the genesis entry registers the trusted operator key" in err

    other = tmp_path / "other.key"
    other.write_text(verifier_key_string(on_sqlite.ledger.transparency.key_name,
                                         public_key_bytes(Ed25519PrivateKey.generate())) + "\n")
    code, out, err = run(monkeypatch, capsys, [*report, "--trusted-operator-key", str(other)])
    assert (code, out) == (3, "") and "trust.anchor" in err

    code, out, err = run(monkeypatch, capsys, ["flags", "--trusted-operator-key", str(pinned)])
    assert (code, out) == (2, "") and "--trusted-operator-key only apply to a report on an export" in err


def test_the_bundle_is_read_as_the_ledger_is(on_sqlite: Recorded) -> None:
    ledger = on_sqlite.ledger
    size = ledger.log_size()
    with open_verified(on_sqlite.archive, workers=0) as bundle:
        assert bundle.verified.tree_size == size
        assert list(iter_entries(bundle.entries, page_size=97)) == list(iter_entries(ledger, page_size=97))
        assert bundle.entries.entries(size - 3, 10) == ledger.entries(size - 3, 10)
        assert bundle.entries.entries(5, 4) == ledger.entries(5, 4)  # backwards: read again from the start
        assert bundle.entries.entries(size, 10) == []


def test_entries_changed_after_verification_are_not_read(on_sqlite: Recorded, tmp_path: Path) -> None:
    bundle = tmp_path / "copy"
    shutil.copytree(on_sqlite.bundle, bundle)
    with open_verified(bundle, workers=0) as opened:
        tamper(bundle, 3)
        with pytest.raises(VerificationFailed) as failed:
            list(iter_entries(opened.entries))
    assert (failed.value.step, failed.value.rule, failed.value.where) == (7, "manifest.digest", layout.ENTRIES)
    assert os.path.isdir(bundle)  # a directory is read where it is, never removed
