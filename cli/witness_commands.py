"""``trajectledger witness ...``: run a C2SP witness (an audit office's), and the ledger's side of it.

* ``witness init-key FILE`` - a new Ed25519 witness key (PEM, PKCS#8, mode 0600);
* ``witness vkey --key FILE --name NAME`` - its cosigner verifier key (type 0x04), for policy files;
* ``witness serve --key FILE --name NAME --log VKEY [--log VKEY] [--host H] [--port P] [--db FILE]``;
* ``witness evidence --db FILE`` - the conflicting checkpoints the witness kept, whole notes;
* ``witness push`` - one witnessing round of the ledger now (``TRAJECTLEDGER_WITNESS_POLICY``);
* ``witness status`` - which server pushes the checkpoints (the lease), who cosigned the newest
  checkpoint, and which checkpoint is published; asks no witness.

The verifier's step (9), ``verify --witness-policy FILE``, is ``ledger.verify.witnesses``.
Exit codes as ``cli.main``: 2 bad input, 3 the quorum is not met, 78 configuration.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.domain.checkpoint import InvalidKeyError
from ledger.domain.cosignature import cosigner_vkey, verify_cosignatures
from ledger.domain.envelope import load_private_key, private_key_pem, public_key_bytes
from ledger.domain.witness_policy import Policy
from ledger.infra.transparency.service import SignedCheckpoint
from ledger.settings import SettingsError, write_secret
from ledger.verify.witnesses import utc

EXIT_OK, EXIT_INVALID, EXIT_VERIFY = 0, 2, 3
DEFAULT_HOST, DEFAULT_PORT, DEFAULT_DB = "127.0.0.1", 7380, "witness.sqlite3"


def add_commands(subparsers: Any, open_ledger: Callable[[], Any]) -> None:
    witness = subparsers.add_parser("witness", help="run a C2SP tlog-witness; ask the witnesses to cosign")
    sub = witness.add_subparsers(dest="witness_command", required=True)

    p = sub.add_parser("init-key", help="create a witness's Ed25519 key (PEM, mode 0600)")
    p.add_argument("file")
    p.set_defaults(handler=cmd_init_key)

    p = sub.add_parser("vkey", help="print the witness's cosigner verifier key (for policy files)")
    _key_options(p)
    p.set_defaults(handler=cmd_vkey)

    p = sub.add_parser("serve", help="serve POST /add-checkpoint (C2SP tlog-witness)")
    _key_options(p)
    p.add_argument("--log", action="append", required=True, metavar="VKEY",
                   help="a log's C2SP verifier key string (its key name is the log's origin); repeatable")
    p.add_argument("--host", default=DEFAULT_HOST, help=f"address to listen on (default {DEFAULT_HOST})")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    p.add_argument("--db", default=DEFAULT_DB, help=f"the witness's state, an SQLite file (default {DEFAULT_DB})")
    p.set_defaults(handler=cmd_serve)

    p = sub.add_parser("evidence", help="print the conflicting checkpoints the witness kept, whole notes")
    p.add_argument("--db", default=DEFAULT_DB, help=f"the witness's state (default {DEFAULT_DB})")
    p.set_defaults(handler=cmd_evidence)

    p = sub.add_parser("push", help="ask the policy's witnesses to cosign the newest checkpoint now")
    p.set_defaults(handler=lambda args: cmd_push(args, open_ledger))

    p = sub.add_parser("status", help="which server pushes to the witnesses, who cosigned, what is published")
    p.set_defaults(handler=lambda args: cmd_status(args, open_ledger))


def _key_options(parser: Any) -> None:
    parser.add_argument("--key", required=True, metavar="FILE", help="the witness's Ed25519 key (PEM, PKCS#8)")
    parser.add_argument("--name", required=True, help="the witness's name, e.g. rekenkamer.example/witness")


def _load_key(name: str) -> Ed25519PrivateKey:
    try:
        return load_private_key(Path(name).read_bytes())
    except (OSError, ValueError) as exc:
        raise SettingsError(f"--key: cannot load the witness key {name}: {exc}") from exc


def _vkey(args: argparse.Namespace, key: Ed25519PrivateKey) -> str:
    try:
        return cosigner_vkey(args.name, public_key_bytes(key))
    except InvalidKeyError as exc:
        raise SettingsError(f"--name: {exc} (a key name has no spaces and no '+')") from exc


def cmd_init_key(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if path.exists():
        raise SettingsError(f"{path} exists; refusing to overwrite a key")
    write_secret(path, private_key_pem(Ed25519PrivateKey.generate()))
    print(f"wrote {path} (keep it secret); 'trajectledger witness vkey --key {path} --name NAME' prints its vkey")
    return EXIT_OK


def cmd_vkey(args: argparse.Namespace) -> int:
    print(_vkey(args, _load_key(args.key)))
    return EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    from api.witness_app import listen, serve_witness
    from ledger.witness.state import StateError, WitnessState
    from ledger.witness.witness import Witness

    key = _load_key(args.key)
    _vkey(args, key)
    try:
        state = WitnessState(args.db)
    except StateError as exc:
        raise SettingsError(f"--db: {exc}") from exc
    try:
        witness = Witness(args.name, key, args.log, state)
    except InvalidKeyError as exc:
        raise SettingsError(f"--log: {exc}") from exc
    try:
        sock = listen(args.host, args.port)
    except OSError as exc:
        raise SettingsError(f"--host/--port: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from exc
    print(f"witness {witness.name} {witness.vkey}")
    for vkey in args.log:
        print(f"log {vkey}")
    print(f"serving POST http://{args.host}:{args.port}/add-checkpoint (state: {args.db})", flush=True)
    serve_witness(witness, sock)
    return EXIT_OK


def cmd_evidence(args: argparse.Namespace) -> int:
    from ledger.witness.state import StateError, WitnessState

    if not Path(args.db).is_file():
        raise SettingsError(f"--db: no witness state at {args.db}")
    try:
        state = WitnessState(args.db)
    except StateError as exc:
        raise SettingsError(f"--db: {exc}") from exc
    found = state.evidence()
    state.close()
    if not found:
        print("no evidence: every validly signed checkpoint received was consistent with what was cosigned")
    for item in found:
        print(f"evidence {item.id}: {item.origin}, received {utc(item.received_at)}: {item.reason}")
        print("-- the checkpoint received (signed by the log):")
        print(item.note.decode("utf-8"), end="")
        print("-- the checkpoint cosigned before it:")
        print(item.cosigned_note.decode("utf-8"), end="")
    return EXIT_OK


def cmd_push(args: argparse.Namespace, open_ledger: Callable[[], Any]) -> int:
    from ledger.infra.transparency.witnessing import Witnessing

    ledger = open_ledger()
    try:
        policy = _policy(ledger)
        witnessing = Witnessing(ledger.transparency, policy, timeout=ledger.settings.witness_timeout_seconds)
        try:
            outcomes = witnessing.round()
        finally:
            witnessing.close()
        newest = ledger.transparency.latest()
    finally:
        ledger.close()
    if newest is None:
        print("no checkpoint stored yet: nothing to witness")
        return EXIT_OK
    for outcome in outcomes:
        print(f"{outcome.witness}: " + ("cosigned" if outcome.problem is None else f"no cosignature ({outcome.problem})"))
    line, met = _cosigned(newest, policy)
    print(line)
    return EXIT_OK if met else EXIT_VERIFY


def cmd_status(args: argparse.Namespace, open_ledger: Callable[[], Any]) -> int:
    from ledger.infra.lease import holder_of
    from ledger.infra.transparency.published import NotWitnessed, PublishedCheckpoints
    from ledger.infra.transparency.witnessing import LEASE

    ledger = open_ledger()
    try:
        policy = _policy(ledger)
        holder = holder_of(ledger.engine, LEASE)
        newest = ledger.transparency.latest()
        published: int | None = None
        if newest is not None:
            try:
                published = PublishedCheckpoints(ledger.transparency, policy).newest().tree_size
            except NotWitnessed:
                pass
    finally:
        ledger.close()
    print("witnessing rounds: " + (f"run by {holder[0]} (its lease runs until {utc(int(holder[1]))})" if holder else
                                   "no server runs them now (none serves with the policy, or its lease lapsed)"))
    if newest is None:
        print("no checkpoint stored yet: nothing to witness")
        return EXIT_OK
    print("newest " + _cosigned(newest, policy)[0])
    print(f"published (GET /v1/log/checkpoint): tree size {published}" if published is not None else
          "published (GET /v1/log/checkpoint): none yet, no checkpoint has the quorum (404 checkpoint.not-witnessed)")
    return EXIT_OK


def _policy(ledger: Any) -> Policy:
    """The ledger's witness policy (``TRAJECTLEDGER_WITNESS_POLICY``); a ``SettingsError`` without one."""
    policy: Policy | None = ledger.settings.witness_policy
    if policy is None:
        raise SettingsError("TRAJECTLEDGER_WITNESS_POLICY is not set: the ledger has no witnesses")
    return policy


def _cosigned(checkpoint: SignedCheckpoint, policy: Policy) -> tuple[str, bool]:
    """Which of the policy's witnesses cosigned the checkpoint, and whether they make its quorum."""
    names = {w.cosigner: w.name for w in policy.witnesses.values()}
    cosigned = sorted(names[c.cosigner] for c in verify_cosignatures(checkpoint.note, list(names)))
    met = policy.satisfied(cosigned)
    return (f"tree size {checkpoint.tree_size}: cosigned by {', '.join(cosigned) or 'none'}; quorum "
            f"({policy.describe()}) {'met' if met else 'NOT met'}"), met
