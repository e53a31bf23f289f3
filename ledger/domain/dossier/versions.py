"""Versions of the dossier rules.

A ledger decides every submission under the rules version in force when it is recorded, and
the offline verifier re-decides each entry under that same version, so a change of rule never
turns an old verdict into a mismatch. The version in force is a signed, logged fact: the
operator's ``RulesAdopted`` registry entry (``trajectledger rules adopt N``); a log without one
runs on version 1. Versions only move forward, and a ledger or verifier refuses a version it
does not know (it cannot re-decide under rules it has not got: it fails closed).

- 1: a placement's ``job_start`` may not lie after the day the claim is recorded (``dates.not-future``).
- 2: a placement may be claimed for a signed contract whose job starts up to
  ``JOB_START_LIMIT_DAYS`` days after the claim date (``occurred_on``), so a provider need not
  wait for the first working day (``dates.job-start-too-far`` beyond it). Everything else as in 1.
"""

from __future__ import annotations

FIRST_RULES = 1
LATEST_RULES = 2
JOB_START_LIMIT_DAYS = 92  # about a quarter: a contract signed now, starting at the next quarter's first day
