"""Configuration: provider presets and user settings, read from TOML.

Nothing here imports ``textual`` or the engine; values such as the connection security
stay plain validated strings, converted by the engine.
"""

from __future__ import annotations

from imapcopy_tui.config.presets import (
    OTHER_KEY,
    ROLES,
    SECURITY_VALUES,
    Preset,
    PresetCatalogue,
    load_presets,
    load_presets_lenient,
    load_shipped_presets,
)

__all__ = [
    "OTHER_KEY",
    "ROLES",
    "SECURITY_VALUES",
    "Preset",
    "PresetCatalogue",
    "load_presets",
    "load_presets_lenient",
    "load_shipped_presets",
]
