"""The API's settings: the ledger's ``Settings`` plus limits and published metadata.

Read from the environment only by ``from_environ`` (called by ``api.serve``), never at
import time. Besides the ledger's variables (``ledger.settings``):

* ``TRAJECTLEDGER_API_PUBLIC_URL`` - the server URL published in the OpenAPI document
  (default ``/v1``, relative to the document); it must end in ``/v1``.
* ``TRAJECTLEDGER_API_CONTACT_NAME``, ``..._EMAIL``, ``..._URL`` - the OpenAPI contact.
* ``TRAJECTLEDGER_API_SIGNING_WORKERS`` - processes that check and sign a batch's signatures
  (default: one per core, at most 8; 0: in the server process). ``serve --workers N`` sets it
  to each server's share of the cores.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Mapping

from api.version import API_PREFIX
from ledger.settings import Settings, SettingsError

SIGNING_WORKERS_VARIABLE = "TRAJECTLEDGER_API_SIGNING_WORKERS"


@dataclass(frozen=True)
class ApiSettings:
    ledger: Settings
    max_body_bytes: int = 1 << 20  # every request body, batches included
    signature_max_age: int = 300  # seconds a request signature is accepted after its `created`
    pseudonym_lookups_per_hour: int = 5000  # per party: a lookup can test any BSN
    clock_skew: int = 30  # seconds a `created` may lie in the future
    public_url: str = API_PREFIX
    contact_name: str = "trajectledger operator"
    contact_email: str = "operator@trajectledger.example"
    contact_url: str = "https://trajectledger.example"
    signing_workers: int | None = None  # None: one per core (``Ed25519Pool``)

    def __post_init__(self) -> None:
        if not self.public_url.rstrip("/").endswith(API_PREFIX):
            raise SettingsError(f"the public URL must end in {API_PREFIX}: {self.public_url!r}")
        if self.max_body_bytes < 1024 or self.signature_max_age < 1 or self.clock_skew < 0 \
                or self.pseudonym_lookups_per_hour < 1 or (self.signing_workers is not None and self.signing_workers < 0):
            raise SettingsError("max_body_bytes >= 1024, signature_max_age >= 1, clock_skew >= 0 and "
                                "pseudonym_lookups_per_hour >= 1, signing_workers >= 0")

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None, ledger: Settings | None = None) -> "ApiSettings":
        """From the environment; the ledger's own settings too unless ``ledger`` is given."""
        env = os.environ if environ is None else environ
        optional: dict[str, Any] = {
            "public_url": env.get("TRAJECTLEDGER_API_PUBLIC_URL"),
            "contact_name": env.get("TRAJECTLEDGER_API_CONTACT_NAME"),
            "contact_email": env.get("TRAJECTLEDGER_API_CONTACT_EMAIL"),
            "contact_url": env.get("TRAJECTLEDGER_API_CONTACT_URL"),
        }
        per_hour = env.get("TRAJECTLEDGER_API_PSEUDONYM_LOOKUPS_PER_HOUR")
        if per_hour:
            try:
                optional["pseudonym_lookups_per_hour"] = int(per_hour)
            except ValueError as exc:
                raise SettingsError(f"TRAJECTLEDGER_API_PSEUDONYM_LOOKUPS_PER_HOUR is not a whole number: {per_hour!r}") from exc
        signing = env.get(SIGNING_WORKERS_VARIABLE)
        if signing:
            if not signing.isdigit():
                raise SettingsError(f"{SIGNING_WORKERS_VARIABLE} is not a whole number of 0 or more: {signing!r}")
            optional["signing_workers"] = int(signing)
        return cls(ledger or Settings.from_environ(env), **{k: v for k, v in optional.items() if v})
