"""The pure domain: rules and formats with no I/O (standard library, cryptography, rfc8785)."""
