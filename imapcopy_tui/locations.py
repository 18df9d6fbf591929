"""Where the tool keeps its files (XDG base directories).

Nothing here touches the disk at import time; callers ask for a path, then
``ensure_private_dir`` creates the directory 0700 when they are about to write.
"""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "imapcopy"
DB_ENV = "IMAPCOPY_DB"


def _xdg(var: str, fallback: str) -> Path:
    value = os.environ.get(var, "")
    # The spec says relative values are invalid and must be ignored.
    if value and os.path.isabs(value):
        return Path(value)
    return Path.home() / fallback


def config_dir() -> Path:
    """Directory of the user's settings and presets."""
    return _xdg("XDG_CONFIG_HOME", ".config") / APP_NAME


def data_dir() -> Path:
    """Directory of the job database."""
    return _xdg("XDG_DATA_HOME", ".local/share") / APP_NAME


def default_db_path() -> Path:
    """The job database: ``$IMAPCOPY_DB`` if set, else in the data directory."""
    override = os.environ.get(DB_ENV, "")
    if override:
        return Path(override)
    return data_dir() / "jobs.sqlite3"


def user_presets_path() -> Path:
    """The user's own presets, merged over the shipped ones."""
    return config_dir() / "presets.toml"


def user_settings_path() -> Path:
    """The user's remembered, non-secret settings."""
    return config_dir() / "settings.toml"


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` and its missing parents 0700 (whatever the umask); return it.

    A directory that exists already is left as it is: it may be shared (``--db
    /tmp/jobs.sqlite3``), and the files in it are 0600 anyway.
    """
    missing = []
    for directory in (path, *path.parents):
        if directory.is_dir():
            break
        missing.append(directory)
    for directory in reversed(missing):
        try:
            directory.mkdir(mode=0o700)
        except FileExistsError:
            if not directory.is_dir():
                raise
            continue  # made by another process meanwhile
        os.chmod(directory, 0o700)
    return path
