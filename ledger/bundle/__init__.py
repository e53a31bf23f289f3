"""Export bundles: a self-contained copy of the log that anyone can verify offline.

``ledger.bundle.layout`` names the files and the manifest (pure; the verifier reads it);
``ledger.bundle.export`` writes a bundle from a ``Ledger``. Nothing is imported here.
"""
