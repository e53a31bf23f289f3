"""Incentive-behaviour indicators (issue 16): what placement incentives do to providers, and
what happens to clients afterwards - selection, parking, durability, deadweight, follow-up and
cooperation - per provider, contract type or year, each a count over a denominator.

Each indicator is a pure function of a dossier and a peildatum in its own module; ``report``
runs them over every dossier and sets No Cure No Pay beside No Cure Less Pay (Koning's comparison).
"""
