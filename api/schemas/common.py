"""What the body schemas share: example values, the examples helper, the page envelope."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

MAX_BATCH = 500
CLIENT_REF = r"^[0-9a-f]{64}$"
EXAMPLE_REF = "5d41402abc4b2a76b9719d911017c592" * 2
EXAMPLE_UUID = "8b0e4bd6-5a47-4d5c-9a0f-3f1de2b6c0a1"
EXAMPLE_KEY_ID = "ed25519:0123456789abcdef"
EXAMPLE_SIGNATURE = "A" * 86 + "=="


def examples(*values: dict[str, Any]) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": list(values)})


class Page(BaseModel):
    """Every list is paginated: ``limit`` and ``offset`` as asked, ``total`` items in all."""

    limit: int
    offset: int
    total: int
