from pathlib import Path

import pytest

from ledger.settings import Settings, SettingsError, create_keys


def test_settings_need_keys_and_refuse_bad_numbers(tmp_path: Path) -> None:
    with pytest.raises(SettingsError):
        Settings.from_environ({})
    with pytest.raises(SettingsError):
        Settings.from_environ({"TRAJECTLEDGER_KEY_DIR": str(tmp_path / "none")})
    create_keys(tmp_path / "keys")
    with pytest.raises(SettingsError):
        create_keys(tmp_path / "keys")  # never overwrites a key
    env = {"TRAJECTLEDGER_KEY_DIR": str(tmp_path / "keys"), "TRAJECTLEDGER_CHECKPOINT_EVERY_ENTRIES": "50"}
    settings = Settings.from_environ(env)
    assert (settings.checkpoint_every_entries, settings.checkpoint_every_seconds) == (50, 60.0)
    assert settings.database_url == "sqlite:///trajectledger.sqlite3"
    for bad in ("0", "-3", "many"):
        with pytest.raises(SettingsError):
            Settings.from_environ({**env, "TRAJECTLEDGER_CHECKPOINT_EVERY_SECONDS": bad})
