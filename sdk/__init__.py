"""The Python SDK: a party's HTTP client and the RFC 9421 signature primitives the API shares."""
