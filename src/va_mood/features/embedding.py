"""What a pre-trained music tagger makes of a clip: musicnn's tags and penultimate layer.

The network itself is :mod:`va_mood.features.musicnn`; its outputs are a shared intermediate
(:attr:`va_mood.features.analysis.Analysis.musicnn`), read by the two groups here.
"""

from __future__ import annotations

import numpy as np

from .musicnn import EMBEDDING_DIMS, TAGS
from .registry import feature

__all__ = ["msd_tags", "msd_embedding"]


@feature("embedding", "msd_tags", dims=TAGS)
def msd_tags(*, musicnn: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Probabilities of the 50 MSD tags (moods, genres, eras, instruments) over time."""
    return musicnn[0]


@feature("embedding", "msd_embedding", dims=EMBEDDING_DIMS, stats=("mean",))
def msd_embedding(*, musicnn: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """The tagger's penultimate layer: 200 learnt descriptors of the music, averaged."""
    return musicnn[1]
