"""Settings, read explicitly (never at import time) and strictly.

* ``TRAJECTLEDGER_DATABASE_URL`` - SQLAlchemy URL. Default: a SQLite file
  ``trajectledger.sqlite3`` in the working directory. PostgreSQL:
  ``postgresql+psycopg://user@host:5432/dbname``.
* ``TRAJECTLEDGER_KEY_DIR`` - folder holding ``operator.pem`` (the operator's Ed25519 key in
  PEM, PKCS#8, which signs registry entries, receipts and checkpoints) and ``pseudonym.key``
  (32+ random bytes for the BSN -> client_ref HMAC). The ledger refuses to start without them.
  ``trajectledger init-keys DIR`` creates them (mode 0600).
* ``TRAJECTLEDGER_LOG_ORIGIN`` - the log's origin line in checkpoints (default
  ``trajectledger.example/log``); fixed by the log's first checkpoint, a ledger refuses to
  start under another.
* ``TRAJECTLEDGER_CHECKPOINT_EVERY_ENTRIES`` / ``TRAJECTLEDGER_CHECKPOINT_EVERY_SECONDS`` - retired:
  every write signs and stores the checkpoint of its tree size. Set, they are refused at start
  (``RETIRED``), in one line naming the setting and what replaced it.
* ``TRAJECTLEDGER_WITNESS_POLICY`` - a C2SP tlog-policy file: the witnesses the served ledger asks
  to cosign its newest checkpoint (those with a URL) and the quorum; unset: no witnessing.
  ``TRAJECTLEDGER_WITNESS_EVERY_SECONDS`` (default 10): at most one round per this many seconds;
  ``TRAJECTLEDGER_WITNESS_TIMEOUT_SECONDS`` (default 5): each request's timeout.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

import sqlalchemy.exc
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from eventsourcing import persistence
from sqlalchemy import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from ledger.domain.checkpoint import InvalidKeyError, verifier_key_string
from ledger.domain.envelope import load_private_key, private_key_pem, public_key_bytes
from ledger.domain.witness_policy import Policy, PolicyError, check_for_log, parse_policy

DEFAULT_DATABASE_URL = "sqlite:///trajectledger.sqlite3"
OPERATOR_KEY_FILE = "operator.pem"
PSEUDONYM_KEY_FILE = "pseudonym.key"
DATABASE_SETTING = "TRAJECTLEDGER_DATABASE_URL"
KEY_DIR_SETTING = "TRAJECTLEDGER_KEY_DIR"
POSTGRES_URL_FORM = "postgresql+psycopg://user@host:5432/dbname"
_PER_WRITE = ("every write now signs and stores the checkpoint of its tree size, and receipts prove inclusion "
              "in it (README, \"Receipts\"); remove the setting")
RETIRED = {"TRAJECTLEDGER_CHECKPOINT_EVERY_ENTRIES": _PER_WRITE, "TRAJECTLEDGER_CHECKPOINT_EVERY_SECONDS": _PER_WRITE}


class SettingsError(Exception):
    """The ledger cannot start with these settings."""


@dataclass(frozen=True)
class Settings:
    database_url: str
    operator_key: Ed25519PrivateKey
    pseudonym_key: bytes
    log_origin: str = "trajectledger.example/log"
    witness_policy: Policy | None = None  # TRAJECTLEDGER_WITNESS_POLICY, parsed
    witness_every_seconds: float = 10.0
    witness_timeout_seconds: float = 5.0

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if environ is None else environ
        for name, replaced in RETIRED.items():
            if name in env:
                raise SettingsError(f"{name} is no longer a setting: {replaced}")
        key_dir = env.get(KEY_DIR_SETTING)
        if not key_dir:
            raise SettingsError("TRAJECTLEDGER_KEY_DIR is not set (create keys with 'trajectledger init-keys DIR')")
        operator_key, pseudonym_key = load_keys(Path(key_dir))
        log_origin = env.get("TRAJECTLEDGER_LOG_ORIGIN", "trajectledger.example/log")
        return cls(
            database_url=database_url(env),
            operator_key=operator_key,
            pseudonym_key=pseudonym_key,
            log_origin=log_origin,
            witness_policy=witness_policy(env, log_origin, operator_key),
            witness_every_seconds=_positive(env, "TRAJECTLEDGER_WITNESS_EVERY_SECONDS", 10.0, float),
            witness_timeout_seconds=_positive(env, "TRAJECTLEDGER_WITNESS_TIMEOUT_SECONDS", 5.0, float),
        )


def witness_policy(environ: Mapping[str, str], log_origin: str, operator_key: Ed25519PrivateKey) -> Policy | None:
    """The tlog-policy file ``TRAJECTLEDGER_WITNESS_POLICY`` names, parsed and checked against this
    log's key (None when unset)."""
    name = environ.get("TRAJECTLEDGER_WITNESS_POLICY")
    if not name:
        return None
    try:
        policy = parse_policy(Path(name).read_bytes())
    except OSError as exc:
        raise SettingsError(f"TRAJECTLEDGER_WITNESS_POLICY: cannot read {name}: {exc.strerror or exc}") from exc
    except PolicyError as exc:
        raise SettingsError(f"TRAJECTLEDGER_WITNESS_POLICY: {name}: {exc}") from exc
    try:
        log_vkey = verifier_key_string(log_origin, public_key_bytes(operator_key))
    except InvalidKeyError:
        return policy  # an origin that cannot name a key: the log refuses it at start, naming its own setting
    try:
        check_for_log(policy, log_vkey)
    except PolicyError as exc:
        raise SettingsError(f"TRAJECTLEDGER_WITNESS_POLICY: {name}: {exc}") from exc
    return policy


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
    operator_file, pseudonym_file = key_dir / OPERATOR_KEY_FILE, key_dir / PSEUDONYM_KEY_FILE
    try:
        operator_key = load_private_key(operator_file.read_bytes())
    except (OSError, ValueError) as exc:
        raise SettingsError(f"TRAJECTLEDGER_KEY_DIR: cannot load the operator key {operator_file}: {exc}") from exc
    try:
        pseudonym_key = pseudonym_file.read_bytes()
    except OSError as exc:
        raise SettingsError(f"TRAJECTLEDGER_KEY_DIR: cannot load the pseudonymisation key {pseudonym_file}: {exc}") from exc
    if len(pseudonym_key) < 32:
        raise SettingsError(f"{pseudonym_file} must hold at least 32 random bytes")
    return operator_key, pseudonym_key


def create_keys(key_dir: Path) -> None:
    """Write a fresh operator key and pseudonymisation key, readable by their owner only
    (refuses to overwrite)."""
    key_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    for name in (OPERATOR_KEY_FILE, PSEUDONYM_KEY_FILE):
        if (key_dir / name).exists():
            raise SettingsError(f"{key_dir / name} exists; refusing to overwrite a key")
    write_secret(key_dir / OPERATOR_KEY_FILE, private_key_pem(Ed25519PrivateKey.generate()))
    write_secret(key_dir / PSEUDONYM_KEY_FILE, secrets.token_bytes(32))


def write_secret(path: Path, data: bytes, *, replace: bool = False) -> None:
    """Write a key file with mode 0600 from its first byte on (never readable by others, not
    even for a moment). Refuses an existing file unless ``replace``; a replaced file gets
    mode 0600 too."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if replace else os.O_EXCL)
    descriptor = os.open(path, flags, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        os.fchmod(descriptor, 0o600)
        out.write(data)


# --- the database: its errors at start, translated once ---------------------------------------------


@contextmanager
def opening_database(url: str) -> Iterator[None]:
    """Translate what can go wrong connecting to the database at start - no server, no such
    database, a driver that is not installed, an SQLite file that cannot be opened - into a
    one-line ``SettingsError`` naming ``TRAJECTLEDGER_DATABASE_URL`` and the fix."""
    try:
        yield
    except ModuleNotFoundError as exc:
        raise SettingsError(_missing_driver(url, exc.name or str(exc))) from exc
    except NoSuchModuleError as exc:
        raise SettingsError(f"{DATABASE_SETTING}: no SQLAlchemy driver for {_shown(url)}: {_one_line(exc)}; "
                            f"write {POSTGRES_URL_FORM} or sqlite:///FILE") from exc
    except (sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError, persistence.OperationalError,
            persistence.InterfaceError) as exc:
        raise SettingsError(_unreachable(url, exc)) from exc


def _missing_driver(url: str, module: str) -> str:
    fix = f"write {POSTGRES_URL_FORM} (psycopg 3, installed with trajectledger)"
    if not url.startswith("postgresql"):
        fix = f"install {module} or use a driver that is installed"
    return f"{DATABASE_SETTING}: {_shown(url)} needs the Python module {module!r}, which is not installed; {fix}"


def _unreachable(url: str, exc: Exception) -> str:
    reason = _one_line(getattr(exc, "orig", None) or exc)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return (f"{DATABASE_SETTING}: cannot open the SQLite database {parsed.database or ':memory:'} ({reason}); "
                "check that its folder exists and is writable")
    where = f"{parsed.host or 'localhost'}:{parsed.port or 5432}"
    missing = re.search(r'database "([^"]+)" does not exist', reason)
    if missing:
        return (f"{DATABASE_SETTING}: the PostgreSQL server at {where} has no database {missing.group(1)!r}; "
                f"create it (createdb -h {parsed.host or 'localhost'} -p {parsed.port or 5432} "
                f"-U {parsed.username or 'postgres'} {missing.group(1)}) or name an existing one")
    if re.search(r"refused|timeout|timed out|could not translate host|no route|unreachable|name or service", reason,
                 re.IGNORECASE):
        return (f"{DATABASE_SETTING}: no PostgreSQL server answers at {where} ({reason}); "
                "start it, or fix the host and port in the URL")
    return f"{DATABASE_SETTING}: cannot open {_shown(url)} ({reason}); check the URL, its user and password"


def _shown(url: str) -> str:
    """The URL without its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "the URL"


def _one_line(exc: object) -> str:
    """An exception's message on one line (psycopg's run over several)."""
    text = " ".join(str(exc).split())
    return text.removeprefix("connection failed: ")
