"""va_mood: where music sits in Russell's valence-arousal plane, and which of four moods that is.

Heavy libraries load on first use, so ``import va_mood`` (and ``va-mood --help``) stays quick.

Examples
--------
>>> import va_mood
>>> table = va_mood.load_model().predict_files(["song.mp3"])  # doctest: +SKIP
"""

import warnings
from typing import Any

from .util import moved
from .util.lazy import lazy_exports

__version__ = "0.1.0"

_names, _exported, __dir__ = lazy_exports(
    __name__,
    {
        "Model": "api",
        "load_model": "api",
        "predict_files": "api",
        "load_corpus": "api",
        "train": "api",
        "save_bundle": "api",
        "MoodModel": "model.estimator",
        "load_config": "config",
        "load_label_spec": "config",
        "load_labels": "labels.files",
        "cross_validate": "evaluation.cross_validation",
        "extract_files": "extraction.batch",
        "VaMoodError": "errors",
    },
)
__all__ = ["__version__", *_names]

_RENAMED = {"Bundle": "Model", "load_bundle": "load_model"}
"""Names of version 0.1 that the next release drops."""


def __getattr__(name: str) -> Any:
    if name in _RENAMED:
        new = _RENAMED[name]
        warnings.warn(
            f"va_mood.{name} is now va_mood.{new}; the old name goes in the next release",
            DeprecationWarning,
            stacklevel=2,
        )
        return _exported(new)
    return _exported(name)


moved.install(__name__)
