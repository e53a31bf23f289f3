"""TRAJECTLEDGER_WITNESS_POLICY and its companions: a mistake is refused at start, in one line
naming the setting (the CLI's exit code 78)."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cli.main import EXIT_CONFIG, main
from ledger.domain.checkpoint import verifier_key_string
from ledger.domain.cosignature import cosigner_vkey
from ledger.domain.envelope import public_key_bytes
from ledger.settings import Settings, SettingsError, create_keys, load_keys


def witness(name: str, url: str = "") -> str:
    vkey = cosigner_vkey(name, Ed25519PrivateKey.generate().public_key().public_bytes_raw())
    return f"witness {name.split('.')[0].upper()} {vkey} {url}".rstrip()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    create_keys(tmp_path / "keys")
    return {"TRAJECTLEDGER_KEY_DIR": str(tmp_path / "keys"), "TRAJECTLEDGER_DATABASE_URL": f"sqlite:///{tmp_path}/l.db"}


def test_a_valid_policy_is_loaded(env: dict[str, str], tmp_path: Path) -> None:
    operator_key, _ = load_keys(Path(env["TRAJECTLEDGER_KEY_DIR"]))
    log = verifier_key_string("trajectledger.example/log", public_key_bytes(operator_key))
    policy = tmp_path / "policy"
    policy.write_text(f"log {log}\n{witness('a.example', 'http://a')}\n{witness('b.example', 'http://b')}\n"
                      "group g any A B\nquorum g\n")
    settings = Settings.from_environ({**env, "TRAJECTLEDGER_WITNESS_POLICY": str(policy),
                                      "TRAJECTLEDGER_WITNESS_EVERY_SECONDS": "2.5"})
    assert settings.witness_policy is not None and settings.witness_policy.describe() == "1 of (A, B)"
    assert (settings.witness_every_seconds, settings.witness_timeout_seconds) == (2.5, 5.0)
    assert Settings.from_environ(env).witness_policy is None


@pytest.mark.parametrize(("text", "message"), [
    (None, "TRAJECTLEDGER_WITNESS_POLICY: cannot read"),
    ("quorum A\n", "line 1: policy.quorum"),
    (f"{witness('a.example')}\nquorum A\n", "policy.unreachable"),
    (f"log {verifier_key_string('trajectledger.example/log', bytes(32))}\nquorum none\n", "policy.log-key"),
])
def test_mistakes_are_refused_naming_the_setting(env: dict[str, str], tmp_path: Path, text: str | None,
                                                message: str, capsys: pytest.CaptureFixture[str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    policy = tmp_path / "policy"
    if text is not None:
        policy.write_text(text)
    with pytest.raises(SettingsError, match=message) as caught:
        Settings.from_environ({**env, "TRAJECTLEDGER_WITNESS_POLICY": str(policy)})
    assert str(caught.value).startswith("TRAJECTLEDGER_WITNESS_POLICY: ") and "\n" not in str(caught.value)
    for name, value in {**env, "TRAJECTLEDGER_WITNESS_POLICY": str(policy)}.items():
        monkeypatch.setenv(name, value)
    assert main(["witness", "push"]) == EXIT_CONFIG
    assert capsys.readouterr().err.startswith("error: TRAJECTLEDGER_WITNESS_POLICY: ")


def test_witness_timing_settings_must_be_positive(env: dict[str, str]) -> None:
    for name in ("TRAJECTLEDGER_WITNESS_EVERY_SECONDS", "TRAJECTLEDGER_WITNESS_TIMEOUT_SECONDS"):
        with pytest.raises(SettingsError, match=name):
            Settings.from_environ({**env, name: "0"})
