"""Settings, read explicitly (never at import time) and strictly.

* ``TRAJECTLEDGER_DATABASE_URL`` - SQLAlchemy URL. Default: a SQLite file
  ``trajectledger.sqlite3`` in the working directory. PostgreSQL:
  ``postgresql+psycopg://user@host:5432/dbname``.
* ``TRAJECTLEDGER_KEY_DIR`` - folder holding ``operator.pem`` (the operator's Ed25519 key,
  which signs registry entries, receipts and checkpoints) and ``pseudonym.key`` (32+ random
  bytes for the BSN -> client_ref HMAC). The ledger refuses to start without them.
  ``trajectledger init-keys DIR`` creates them.
* ``TRAJECTLEDGER_LOG_ORIGIN`` - the log's origin line in checkpoints (default
  ``trajectledger.example/log``).
* ``TRAJECTLEDGER_CHECKPOINT_EVERY_ENTRIES`` / ``TRAJECTLEDGER_CHECKPOINT_EVERY_SECONDS`` - the
  operator signs a checkpoint at least after this many entries or seconds (default 1000 / 60).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.domain.envelope import load_private_key, private_key_pem

DEFAULT_DATABASE_URL = "sqlite:///trajectledger.sqlite3"
OPERATOR_KEY_FILE = "operator.pem"
PSEUDONYM_KEY_FILE = "pseudonym.key"


class SettingsError(Exception):
    """The ledger cannot start with these settings."""


@dataclass(frozen=True)
class Settings:
    database_url: str
    operator_key: Ed25519PrivateKey
    pseudonym_key: bytes
    log_origin: str = "trajectledger.example/log"
    checkpoint_every_entries: int = 1000
    checkpoint_every_seconds: float = 60.0

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if environ is None else environ
        key_dir = env.get("TRAJECTLEDGER_KEY_DIR")
        if not key_dir:
            raise SettingsError("TRAJECTLEDGER_KEY_DIR is not set (create keys with 'trajectledger init-keys DIR')")
        operator_key, pseudonym_key = load_keys(Path(key_dir))
        return cls(
            database_url=database_url(env),
            operator_key=operator_key,
            pseudonym_key=pseudonym_key,
            log_origin=env.get("TRAJECTLEDGER_LOG_ORIGIN", "trajectledger.example/log"),
            checkpoint_every_entries=_positive(env, "TRAJECTLEDGER_CHECKPOINT_EVERY_ENTRIES", 1000, int),
            checkpoint_every_seconds=_positive(env, "TRAJECTLEDGER_CHECKPOINT_EVERY_SECONDS", 60.0, float),
        )


def _positive(environ: Mapping[str, str], name: str, default: Any, kind: Callable[[str], Any]) -> Any:
    text = environ.get(name)
    if text is None:
        return default
    try:
        value = kind(text)
    except ValueError as exc:
        raise SettingsError(f"{name} must be a positive number, not {text!r}") from exc
    if value <= 0:
        raise SettingsError(f"{name} must be a positive number, not {text!r}")
    return value


def database_url(environ: Mapping[str, str]) -> str:
    return environ.get("TRAJECTLEDGER_DATABASE_URL") or DEFAULT_DATABASE_URL


def load_keys(key_dir: Path) -> tuple[Ed25519PrivateKey, bytes]:
    try:
        operator_key = load_private_key((key_dir / OPERATOR_KEY_FILE).read_bytes())
        pseudonym_key = (key_dir / PSEUDONYM_KEY_FILE).read_bytes()
    except (OSError, ValueError) as exc:
        raise SettingsError(f"cannot load the ledger's keys from {key_dir}: {exc}") from exc
    if len(pseudonym_key) < 32:
        raise SettingsError(f"{key_dir / PSEUDONYM_KEY_FILE} must hold at least 32 random bytes")
    return operator_key, pseudonym_key


def create_keys(key_dir: Path) -> None:
    """Write a fresh operator key and pseudonymisation key (refuses to overwrite)."""
    key_dir.mkdir(parents=True, exist_ok=True)
    for name in (OPERATOR_KEY_FILE, PSEUDONYM_KEY_FILE):
        if (key_dir / name).exists():
            raise SettingsError(f"{key_dir / name} exists; refusing to overwrite a key")
    (key_dir / OPERATOR_KEY_FILE).write_bytes(private_key_pem(Ed25519PrivateKey.generate()))
    (key_dir / PSEUDONYM_KEY_FILE).write_bytes(secrets.token_bytes(32))
    for name in (OPERATOR_KEY_FILE, PSEUDONYM_KEY_FILE):
        (key_dir / name).chmod(0o600)
