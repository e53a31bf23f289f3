import shutil
import stat
from pathlib import Path

import pytest

from ledger.settings import Settings, SettingsError, create_keys, write_secret


def test_settings_need_keys_and_refuse_bad_numbers(tmp_path: Path) -> None:
    with pytest.raises(SettingsError):
        Settings.from_environ({})
    with pytest.raises(SettingsError):
        Settings.from_environ({"TRAJECTLEDGER_KEY_DIR": str(tmp_path / "none")})
    create_keys(tmp_path / "keys")
    with pytest.raises(SettingsError):
        create_keys(tmp_path / "keys")  # never overwrites a key
    env = {"TRAJECTLEDGER_KEY_DIR": str(tmp_path / "keys")}
    settings = Settings.from_environ(env)
    assert settings.database_url == "sqlite:///trajectledger.sqlite3"
    for bad in ("0", "-3", "many"):
        with pytest.raises(SettingsError, match="TRAJECTLEDGER_WITNESS_EVERY_SECONDS must be a positive number"):
            Settings.from_environ({**env, "TRAJECTLEDGER_WITNESS_EVERY_SECONDS": bad})


@pytest.mark.parametrize("name", ["TRAJECTLEDGER_CHECKPOINT_EVERY_ENTRIES", "TRAJECTLEDGER_CHECKPOINT_EVERY_SECONDS"])
def test_a_retired_setting_is_refused_in_one_line_saying_what_replaced_it(tmp_path: Path, name: str) -> None:
    create_keys(tmp_path / "keys")
    with pytest.raises(SettingsError) as refused:
        Settings.from_environ({"TRAJECTLEDGER_KEY_DIR": str(tmp_path / "keys"), name: "1000"})
    message = str(refused.value)
    assert message.startswith(f"{name} is no longer a setting: every write now signs and stores the checkpoint")
    assert "\n" not in message and "remove the setting" in message


def test_keys_are_written_readable_by_their_owner_only(tmp_path: Path) -> None:
    create_keys(tmp_path / "keys")
    assert stat.S_IMODE((tmp_path / "keys").stat().st_mode) == 0o700
    for name in ("operator.pem", "pseudonym.key"):
        assert stat.S_IMODE((tmp_path / "keys" / name).stat().st_mode) == 0o600
    left = tmp_path / "left-readable.pem"
    left.write_bytes(b"old")
    left.chmod(0o644)
    with pytest.raises(FileExistsError):
        write_secret(left, b"new")  # never overwrites unless told
    write_secret(left, b"new", replace=True)
    assert left.read_bytes() == b"new" and stat.S_IMODE(left.stat().st_mode) == 0o600


def test_an_operator_key_that_is_not_an_ed25519_pem_key_is_refused(tmp_path: Path) -> None:
    create_keys(tmp_path / "keys")
    env = {"TRAJECTLEDGER_KEY_DIR": str(tmp_path / "keys")}
    Settings.from_environ(env)
    shutil.copy(tmp_path / "keys" / "pseudonym.key", tmp_path / "keys" / "operator.pem")  # 32 random bytes
    with pytest.raises(SettingsError, match=r"TRAJECTLEDGER_KEY_DIR: cannot load the operator key .*operator\.pem: "
                                            r"not an Ed25519 private key in PEM"):
        Settings.from_environ(env)
