"""Remembered settings: private file, no password, precise errors."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from imapcopy_tui.config.settings import RememberedAccount, Settings, load_settings, save_settings


def test_round_trip_is_private(tmp_path: Path) -> None:
    """What is saved is read back; the file is 0600 in a 0700 directory."""
    path = tmp_path / "cfg" / "settings.toml"
    remembered = RememberedAccount("gmail", "alice@gmail.com", "imap.gmail.com", 993, "tls")
    save_settings(Settings(source=remembered), path)
    assert load_settings(path) == (Settings(source=remembered), [])
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    assert "password" not in path.read_text()


def test_malformed_file_names_file_line_and_key(tmp_path: Path) -> None:
    """An unknown key: the error says the file, the line and the key; nothing is loaded."""
    path = tmp_path / "settings.toml"
    path.write_text('[source]\nlogin = "a"\nprot = 993\n')
    settings, errors = load_settings(path)
    assert settings == Settings()
    assert [str(e) for e in errors] == [f"{path}, line 3: [source] prot: unknown key "
                                        "(expected one of: preset, login, host, port, security, "
                                        "ca_file, verify_certificate)"]


def test_syntax_error_is_reported_not_raised(tmp_path: Path) -> None:
    """A TOML syntax error is returned as a ConfigError with tomllib's line."""
    path = tmp_path / "settings.toml"
    path.write_text("[source\n")
    _, errors = load_settings(path)
    assert len(errors) == 1 and "line 1" in str(errors[0]) and str(path) in str(errors[0])
