"""Witness policies in the C2SP tlog-policy format: the spec's example, quorums, and refusals."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.domain.checkpoint import verifier_key_string
from ledger.domain.cosignature import cosigner_vkey
from ledger.domain.witness_policy import PolicyError, check_for_log, parse_policy


def vkey(name: str) -> str:
    return cosigner_vkey(name, Ed25519PrivateKey.generate().public_key().public_bytes_raw())


LOG = verifier_key_string("log.example/l", Ed25519PrivateKey.generate().public_key().public_bytes_raw())


def spec_example() -> bytes:
    """The example of c2sp.org/tlog-policy with real keys in place of <vkey>."""
    return "\n".join([
        f"log {LOG}", "",
        f"witness X1 {vkey('x1.example')}", f"witness X2 {vkey('x2.example')}", f"witness X3 {vkey('x3.example')}",
        "group X-witnesses 2 X1 X2 X3", "",
        f"witness Y1 {vkey('y1.example')}", f"witness Y2 {vkey('y2.example')}", f"witness Y3 {vkey('y3.example')}",
        "group Y-witnesses any Y1 Y2 Y3", "",
        "group X-and-Y all X-witnesses Y-witnesses", "quorum X-and-Y", ""]).encode()


def test_the_spec_example_quorum() -> None:
    policy = parse_policy(spec_example())
    assert [entry.origin for entry in policy.logs] == ["log.example/l"]
    assert policy.satisfied({"X1", "X3", "Y2"})
    assert not policy.satisfied({"X1", "Y1", "Y2", "Y3"})  # one X is not two
    assert not policy.satisfied({"X1", "X2", "X3"})  # no Y
    assert policy.describe() == "2 of (2 of (X1, X2, X3), 1 of (Y1, Y2, Y3))"


def test_two_of_three_with_urls_comments_and_tabs() -> None:
    text = (f"# our witnesses\n  log {LOG}\nwitness\tA {vkey('a.example')} http://a.example:7380\n"
            f"witness B {vkey('b.example')} https://b.example/w\n  # indented comment\n"
            f"witness C {vkey('c.example')}\ngroup two 2 A B C\nquorum two\n")
    policy = parse_policy(text.encode())
    assert policy.witnesses["A"].url == "http://a.example:7380" and policy.witnesses["C"].url is None
    assert policy.satisfied({"A", "C"}) and not policy.satisfied({"B"})
    check_for_log(policy, LOG)
    with pytest.raises(PolicyError, match="log-key"):
        check_for_log(policy, verifier_key_string("log.example/l", bytes(32)))


def test_a_quorum_out_of_reach_of_the_witnesses_with_urls_is_refused() -> None:
    policy = parse_policy(f"witness A {vkey('a.example')} http://a\nwitness B {vkey('b.example')}\n"
                          "group both all A B\nquorum both\n".encode())
    with pytest.raises(PolicyError, match="policy.unreachable"):
        check_for_log(policy, LOG)


def test_quorum_none_needs_no_cosignature() -> None:
    assert parse_policy(b"quorum none\n").satisfied(set())


@pytest.mark.parametrize(("text", "rule", "line"), [
    ("quorum A\n", "policy.quorum", 1),
    ("witness A {a}\nquorum A\nquorum A\n", "policy.quorum", 3),
    ("witness A {a}\n", "policy.quorum", None),
    ("group g any A\nwitness A {a}\nquorum g\n", "policy.undefined", 1),
    ("witness A {a}\nwitness B {b}\ngroup g 3 A B\nquorum g\n", "policy.threshold", 3),
    ("witness A {a}\ngroup g 0 A\nquorum g\n", "policy.threshold", 2),
    ("witness A {a}\ngroup g 01 A\nquorum g\n", "policy.threshold", 2),
    ("witness A {a}\ngroup g any A A\nquorum g\n", "policy.group", 2),
    ("witness A {a}\ngroup g any none\nquorum g\n", "policy.undefined", 2),
    ("witness none {a}\nquorum none\n", "policy.name", 1),
    ("witness A {a}\nwitness A {b}\nquorum A\n", "policy.duplicate", 2),
    ("witness A {a}\nwitness B {a}\nquorum A\n", "policy.duplicate", 2),
    ("witness A {log}\nquorum A\n", "policy.witness-key", 1),
    ("log {a}\nquorum none\n", "policy.log-key", 1),
    ("log {log}\nlog {log}\nquorum none\n", "policy.duplicate", 2),
    ("witnesses A {a}\nquorum A\n", "policy.keyword", 1),
    ("witness A {a}\rquorum A\n", "policy.charset", None),
])
def test_malformed_policies_name_the_rule_and_line(text: str, rule: str, line: int | None) -> None:
    data = text.format(a=vkey("a.example"), b=vkey("b.example"), log=LOG).encode()
    with pytest.raises(PolicyError) as caught:
        parse_policy(data)
    assert (caught.value.rule, caught.value.line) == (rule, line)
