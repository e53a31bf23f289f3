"""A stock Go client reads the log: ``tests/interop/go/tlogcheck``, built offline against the
packaged ``golang.org/x/mod`` (Debian's golang-golang-x-mod-dev, GOPATH mode, no network), checks
the checkpoint note with ``sumdb/note``, rebuilds its root from the tiles of ``trajectledger tiles
DIR`` and from the tiles the API serves (``sumdb/tlog``: ``TileHashReader`` over a ``TileReader``
of C2SP paths, ``TreeHash``), proves and checks every entry (``ProveRecord``/``CheckRecord``) and
an older checkpoint's consistency (``ProveTree``/``CheckTree``), and checks a ``trajectledger
receipt --tlog-proof``. A changed tile, bundle or proof byte, or another key, makes it fail.

Where ``go`` or the x/mod sources are missing the tests are skipped, saying what to install;
under CI (``CI=true``) they fail instead.
"""

from __future__ import annotations

import base64
import contextlib
import io
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from api.app import create_app
from api.settings import ApiSettings
from cli.main import main
from ledger.application import Ledger
from ledger.domain.checkpoint import verifier_key_string
from ledger.domain.envelope import public_key_bytes
from ledger.settings import Settings, create_keys
from tests.e2e.server import running
from tests.support import AUDITOR, FUNDERS, PROVIDERS, World, commission, new_id

SOURCE = Path(__file__).parent / "go" / "tlogcheck"
GOPATH = os.environ.get("TRAJECTLEDGER_TEST_GOPATH", "/usr/share/gocode")  # where Debian puts Go sources
PACKAGES = ("golang.org/x/mod/sumdb/note", "golang.org/x/mod/sumdb/tlog")
BATCHES_BEFORE, BATCHES_AFTER = (3,), (250, 7, 300)  # after them: full tiles, partial ones and level 1


def _missing() -> str | None:
    if shutil.which("go") is None:
        return "go is not installed (apt-get install golang-go golang-golang-x-mod-dev)"
    for package in PACKAGES:
        if not (Path(GOPATH) / "src" / package).is_dir():
            return f"{package} is not under GOPATH {GOPATH} (apt-get install golang-golang-x-mod-dev)"
    return None


def offline_go_env(cache: Path) -> dict[str, str]:
    """GOPATH mode over the packaged sources: nothing is fetched."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GO")}
    env.update(GO111MODULE="off", GOPATH=GOPATH, GOFLAGS="", GOPROXY="off", GOCACHE=str(cache), CGO_ENABLED="0")
    return env


@pytest.fixture(scope="module")
def tlogcheck(tmp_path_factory: pytest.TempPathFactory) -> Path:
    missing = _missing()
    if missing is not None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"CI requires the Go interop client: {missing}")
        pytest.skip(f"Go interop test skipped: {missing}")
    build = tmp_path_factory.mktemp("go-build")
    binary = build / "tlogcheck"
    done = subprocess.run(["go", "build", "-o", str(binary), "."], cwd=SOURCE, env=offline_go_env(build / "cache"),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"go build failed:\n{done.stderr}"
    return binary


@dataclass
class Log:
    settings: Settings
    tiles: Path  # what `trajectledger tiles` wrote, twice (before and after BATCHES_AFTER)
    old_checkpoint: Path  # DIR/checkpoint after the first run
    vkey: Path  # `trajectledger checkpoint --verifier-key`
    proof: Path  # `trajectledger receipt ID --tlog-proof` of an entry of the first batches
    envelope_id: str
    log_index: int
    size: int
    root: str  # base64, as Go prints a tlog.Hash
    old_size: int


def cli(*argv: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(list(argv))
    assert code == 0, f"trajectledger {' '.join(argv)} exited {code}"
    return out.getvalue()


def grow(world: World, batches: tuple[int, ...]) -> list[str]:
    ids = []
    for size in batches:
        envelopes = [world.signed("gemeente-haarlem", commission(uuid.uuid4().hex * 2, "werkfit", new_id())) for _ in range(size)]
        results = world.ledger.submit_batch(envelopes)
        assert all(getattr(result, "log_index", None) is not None for result in results)
        ids += [envelope["payload"]["envelope_id"] for envelope in envelopes]
    return ids


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Log]:
    """A SQLite ledger, its tiles written by the CLI before and after it grew past level 1."""
    root = tmp_path_factory.mktemp("go-tlog")
    create_keys(root / "keys")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("TRAJECTLEDGER_KEY_DIR", str(root / "keys"))
        env.setenv("TRAJECTLEDGER_DATABASE_URL", f"sqlite:///{root}/ledger.sqlite3")
        settings = Settings.from_environ()
        world = World(Ledger(settings))
        try:
            for party, role in [(f, "funder") for f in FUNDERS] + [(p, "provider") for p in PROVIDERS] + [(AUDITOR, "auditor")]:
                world.register(party, role)
            envelope_id = grow(world, BATCHES_BEFORE)[1]
            (root / "receipt.tlog-proof").write_text(cli("receipt", envelope_id, "--tlog-proof"))
            cli("tiles", str(root / "tiles"))
            shutil.copyfile(root / "tiles" / "checkpoint", root / "old.checkpoint")
            old_size = world.ledger.transparency.size()
            grow(world, BATCHES_AFTER)
            cli("tiles", str(root / "tiles"))
            (root / "operator.vkey").write_text(cli("checkpoint", "--verifier-key"))
            newest = list(world.ledger.transparency.checkpoints())[-1]
            receipt = world.ledger.receipt(envelope_id)
            assert receipt is not None
            yield Log(settings, root / "tiles", root / "old.checkpoint", root / "operator.vkey", root / "receipt.tlog-proof",
                      envelope_id, receipt.log_index, newest.tree_size, base64.b64encode(newest.root_hash).decode(), old_size)
        finally:
            world.ledger.close()


def go(binary: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(binary), *map(str, args)], capture_output=True, text=True, timeout=300)


def results(done: subprocess.CompletedProcess[str]) -> dict[str, dict[str, str]]:
    """Go's "<what> OK key=value ..." lines, by what."""
    assert done.returncode == 0, f"the Go client failed:\n{done.stderr}"
    out = {}
    for line in done.stdout.splitlines():
        what, ok, *fields = line.split(" ")
        assert ok == "OK", line
        out[what] = dict(field.split("=", 1) for field in fields if "=" in field)
    return out


def assert_whole_log(out: dict[str, dict[str, str]], log: Log) -> None:
    assert out["checkpoint"] == {"origin": log.settings.log_origin, "signer": log.settings.log_origin,
                                 "size": str(log.size), "root": log.root}
    assert out["tree"]["size"] == str(log.size) and out["tree"]["cut"] == "0"
    assert out["entries"] == {"count": str(log.size)}
    assert out["consistency"] == {"old": str(log.old_size), "new": str(log.size), "cut": "0"}


def test_go_reads_the_tiles_directory(tlogcheck: Path, log: Log) -> None:
    assert log.size > 2 * 256 and log.old_size < 256  # level-1 tile, full and partial level-0 tiles
    assert_whole_log(results(go(tlogcheck, "tiles", "-vkey", log.vkey, "-old", log.old_checkpoint, log.tiles)), log)


def test_go_reads_the_tiles_the_api_serves(tlogcheck: Path, log: Log) -> None:
    app = create_app(ApiSettings(log.settings))
    try:
        with running(app) as url:
            assert_whole_log(results(go(tlogcheck, "tiles", "-vkey", log.vkey, "-old", log.old_checkpoint, f"{url}/log")), log)
            proof = results(go(tlogcheck, "proof", "-vkey", log.vkey, "-log", f"{url}/log", log.proof))
    finally:
        app.state.ledger.close()
    assert proof["proof"]["envelope_id"] == log.envelope_id


def test_go_checks_a_tlog_proof_receipt(tlogcheck: Path, log: Log) -> None:
    text = log.proof.read_bytes()
    hashes = text.partition(b"\n\n")[0].split(b"\n")[3:]  # after the header, extra and index lines
    receipt_size = int(text.partition(b"\n\n")[2].split(b"\n")[1])
    out = results(go(tlogcheck, "proof", "-vkey", log.vkey, "-log", log.tiles, log.proof))
    assert out["proof"] == {"index": str(log.log_index), "size": str(receipt_size), "hashes": str(len(hashes)),
                            "envelope_id": log.envelope_id, "consistent-with": str(log.size)}
    assert len(hashes) > 0 and receipt_size < log.size


def flip(path: Path, at: int) -> bytes:
    data = path.read_bytes()
    path.write_bytes(data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1:])
    return data


def newest_tile(directory: Path, level: str) -> str:
    """The path of a level's last full tile, or of its widest partial one where it has no full tile."""
    files = [p for p in (directory / "tile" / level).rglob("*") if p.is_file()]
    return max(files, key=lambda p: (".p" not in p.parent.name, int(p.name))).relative_to(directory).as_posix()


@pytest.mark.parametrize(("level", "at", "failure"), [
    ("0", 7, "FAIL: entry 1 is not in the tree"),  # hash 0 is in entry 1's inclusion proof
    ("1", 40, "downloaded inconsistent tile"),  # hash 1 of level 1: a subtree of the root
    ("entries", 100, "FAIL: entry 256 is not in the tree"),  # the first entry of the newest bundle
])
def test_a_changed_tile_byte_fails_the_go_check(tlogcheck: Path, log: Log, tmp_path: Path, level: str, at: int,
                                                failure: str) -> None:
    tiles = tmp_path / "tiles"
    shutil.copytree(log.tiles, tiles)
    path = "tile/0/000" if level == "0" else newest_tile(tiles, level)
    assert results(go(tlogcheck, "tiles", "-vkey", log.vkey, tiles))["tree"]["size"] == str(log.size)
    flip(tiles / path, at)
    done = go(tlogcheck, "tiles", "-vkey", log.vkey, tiles)
    assert done.returncode == 1 and failure in done.stderr, (path, done.stdout, done.stderr)
    assert "entries OK" not in done.stdout


def test_a_changed_receipt_or_another_key_fails_the_go_check(tlogcheck: Path, log: Log, tmp_path: Path) -> None:
    text = log.proof.read_text()
    head, _, note = text.partition("\n\n")
    lines = head.split("\n")
    index = lines.index(f"index {log.log_index}")
    first_hash = base64.b64decode(lines[index + 1])
    changed = {
        "hash": lines[:index + 1] + [base64.b64encode(bytes([first_hash[0] ^ 1]) + first_hash[1:]).decode()] + lines[index + 2:],
        "index": lines[:index] + [f"index {log.log_index + 1}"] + lines[index + 1:],
        "dropped hash": lines[:-1],
    }
    for what, new_lines in changed.items():
        proof = tmp_path / f"{what}.tlog-proof"
        proof.write_text("\n".join(new_lines) + "\n\n" + note)
        done = go(tlogcheck, "proof", "-vkey", log.vkey, "-log", log.tiles, proof)
        assert done.returncode == 1 and "inclusion proof" in done.stderr, (what, done.stderr)
    other = tmp_path / "other.vkey"  # the same key name, another key
    other.write_text(verifier_key_string(log.settings.log_origin, public_key_bytes(Ed25519PrivateKey.generate())) + "\n")
    for args in (("tiles", "-vkey", other, log.tiles), ("proof", "-vkey", other, "-log", log.tiles, log.proof)):
        done = go(tlogcheck, *args)
        assert done.returncode == 1 and "checkpoint note: note has no verifiable signatures" in done.stderr, done.stderr
