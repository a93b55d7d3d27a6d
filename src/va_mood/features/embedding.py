"""What a pre-trained music tagger makes of a clip: musicnn's tags and penultimate layer.

A tagger trained on a large music collection brings what a small labelled mood corpus cannot
teach. The network itself is :mod:`va_mood.features.musicnn`; its outputs are a shared
intermediate (:attr:`va_mood.features.analysis.Analysis.musicnn`), read by the two groups here.
"""

from __future__ import annotations

import numpy as np

from .musicnn import EMBEDDING_DIMS, TAGS
from .registry import feature

__all__ = ["msd_tags", "msd_embedding"]


@feature("embedding", "msd_tags", dims=TAGS)
def msd_tags(*, musicnn: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Probabilities of the 50 MSD tags (moods, genres, eras, instruments) over time.

    Parameters
    ----------
    musicnn : tuple of np.ndarray
        :attr:`~va_mood.features.analysis.Analysis.musicnn`: the tagger's tag probabilities
        [shape=(50, n_frames)] and penultimate layer [shape=(200, n_frames)].

    Returns
    -------
    np.ndarray [shape=(50, n_frames)]
        One row per name of :data:`va_mood.features.musicnn.TAGS`.

    See Also
    --------
    va_mood.features.musicnn.forward
    """
    return musicnn[0]


@feature("embedding", "msd_embedding", dims=EMBEDDING_DIMS, stats=("mean",))
def msd_embedding(*, musicnn: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """The tagger's penultimate layer: learnt descriptors of the music, averaged over time.

    Parameters
    ----------
    musicnn : tuple of np.ndarray
        As :func:`msd_tags` takes it; the second array is the one returned.

    Returns
    -------
    np.ndarray [shape=(200, n_frames)]

    See Also
    --------
    va_mood.features.musicnn.forward
    """
    return musicnn[1]
