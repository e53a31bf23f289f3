"""Onboarding parties: ``key new|show`` and ``party register|add-key|revoke-key|mandate|list|rotate-operator-key``.

``cli.main`` wires them in with ``add_commands(sub, open_ledger)``. ``key`` needs no ledger.
Every ``party`` command that changes the registry signs one registry payload with the
operator key of the ledger's settings (``TRAJECTLEDGER_KEY_DIR/operator.pem``), submits it
straight to the ledger - or, with ``--url``, to a served ledger (``cli.operator_target``) - and
prints the receipt: its verdict, log index and envelope id.
Exit codes as in ``cli.main``: 0 accepted; 1 refused by a registry rule (recorded, with
the rule and the field); 2 bad input (not recorded: malformed, unreadable key file).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import select

from cli.operator_target import RemoteTarget, add_target_options, operator_target, submit_to
from ledger.aggregates import REGISTRY_ID
from ledger.application import Ledger
from ledger.domain.entry import ACCEPTED
from ledger.domain.envelope import b64decode, b64encode, key_id_for, load_private_key, private_key_pem, public_key_bytes
from ledger.domain.errors import MalformedSubmission
from ledger.domain.receipt import Receipt
from ledger.domain.registry.state import OPERATOR
from ledger.infra.storage.tables import log_entries
from ledger.settings import write_secret

EXIT_OK, EXIT_REFUSED, EXIT_INVALID = 0, 1, 2
OpenLedger = Callable[[], Ledger]


def add_commands(subparsers: Any, open_ledger: OpenLedger) -> None:
    """Add ``key`` and ``party`` (each with its own subcommands) to an argparse subparsers object."""
    keys = subparsers.add_parser("key", help="make a party's Ed25519 key pair, or show a key's id").add_subparsers(
        dest="key_command", required=True)
    p = keys.add_parser("new", help="write a new private key (mode 0600), print its public key and key id")
    p.add_argument("file", help="where to write the private key (PEM); never overwritten")
    p.set_defaults(handler=cmd_key_new)
    p = keys.add_parser("show", help="print the public key and key id of a key file or base64 public key")
    p.add_argument("key", help="a PEM private or public key file, or the base64 public key")
    p.set_defaults(handler=cmd_key_show)

    party = subparsers.add_parser("party", help="register parties, add and revoke keys, grant mandates (operator)")
    parties = party.add_subparsers(dest="party_command", required=True)
    public = "the party's base64 public key, or a PEM public (or private) key file"
    p = parties.add_parser("register", help="register a party with its first key")
    p.add_argument("party_id")
    p.add_argument("--role", required=True, help="funder, provider or auditor")
    p.add_argument("--public-key", required=True, metavar="PUB", help=public)
    add_target_options(p)
    p.set_defaults(handler=lambda args: cmd_register(args, open_ledger))
    p = parties.add_parser("add-key", help="add a key to a registered party")
    p.add_argument("party_id")
    p.add_argument("--public-key", required=True, metavar="PUB", help=public)
    add_target_options(p)
    p.set_defaults(handler=lambda args: cmd_add_key(args, open_ledger))
    p = parties.add_parser("revoke-key", help="revoke a party's key: it signs nothing after this entry")
    p.add_argument("party_id")
    p.add_argument("key_id", help="ed25519:<16 hex> (see 'party list' or 'key show')")
    add_target_options(p)
    p.set_defaults(handler=lambda args: cmd_revoke_key(args, open_ledger))
    p = parties.add_parser("mandate", help="grant an auditor the mandate to audit a funder")
    p.add_argument("auditor")
    p.add_argument("--funder", required=True)
    add_target_options(p)
    p.set_defaults(handler=lambda args: cmd_mandate(args, open_ledger))
    p = parties.add_parser("list", help="parties, roles, live and revoked keys, mandates, with the log index of each change")
    add_target_options(p)
    p.set_defaults(handler=lambda args: cmd_list(args, open_ledger))
    p = parties.add_parser("rotate-operator-key", help="add a new operator key, then revoke the one the ledger runs with")
    p.add_argument("new_key_file", help="the new operator private key (made with 'key new')")
    p.set_defaults(handler=lambda args: cmd_rotate_operator_key(args, open_ledger))


# --- keys -------------------------------------------------------------------------------


def cmd_key_new(args: argparse.Namespace) -> int:
    path, key = Path(args.file), Ed25519PrivateKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        write_secret(path, private_key_pem(key))  # mode 0600 whatever the umask; never overwrites
    except FileExistsError:
        print(f"error: {path} exists; refusing to overwrite a key", file=sys.stderr)
        return EXIT_INVALID
    print(f"wrote {path} (Ed25519 private key, mode 0600: keep it secret, it never leaves your machine)")
    print_public_key(public_key_bytes(key))
    return EXIT_OK


def cmd_key_show(args: argparse.Namespace) -> int:
    print_public_key(read_public_key(args.key))
    return EXIT_OK


def print_public_key(public: bytes) -> None:
    print(f"public key: {b64encode(public)}")
    print(f"key id:     {key_id_for(public)}")


def read_public_key(text: str) -> bytes:
    """The raw public key of ``text``: a PEM private or public key file, a file holding the
    base64 public key, or the base64 public key itself."""
    path = Path(text)
    if path.is_file():
        raw = path.read_bytes()
        if raw.startswith(b"-----BEGIN") and b"PRIVATE KEY" in raw.split(b"\n", 1)[0]:
            print(f"note: {path} is a private key: only its public key is used; a party's private key stays with the party",
                  file=sys.stderr)
            return public_key_bytes(load_private_key(raw))
        if raw.startswith(b"-----BEGIN"):
            key = serialization.load_pem_public_key(raw)
            if not isinstance(key, Ed25519PublicKey):
                raise ValueError(f"{path} is not an Ed25519 public key")
            return public_key_bytes(key)
        text = raw.decode("ascii", errors="replace").strip()
    try:
        return b64decode(text, "public_key", length=32)
    except MalformedSubmission as exc:
        raise ValueError(f"{text!r} is neither a key file nor a base64 Ed25519 public key (32 bytes)") from exc


# --- registry submissions ------------------------------------------------------------------


def cmd_register(args: argparse.Namespace, open_ledger: OpenLedger) -> int:
    public = read_public_key(args.public_key)
    what = f"PartyRegistered {args.party_id} as {args.role} with key {key_id_for(public)}"
    return submit(args, open_ledger, what, "PartyRegistered", party_id=args.party_id, role=args.role, public_key=b64encode(public))


def cmd_add_key(args: argparse.Namespace, open_ledger: OpenLedger) -> int:
    public = read_public_key(args.public_key)
    what = f"KeyAdded {args.party_id} {key_id_for(public)}"
    return submit(args, open_ledger, what, "KeyAdded", party_id=args.party_id, public_key=b64encode(public))


def cmd_revoke_key(args: argparse.Namespace, open_ledger: OpenLedger) -> int:
    with operator_target(args, open_ledger) as target:
        if args.party_id == OPERATOR and args.key_id == target.key_id:
            print(f"error: {args.key_id} is the operator key this command signs with (and the ledger runs with): "
                  "revoked by itself it could sign no receipt; use 'trajectledger party rotate-operator-key NEW_KEY_FILE', "
                  "or put the new key in operator.pem first", file=sys.stderr)
            return EXIT_INVALID
        receipt = target.submit("KeyRevoked", party_id=args.party_id, key_id=args.key_id)
    return report(receipt, f"KeyRevoked {args.party_id} {args.key_id}")


def cmd_mandate(args: argparse.Namespace, open_ledger: OpenLedger) -> int:
    what = f"AuditMandateGranted {args.auditor} audits {args.funder}"
    return submit(args, open_ledger, what, "AuditMandateGranted", party_id=args.auditor, funder=args.funder)


def submit(args: argparse.Namespace, open_ledger: OpenLedger, what: str, kind: str, **fields: Any) -> int:
    """Sign one registry payload as the operator, submit it where ``args`` say, print the receipt."""
    with operator_target(args, open_ledger) as target:
        receipt = target.submit(kind, **fields)
    return report(receipt, what)


def report(receipt: Receipt, what: str) -> int:
    if receipt.accepted:
        print(f"accepted at log index {receipt.log_index}: {what} (envelope {receipt.envelope_id})")
        return EXIT_OK
    refusal = receipt.refusal or {}
    print(f"refused at log index {receipt.log_index}: {what}: {refusal.get('rule')} [{refusal.get('field')}]: "
          f"{refusal.get('detail')} (envelope {receipt.envelope_id})")
    return EXIT_REFUSED


# --- operator key rotation -------------------------------------------------------------------


def cmd_rotate_operator_key(args: argparse.Namespace, open_ledger: OpenLedger) -> int:
    """``KeyAdded`` for the operator, signed with the old key; then, from a ledger running with
    the new key, ``KeyRevoked`` for the old one (a ledger that revoked its own key could not
    sign the receipt). Run again after a failure, it carries on where it stopped."""
    new_key = load_private_key(Path(args.new_key_file).read_bytes())
    new_id = key_id_for(public_key_bytes(new_key))
    ledger = open_ledger()
    try:
        old_id = ledger.operator_key_id
        if new_id == old_id:
            print(f"error: {args.new_key_file} holds {old_id}, the key this ledger runs with already", file=sys.stderr)
            return EXIT_INVALID
        known = ledger.current_registry().parties[OPERATOR]["keys"].get(new_id)
        if known is not None and known["revoked"]:
            print(f"error: {new_id} was an operator key and is revoked: make a new one with 'trajectledger key new'",
                  file=sys.stderr)
            return EXIT_INVALID
        if known is not None:
            print(f"{new_id} is a live operator key already (added earlier): not added again")
        else:
            added = report(submit_to(ledger, ledger.settings.operator_key, "KeyAdded", party_id=OPERATOR,
                                     public_key=b64encode(public_key_bytes(new_key))), f"KeyAdded operator {new_id}")
            if added != EXIT_OK:
                return added
        settings = replace(ledger.settings, operator_key=new_key)
    finally:
        ledger.close()
    rotated = Ledger(settings)  # refuses to open unless the new key is a live operator key
    try:
        revoked = report(submit_to(rotated, new_key, "KeyRevoked", party_id=OPERATOR, key_id=old_id),
                         f"KeyRevoked operator {old_id}")
        verifier_key = rotated.transparency.verifier_key
    finally:
        rotated.close()
    if revoked != EXIT_OK:
        return revoked
    key_dir = os.environ.get("TRAJECTLEDGER_KEY_DIR", "TRAJECTLEDGER_KEY_DIR")
    print(f"the operator key is now {new_id}; {old_id} is revoked and runs this ledger no more. Now:")
    print(f"  1. replace {key_dir}/operator.pem with the new key: install -m 600 {args.new_key_file} {key_dir}/operator.pem")
    print(f"     (keep {key_dir}/pseudonym.key as it is)")
    print("  2. restart every server of this ledger: one still running with the old key answers operator.key-not-live")
    print("  3. publish the new checkpoint verifier key (auditors pin it with --trusted-operator-key):")
    print(f"     {verifier_key}")
    return EXIT_OK


# --- the registry as it stands, with its history --------------------------------------------


@dataclass
class RegistryHistory:
    """The log index of each accepted registry change, and the refused registry submissions."""

    registered: dict[str, int] = field(default_factory=dict)
    added: dict[tuple[str, str], int] = field(default_factory=dict)  # (party, key id)
    revoked: dict[tuple[str, str], int] = field(default_factory=dict)
    granted: dict[tuple[str, str], int] = field(default_factory=dict)  # (auditor, funder)
    adopted: dict[int, int] = field(default_factory=dict)  # rules version
    refused: list[tuple[int, dict[str, Any], dict[str, Any]]] = field(default_factory=list)  # index, payload, refusal
    entries: int = 0

    def apply(self, index: int, entry: dict[str, Any]) -> None:
        self.entries += 1
        payload = entry["envelope"]["payload"]
        if entry["verdict"] != ACCEPTED:
            self.refused.append((index, payload, entry["refusal"]))
            return
        party, kind = payload["party_id"], payload["type"]
        if kind == "PartyRegistered":
            self.registered[party] = index
        if kind in ("PartyRegistered", "KeyAdded"):
            self.added[(party, key_id_for(b64decode(payload["public_key"], "public_key", 32)))] = index
        elif kind == "KeyRevoked":
            self.revoked[(party, payload["key_id"])] = index
        elif kind == "AuditMandateGranted":
            self.granted.setdefault((party, payload["funder"]), index)
        elif kind == "RulesAdopted":
            self.adopted[payload["rules_version"]] = index


def registry_history(ledger: Ledger) -> RegistryHistory:
    """Read the registry's entries from the log: their indices from ``log_entries`` (indexed
    by aggregate), the entries themselves with ``Ledger.entries``, one read per run of indices."""
    query = select(log_entries.c.log_index).where(log_entries.c.originator_id == REGISTRY_ID).order_by(log_entries.c.log_index)
    with ledger.engine.connect() as connection:
        indices = list(connection.execute(query).scalars())
    history, position = RegistryHistory(), 0
    while position < len(indices):
        end = position
        while end + 1 < len(indices) and indices[end + 1] == indices[end] + 1:
            end += 1
        for index, entry in ledger.entries(indices[position], end - position + 1):
            history.apply(index, entry)
        position = end + 1
    return history


def cmd_list(args: argparse.Namespace, open_ledger: OpenLedger) -> int:
    with operator_target(args, open_ledger) as target:
        if isinstance(target, RemoteTarget):  # the API shows the registry, not the log index of each change
            state, history = target.registry(), None
        else:
            state, history = target.ledger.current_registry(), registry_history(target.ledger)
    if history is None:
        print(f"registry: {len(state.parties)} parties (from the served ledger: 'party list' on the database shows "
              "the log index of each change)")
        history = RegistryHistory()
    else:
        print(f"registry: {len(state.parties)} parties, {history.entries} registry entries "
              f"({len(history.refused)} refused); 'at N' is the log index of the change")
    def at(*changes: tuple[str, int | None]) -> str:  # "added at 2, revoked at 4"; nothing where unknown
        return ", ".join(f"{change} at {index}" for change, index in changes if index is not None)

    for party_id in sorted(state.parties, key=lambda p: (history.registered.get(p, -1), p)):
        party = state.parties[party_id]
        print(f"{party_id:<24} {party['role']:<9} {at(('registered', history.registered.get(party_id)))}".rstrip())
        for key_id, key in party["keys"].items():
            changes = at(("added", history.added.get((party_id, key_id))),
                         ("revoked", history.revoked.get((party_id, key_id)) if key["revoked"] else None))
            print(f"  key {key_id}  {'revoked' if key['revoked'] else 'live':<7}  {changes}".rstrip())
        for funder in party.get("audits", []):
            print(f"  audits {funder:<24} {at(('granted', history.granted.get((party_id, funder))))}".rstrip())
    for index, payload, refusal in history.refused:
        print(f"refused at {index}: {payload['type']} {payload['party_id']}: {refusal['rule']} [{refusal['field']}]")
    return EXIT_OK
