"""Export bundles: a self-contained copy of the log that anyone can verify offline.

``ledger.bundle.layout`` names the files and the manifest (pure; the verifier reads it);
``ledger.bundle.export`` writes a bundle from a ``Ledger``, whole or scoped to an auditor's
mandate (``ledger.bundle.scope`` decides which entries it holds); ``ledger.bundle.archive`` opens
the ``.tar.gz`` the API serves, safely; ``ledger.bundle.source`` verifies a bundle and reads
its entries the way ``Ledger.entries`` reads the ledger's. Nothing is imported here.
"""
