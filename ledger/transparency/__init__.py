"""The transparency log of the ledger: checkpoints, proofs and the subtrees they are made of.

``ledger.transparency.subtrees`` is pure (the offline verifier uses it too);
``ledger.transparency.service`` reads ``log_entries`` and writes ``checkpoints``.
Nothing is imported here, so importing the pure half pulls in no database code.
"""
