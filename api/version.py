"""The API's version: major 1 is the ``/v1`` in every path (Dutch API Design Rules:
the full semantic version goes in the ``API-Version`` header of every response)."""

API_VERSION = "1.0.0"
API_PREFIX = "/v1"
