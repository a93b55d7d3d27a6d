"""Old import paths of modules that moved into stage folders: still importable, with a warning.

The flat modules of ``va_mood`` 0.1.0 moved into one folder per stage (``va_mood.registry`` is
now ``va_mood.features.registry``). Until the next release the old paths import the moved
module itself (so ``va_mood.registry.REGISTRY`` is the registry), with a
:class:`DeprecationWarning` that names the new path.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import warnings
from types import ModuleType

__all__ = ["MOVED", "install"]

MOVED = {
    "_atomic": "util.atomic",
    "_digest": "util.digest",
    "_malloc": "util.memory",
    "_threads": "util.threads",
    "loudness": "audio.loudness",
    "registry": "features.registry",
    "analysis": "features.analysis",
    "musicnn": "features.musicnn",
    "energy": "features.energy",
    "pitch": "features.pitch",
    "timbre": "features.timbre",
    "harmony": "features.harmony",
    "embedding": "features.embedding",
    "quality": "features.quality",
    "extract": "extraction.batch",
    "cache": "extraction.cache",
    "feature_table": "extraction.table",
    "long_files": "extraction.long_files",
    "segments": "extraction.segments",
    "augment": "labels.augment",
    "calibration": "model.calibration",
    "trees": "model.trees",
    "fitted": "model.heads",
    "bundle_schema": "model.schema",
    "bundle": "model.bundle",
    "card": "model.card",
    "metrics": "evaluation.metrics",
    "evaluate": "evaluation.cross_validation",
    "output_scales": "outputs.scales",
    "tag_formats": "outputs.tag_formats",
    "tagging": "outputs.tagging",
    "playlist": "outputs.playlist",
    "plots": "outputs.plots",
    "page": "outputs.page",
}
"""Old module (under ``va_mood``) -> its new place. ``audio``, ``features``, ``labels`` and
``model`` became packages of the same name, whose index offers the names the modules had."""


class _MovedModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds ``va_mood.<old>`` and loads it as the module at its new path."""

    def __init__(self, package: str) -> None:
        self.package = package
        self.specs: dict[str, importlib.machinery.ModuleSpec] = {}

    def find_spec(self, fullname: str, path: object = None, target: object = None):  # noqa: ANN201
        prefix, _, old = fullname.partition(".")
        if prefix != self.package or old not in MOVED:
            return None
        return importlib.machinery.ModuleSpec(fullname, self)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        new = f"{self.package}.{MOVED[spec.name.partition('.')[2]]}"
        warnings.warn(
            f"{spec.name} moved to {new}; the old path goes in the next release",
            DeprecationWarning,
            stacklevel=2,
        )
        module = importlib.import_module(new)
        self.specs[new] = module.__spec__
        return module

    def exec_module(self, module: ModuleType) -> None:
        module.__spec__ = self.specs[module.__name__]  # the import machinery set the old one


def install(package: str) -> None:
    """Let the old paths under ``package`` import (once per interpreter)."""
    if not any(isinstance(f, _MovedModules) for f in sys.meta_path):
        sys.meta_path.append(_MovedModules(package))
