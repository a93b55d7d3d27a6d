"""The feature row of one clip: the named groups it asks for, from one analysis of it.

Every group reads the same :class:`~va_mood.features.analysis.Analysis`, so a clip's
transforms are computed once however many groups are asked for.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .analysis import AnalysisConfig, analysis_of
from .registry import REGISTRY, columns_for

__all__ = ["extract_clip"]


def extract_clip(
    y: np.ndarray, sr: int, *, config: AnalysisConfig, groups: Sequence[str]
) -> np.ndarray:
    """Compute the named feature groups for one mono clip.

    Parameters
    ----------
    y : np.ndarray [shape=(n_samples,)]
        The mono clip.
    sr, config : int, AnalysisConfig
        Its sample rate and the analysis settings.
    groups : sequence of str
        Feature group keys (``family.name``).

    Returns
    -------
    np.ndarray [shape=(len(columns_for(groups)),)]
        Finite values in the order of :func:`columns_for`.

    Raises
    ------
    ParameterError
        When a group is not registered, or the clip is shorter than
        :data:`va_mood.audio.decode.MIN_DURATION`.

    See Also
    --------
    va_mood.extraction.segments.extract_windows : the same for windows of a clip.
    va_mood.extraction.batch.extract_files : the same for many files.

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
