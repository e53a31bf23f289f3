"""The verifier's Ed25519 jobs: (log_index, step, public key, signature, message), streamed to
the worker processes of an ``Ed25519Pool`` (``ledger.infra.ed25519_pool``) while the main
process parses and replays; the jobs whose signature fails come back as (log_index, step)."""

from __future__ import annotations

from ledger.infra.ed25519_pool import Failure, Job, Jobs

WHAT = {2: "receipt signature", 3: "envelope signature"}  # a job's step: what its signature signs

__all__ = ["WHAT", "Failure", "Job", "Jobs"]
