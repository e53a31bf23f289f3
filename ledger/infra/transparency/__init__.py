"""The transparency log service: signs checkpoints and serves inclusion and consistency
proofs from ``log_entries``, with kept hashes of complete subtrees (``ledger.domain.merkle.subtrees``)."""
