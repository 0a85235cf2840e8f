"""Where things live by default (XDG base directories)."""

from __future__ import annotations

import os
from pathlib import Path

APP = "xmppterm"


def _xdg(var: str, fallback: str) -> Path:
    value = os.environ.get(var, "")
    return Path(value) if value and Path(value).is_absolute() else Path.home() / fallback


def config_dir() -> Path:
    return _xdg("XDG_CONFIG_HOME", ".config") / APP


def default_config_path() -> Path:
    return config_dir() / "config.toml"


def default_data_dir() -> Path:
    return _xdg("XDG_DATA_HOME", ".local/share") / APP


def user_themes_dir() -> Path:
    return config_dir() / "themes"
