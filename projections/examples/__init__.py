"""Worked examples of definitions an audit office adds as a plugin (not built in)."""
