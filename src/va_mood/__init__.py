"""va_mood: where music sits in Russell's valence-arousal plane, and which of four moods that is.

Heavy libraries load on first use, so ``import va_mood`` (and ``va-mood --help``) stays quick.

Examples
--------
>>> import va_mood
>>> table = va_mood.load_model().predict_files(["song.mp3"])  # doctest: +SKIP
"""

from importlib import import_module
from typing import Any

from .util import moved

__version__ = "0.1.0"

_EXPORTS = {
    "load_model": "api",
    "load_corpus": "api",
    "train": "api",
    "Bundle": "model.bundle",
    "load_bundle": "model.bundle",
    "save_bundle": "model.bundle",
    "MoodModel": "model.estimator",
    "load_config": "config",
    "load_label_spec": "config",
    "load_labels": "labels.files",
    "cross_validate": "evaluation.cross_validation",
    "extract_files": "extraction.batch",
    "VaMoodError": "errors",
}
__all__ = ["__version__", *_EXPORTS]
moved.install(__name__)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module 'va_mood' has no attribute {name!r}")
