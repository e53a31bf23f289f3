"""Where an operator command's registry entry goes (``party ...``, ``rules adopt``).

Without ``--url``: straight into the ledger of the settings (``TRAJECTLEDGER_DATABASE_URL``),
signed with ``TRAJECTLEDGER_KEY_DIR/operator.pem``. With ``--url`` (or ``TRAJECTLEDGER_URL``):
to a served ledger over its API, signed as the operator with ``--key`` (default the same
``operator.pem``); the server's receipt is verified by the SDK before it is printed. Either way
the command prints the same receipt line and exits the same way.
"""

from __future__ import annotations

import argparse
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cli.submit_file import read_private_key
from ledger.application import Ledger
from ledger.domain.entry import now_utc, recording_date
from ledger.domain.envelope import sign
from ledger.domain.receipt import Receipt
from ledger.domain.registry.state import OPERATOR, RegistryState
from ledger.settings import SettingsError
from sdk.client import ClientError, LedgerClient, ProblemError

URL_VARIABLE = "TRAJECTLEDGER_URL"


def add_target_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", help=f"submit to this served ledger (e.g. http://127.0.0.1:8000) instead of the database; "
                                       f"default ${URL_VARIABLE}")
    parser.add_argument("--key", help="with --url: the operator's private key (PEM); default TRAJECTLEDGER_KEY_DIR/operator.pem")


@dataclass
class LocalTarget:
    ledger: Ledger

    @property
    def key_id(self) -> str:
        return self.ledger.operator_key_id

    def submit(self, kind: str, **fields: Any) -> Receipt:
        return submit_to(self.ledger, self.ledger.settings.operator_key, kind, **fields)


@dataclass
class RemoteTarget:
    client: LedgerClient

    @property
    def key_id(self) -> str:
        return self.client.key_id

    def submit(self, kind: str, **fields: Any) -> Receipt:
        try:
            return self.client.submit(self.client.envelope(kind, **fields))
        except ProblemError as exc:  # not recorded: say what the server said, exit 2
            raise ValueError(f"the server answered {exc}") from exc
        except (ClientError, httpx.HTTPError) as exc:
            raise OSError(f"{self.client.http.base_url}: {exc}") from exc

    def registry(self) -> RegistryState:
        """The registry as the server shows it to the operator (roles, keys, mandates)."""
        parties: dict[str, dict[str, Any]] = {}
        try:
            listed = self.client.parties()
        except (ClientError, httpx.HTTPError) as exc:
            raise OSError(f"{self.client.http.base_url}: {exc}") from exc
        for party in listed:
            keys = {key["key_id"]: {"public_key": key["public_key"], "revoked": key["revoked"]} for key in party["keys"]}
            parties[party["party_id"]] = {"role": party["role"], "keys": keys, "audits": list(party["audits"])}
        return RegistryState(parties)


def submit_to(ledger: Ledger, key: Ed25519PrivateKey, kind: str, **fields: Any) -> Receipt:
    """Sign a registry payload as the operator with ``key`` and submit it; ``InvalidSubmission`` if not recorded."""
    payload = {"envelope_id": str(uuid.uuid4()), "type": kind, "occurred_on": recording_date(now_utc()).isoformat(),
               **fields}
    return ledger.submit(sign(payload, OPERATOR, key).as_dict())


def remote_url(args: argparse.Namespace) -> str | None:
    url: str | None = getattr(args, "url", None) or os.environ.get(URL_VARIABLE)
    return url


def operator_key(args: argparse.Namespace) -> Ed25519PrivateKey:
    """``--key``, else ``TRAJECTLEDGER_KEY_DIR/operator.pem``."""
    if getattr(args, "key", None):
        return read_private_key(Path(args.key))
    key_dir = os.environ.get("TRAJECTLEDGER_KEY_DIR")
    if not key_dir:
        raise SettingsError("TRAJECTLEDGER_KEY_DIR is not set: give the operator key with --key, or set it")
    return read_private_key(Path(key_dir) / "operator.pem")


@contextmanager
def operator_target(args: argparse.Namespace, open_ledger: Callable[[], Ledger]) -> Iterator[LocalTarget | RemoteTarget]:
    """The target of ``args`` (see the module's docstring), closed afterwards."""
    url = remote_url(args)
    if url is None:
        ledger = open_ledger()
        try:
            yield LocalTarget(ledger)
        finally:
            ledger.close()
        return
    client = LedgerClient.connect(url, OPERATOR, operator_key(args))
    try:
        yield RemoteTarget(client)
    finally:
        client.close()
