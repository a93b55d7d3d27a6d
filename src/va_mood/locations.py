"""Where va_mood keeps what it makes unless told otherwise: the feature cache, tuning studies."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["DEFAULT_STORAGE", "DEFAULT_PREFIX", "default_cache"]

DEFAULT_STORAGE = "sqlite:///studies/va_mood.db"
"""Where studies are kept unless told otherwise: a SQLite file under ``studies/``."""

DEFAULT_PREFIX = "va_mood"
"""Studies are named ``<prefix>-<head>``, e.g. ``va_mood-arousal``."""


def default_cache() -> Path:
    """The feature cache folder: ``$XDG_CACHE_HOME/va_mood/features`` (``~/.cache`` without
    it)."""
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "va_mood" / "features"
