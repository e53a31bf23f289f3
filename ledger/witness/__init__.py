"""A C2SP tlog-witness (c2sp.org/tlog-witness) an audit office runs, its own process and its own SQLite file.

``request`` parses an add-checkpoint body, ``state`` keeps the latest cosigned checkpoint per
log and the evidence, ``witness`` decides (status code, body) and cosigns; ``api.witness_app`` serves it over HTTP.
"""
