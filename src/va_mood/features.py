"""The feature row of a clip: every built-in feature group, registered in one place.

Importing this module imports every extractor module, in a fixed order, so that the registry
(:mod:`va_mood.registry`) holds all built-in groups: energy and motion
(:mod:`va_mood.energy`), pitch content (:mod:`va_mood.pitch`), timbre (:mod:`va_mood.timbre`),
harmony (:mod:`va_mood.harmony`) and the pre-trained tagger's outputs
(:mod:`va_mood.embedding`). An application registers its own groups with
:func:`va_mood.registry.feature` the same way.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from . import embedding, energy, harmony, pitch, quality, timbre  # noqa: F401 - register groups
from .analysis import AnalysisConfig, analysis_of
from .registry import REGISTRY, FeatureGroup, columns_for, feature, summarise

__all__ = [
    "REGISTRY",
    "FeatureGroup",
    "feature",
    "summarise",
    "columns_for",
    "extract_clip",
    "analysis_of",
]


def extract_clip(
    y: np.ndarray, sr: int, *, config: AnalysisConfig, groups: Sequence[str]
) -> np.ndarray:
    """Compute the named feature groups for one mono clip.

    Returns
    -------
    np.ndarray [shape=(len(columns_for(groups)),)]
        Finite values in the order of :func:`columns_for`.

    Examples
    --------
    >>> import numpy as np
    >>> from va_mood.config import AnalysisConfig
    >>> y = np.sin(2 * np.pi * 440 * np.arange(22050) / 22050).astype(np.float32)
    >>> extract_clip(y, 22050, config=AnalysisConfig(), groups=["arousal.rms"]).shape
    (5,)
    """
    columns_for(groups)
    analysis = analysis_of(y, sr, config)
    return np.concatenate([REGISTRY[g].compute(analysis) for g in groups])
