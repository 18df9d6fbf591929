"""The user's remembered settings: the last non-secret values typed for each side.

Written with tomli-w to ``~/.config/imapcopy/settings.toml`` (0600, in a 0700 directory).
A password is never part of it: :class:`RememberedAccount` has no field for one.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import tomli_w

from imapcopy_tui.config.presets import SECURITY_VALUES
from imapcopy_tui.errors import ConfigError
from imapcopy_tui.locations import ensure_private_dir, user_settings_path

SIDES = ("source", "destination")


@dataclass(frozen=True)
class RememberedAccount:
    """What the settings form held last time for one side (never the password)."""

    preset: str = ""
    login: str = ""
    host: str = ""
    port: int = 993
    security: str = "tls"
    ca_file: str = ""
    verify_certificate: bool = True


@dataclass(frozen=True)
class Settings:
    source: RememberedAccount | None = None
    destination: RememberedAccount | None = None

    def for_side(self, side: str) -> RememberedAccount | None:
        return self.source if side == "source" else self.destination

    def with_side(self, side: str, remembered: RememberedAccount) -> Settings:
        if side == "source":
            return Settings(remembered, self.destination)
        return Settings(self.source, remembered)


def _line_of(text: str, table: str, key: str) -> int | None:
    in_table = False
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("["):
            in_table = stripped.strip("[] ") == table
        elif in_table and stripped.split("=", 1)[0].strip() == key:
            return number
    return None


def _account(path: Path, text: str, side: str, data: Any) -> RememberedAccount:
    def error(key: str, problem: str) -> ConfigError:
        line = _line_of(text, side, key)
        where = f"{path}, line {line}" if line else str(path)
        return ConfigError(f"{where}: [{side}] {key}: {problem}")

    if not isinstance(data, dict):
        raise ConfigError(f"{path}: [{side}] must be a table")
    known = {f.name: f for f in fields(RememberedAccount)}
    for key, value in data.items():
        if key not in known:
            raise error(key, f"unknown key (expected one of: {', '.join(known)})")
        expected = {"port": int, "verify_certificate": bool}.get(key, str)
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise error(key, f"must be {'a number' if expected is int else expected.__name__}")
    if "security" in data and data["security"] not in SECURITY_VALUES:
        raise error("security", f"must be one of {', '.join(SECURITY_VALUES)}")
    if "port" in data and not 0 < data["port"] < 65536:
        raise error("port", "must be between 1 and 65535")
    return RememberedAccount(**data)


def load_settings(path: Path | None = None) -> tuple[Settings, list[ConfigError]]:
    """The remembered settings, and what was wrong with the file (then: nothing remembered)."""
    path = path or user_settings_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Settings(), []
    except (OSError, UnicodeDecodeError) as exc:
        return Settings(), [ConfigError(f"{path}: cannot be read ({exc})")]
    try:
        data = tomllib.loads(text)
        unknown = set(data) - set(SIDES)
        if unknown:
            key = sorted(unknown)[0]
            raise ConfigError(
                f"{path}: unknown table or key {key!r} (expected source, destination)"
            )
        return Settings(
            **{side: _account(path, text, side, data[side]) for side in SIDES if side in data}
        ), []
    except tomllib.TOMLDecodeError as exc:
        return Settings(), [ConfigError(f"{path}: {exc}")]
    except ConfigError as exc:
        return Settings(), [exc]


def save_settings(settings: Settings, path: Path | None = None) -> None:
    """Write the settings atomically, readable by the owner only."""
    path = path or user_settings_path()
    ensure_private_dir(path.parent)
    data = {side: asdict(acct) for side in SIDES if (acct := settings.for_side(side)) is not None}
    temporary = path.with_name(path.name + ".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # a leftover temporary file keeps its old mode through O_TRUNC
    with os.fdopen(fd, "wb") as handle:
        tomli_w.dump(data, handle)
    os.replace(temporary, path)
