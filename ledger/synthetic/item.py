"""What the generator hands out: a signed envelope and the verdict the ledger should give."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Item:
    envelope: dict[str, Any]  # Envelope.as_dict(): payload, submitter, key_id, signature
    expected_verdict: str  # "accepted" | "refused"
    expected_rule: str | None = None  # the refusal's rule, e.g. "claim.unique-job"
    tags: tuple[str, ...] = ()  # what the item illustrates, e.g. "double-claim", "job-before-trajectory"
