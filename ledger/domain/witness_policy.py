"""Witness policies in the C2SP tlog-policy format (c2sp.org/tlog-policy).

One line per item, items separated by ASCII spaces or tabs; blank lines and lines starting
with ``#`` (after optional whitespace) are ignored::

    log <vkey> [<url>]                       the log's key (type 0x01, key name = origin)
    witness <name> <vkey> [<url>]            a witness's cosigner key (type 0x04); url = its submission prefix
    group <name> all|any|<k> <name>...       k of the named witnesses or groups
    quorum <name>|none                       exactly one: the witness or group that must cosign

A name is defined before it is used; witnesses and groups share one namespace; ``none`` is
reserved; a member appears in a group at most once; 1 <= k <= n; no two logs and no two
witnesses share a public key. Malformed policies raise ``PolicyError`` naming the line and rule.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field

from ledger.domain.checkpoint import InvalidKeyError, parse_verifier_key
from ledger.domain.cosignature import Cosigner, parse_cosigner_vkey

NONE = "none"
_ALLOWED = re.compile(rb"[\t\n\x20-\x7e\x80-\xff]*")
_THRESHOLD = re.compile(r"[1-9][0-9]*")


class PolicyError(ValueError):
    """A policy file that does not follow tlog-policy; ``rule`` and ``line`` say where and why."""

    def __init__(self, rule: str, detail: str, line: int | None = None) -> None:
        where = f"line {line}: " if line is not None else ""
        super().__init__(f"{where}{rule}: {detail}")
        self.rule, self.detail, self.line = rule, detail, line


@dataclass(frozen=True)
class PolicyLog:
    vkey: str
    origin: str
    url: str | None = None


@dataclass(frozen=True)
class PolicyWitness:
    name: str  # the policy's own name for it
    cosigner: Cosigner  # the key name inside its vkey names its cosignature lines
    vkey: str
    url: str | None = None


@dataclass(frozen=True)
class Group:
    name: str
    threshold: int
    members: tuple[str, ...]


@dataclass(frozen=True)
class Policy:
    logs: tuple[PolicyLog, ...]
    witnesses: dict[str, PolicyWitness]
    groups: dict[str, Group]
    quorum: str
    text: str = field(default="", compare=False)

    def satisfied(self, cosigned: Collection[str]) -> bool:
        """Whether the witnesses named (by their policy names) in ``cosigned`` make the quorum."""
        return self._holds(self.quorum, frozenset(cosigned))

    def _holds(self, name: str, cosigned: frozenset[str]) -> bool:
        if name == NONE:
            return True
        group = self.groups.get(name)
        if group is None:
            return name in cosigned
        return sum(self._holds(member, cosigned) for member in group.members) >= group.threshold

    def describe(self) -> str:
        """The quorum in words, e.g. ``2 of X1, X2, X3``."""
        return self._describe(self.quorum)

    def _describe(self, name: str) -> str:
        group = self.groups.get(name)
        if group is None:
            return "no cosignature" if name == NONE else name
        inner = ", ".join(self._describe(member) for member in group.members)
        return f"{group.threshold} of ({inner})" if len(group.members) > 1 else inner


def check_for_log(policy: Policy, log_vkey: str) -> None:
    """That a log with verifier key ``log_vkey`` can be witnessed under ``policy``: the key is one
    of its logs (when it lists any), and the witnesses with a URL to ask can make its quorum."""
    if policy.logs and log_vkey not in {entry.vkey for entry in policy.logs}:
        raise PolicyError("policy.log-key", f"the policy's log lines do not list this log's key {log_vkey}")
    if not policy.satisfied({w.name for w in policy.witnesses.values() if w.url}):
        raise PolicyError("policy.unreachable", f"the quorum ({policy.describe()}) cannot be met by the witnesses "
                          "that have a URL to ask")


def parse_policy(data: bytes) -> Policy:
    """Parse a tlog-policy file; ``PolicyError`` for anything it does not allow."""
    if not isinstance(data, bytes) or not _ALLOWED.fullmatch(data):
        raise PolicyError("policy.charset", "only tab, newline and printable characters are allowed")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PolicyError("policy.charset", "non-ASCII text must be UTF-8") from exc
    logs: list[PolicyLog] = []
    witnesses: dict[str, PolicyWitness] = {}
    groups: dict[str, Group] = {}
    quorum: str | None = None
    keys: set[tuple[str, bytes]] = set()
    for number, raw in enumerate(text.split("\n"), start=1):
        words = raw.replace("\t", " ").split()
        if not words or words[0].startswith("#"):
            continue
        kind, args = words[0], words[1:]
        if kind == "log":
            logs.append(_log(args, keys, number))
        elif kind == "witness":
            witness = _witness(args, keys, witnesses.keys() | groups.keys(), number)
            witnesses[witness.name] = witness
        elif kind == "group":
            group = _group(args, witnesses.keys() | groups.keys(), number)
            groups[group.name] = group
        elif kind == "quorum":
            if quorum is not None:
                raise PolicyError("policy.quorum", "a policy has exactly one quorum line", number)
            if len(args) != 1 or (args[0] != NONE and args[0] not in witnesses and args[0] not in groups):
                raise PolicyError("policy.quorum", "quorum <name>: a witness or group defined above, or none",
                                  number)
            quorum = args[0]
        else:
            raise PolicyError("policy.keyword", f"unknown line type {kind!r} (log, witness, group, quorum)", number)
    if quorum is None:
        raise PolicyError("policy.quorum", "the policy has no quorum line")
    return Policy(tuple(logs), witnesses, groups, quorum, text)


def _log(args: list[str], keys: set[tuple[str, bytes]], number: int) -> PolicyLog:
    if len(args) not in (1, 2):
        raise PolicyError("policy.log", "log <vkey> [<url>]", number)
    try:
        origin, _, public_key = parse_verifier_key(args[0])
    except InvalidKeyError as exc:
        raise PolicyError("policy.log-key", str(exc), number) from exc
    if ("log", public_key) in keys:
        raise PolicyError("policy.duplicate", "two log lines with the same public key", number)
    keys.add(("log", public_key))
    return PolicyLog(args[0], origin, args[1] if len(args) == 2 else None)


def _witness(args: list[str], keys: set[tuple[str, bytes]], names: Collection[str], number: int) -> PolicyWitness:
    if len(args) not in (2, 3):
        raise PolicyError("policy.witness", "witness <name> <vkey> [<url>]", number)
    _new_name(args[0], names, number)
    try:
        cosigner = parse_cosigner_vkey(args[1])
    except InvalidKeyError as exc:
        raise PolicyError("policy.witness-key", str(exc), number) from exc
    if ("witness", cosigner.public_key) in keys:
        raise PolicyError("policy.duplicate", "two witness lines with the same public key", number)
    keys.add(("witness", cosigner.public_key))
    return PolicyWitness(args[0], cosigner, args[1], args[2] if len(args) == 3 else None)


def _group(args: list[str], names: Collection[str], number: int) -> Group:
    if len(args) < 3:
        raise PolicyError("policy.group", "group <name> all|any|<k> <name>... (at least one member)", number)
    name, threshold, members = args[0], args[1], tuple(args[2:])
    _new_name(name, names, number)
    for member in members:
        if member not in names:
            raise PolicyError("policy.undefined", f"group member {member!r} is not defined above", number)
    if len(set(members)) != len(members):
        raise PolicyError("policy.group", "a name is listed in a group at most once", number)
    if threshold in ("all", "any"):
        k = len(members) if threshold == "all" else 1
    elif _THRESHOLD.fullmatch(threshold) and int(threshold) <= len(members):
        k = int(threshold)
    else:
        raise PolicyError("policy.threshold", f"threshold {threshold!r}: all, any or a decimal 1..{len(members)}",
                          number)
    return Group(name, k, members)


def _new_name(name: str, names: Collection[str], number: int) -> None:
    if name == NONE:
        raise PolicyError("policy.name", "the name none is reserved", number)
    if name in names:
        raise PolicyError("policy.duplicate", f"the name {name!r} is defined twice", number)
