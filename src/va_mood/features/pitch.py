"""Pitch content, the article's valence groups: chroma, the constant-Q spectrum, tonnetz.

They describe pitch classes and so depend on the key a song is in; :mod:`va_mood.features.harmony`
measures harmony relative to the tonic instead.
"""

from __future__ import annotations

import numpy as np

from .registry import feature

__all__ = ["PITCH_CLASSES", "CQT_BANDS", "chroma", "cqt", "tonnetz"]

PITCH_CLASSES = ("C", "Db", "D", "Eb", "E", "F", "Gb", "G", "Ab", "A", "Bb", "B")


def _db(x: np.ndarray, floor: float = 1e-5) -> np.ndarray:
    return 20.0 * np.log10(np.maximum(x, floor))


@feature("valence", "chroma", dims=PITCH_CLASSES)
def chroma(*, chroma: np.ndarray) -> np.ndarray:
    """Chromagram from the CQT: energy per pitch class, C first."""
    return chroma


CQT_BANDS = 21
"""Bands the constant-Q spectrum is pooled into: 4 semitones each with the default 84 bins."""


@feature("valence", "cqt", dims=CQT_BANDS)
def cqt(*, C: np.ndarray) -> np.ndarray:  # noqa: N803
    """Constant-Q spectrum in dB relative to the clip's peak, pooled into 21 bands."""
    pooled = np.stack([band.mean(axis=0) for band in np.array_split(C, CQT_BANDS, axis=0)])
    peak = pooled.max() if pooled.size else 1.0
    return _db(pooled / max(peak, 1e-10), floor=1e-4)


@feature(
    "valence", "tonnetz", dims=("fifth_x", "fifth_y", "minor_x", "minor_y", "major_x", "major_y")
)
def tonnetz(*, tonnetz: np.ndarray) -> np.ndarray:
    """Tonal centroids: the chroma projected on circles of fifths and thirds."""
    return tonnetz
