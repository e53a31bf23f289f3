"""The dashboard: server-rendered pages for a funder's claim checkers and an audit office.

A client of the ledger, run by the party that uses it: live (``dashboard.live``, every read a
signed API call as that party, every action an envelope signed with its key) or on a verified
export bundle (``dashboard.offline``, read-only). ``dashboard.app.create_dashboard`` builds the
pages on either source.
"""
