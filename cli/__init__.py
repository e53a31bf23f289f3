"""The command line, ``trajectledger``: the one package that wires ledger, projections and api together."""
