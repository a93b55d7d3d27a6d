"""va_mood: where music sits in Russell's valence-arousal plane, and which of four moods that is.

Heavy libraries load on first use, so ``import va_mood`` (and ``va-mood --help``) stays quick.

Examples
--------
>>> import va_mood
>>> table = va_mood.load_model().predict_files(["song.mp3"])  # doctest: +SKIP
"""

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "load_model": "api",
    "load_corpus": "api",
    "train": "api",
    "Bundle": "bundle",
    "load_bundle": "bundle",
    "save_bundle": "bundle",
    "MoodModel": "model",
    "load_config": "config",
    "load_label_spec": "config",
    "load_labels": "labels",
    "cross_validate": "evaluate",
    "extract_files": "extract",
    "VaMoodError": "errors",
}
__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module 'va_mood' has no attribute {name!r}")
