"""Pitch content: chroma, the constant-Q spectrum and tonnetz.

The article gave these groups to the valence head, hence their family name ``valence``. They
describe pitch classes and so depend on the key a song is in; :mod:`va_mood.features.harmony`
measures harmony relative to the tonic instead.
"""

from __future__ import annotations

import numpy as np

from .registry import feature

__all__ = ["PITCH_CLASSES", "CQT_BANDS", "chroma", "cqt", "tonnetz"]

PITCH_CLASSES = ("C", "Db", "D", "Eb", "E", "F", "Gb", "G", "Ab", "A", "Bb", "B")


def _db(x: np.ndarray, floor: float = 1e-5) -> np.ndarray:
    """Magnitudes in dB, floored at ``floor``."""
    return 20.0 * np.log10(np.maximum(x, floor))


@feature("valence", "chroma", dims=PITCH_CLASSES)
def chroma(*, chroma: np.ndarray) -> np.ndarray:
    """Chromagram from the CQT: energy per pitch class, C first.

    Parameters
    ----------
    chroma : np.ndarray [shape=(12, n_frames)]
        :attr:`~va_mood.features.analysis.Analysis.chroma`.

    Returns
    -------
    np.ndarray [shape=(12, n_frames)]
        The chromagram as it is, one row per name of :data:`PITCH_CLASSES`.
    """
    return chroma


CQT_BANDS = 21
"""Bands the constant-Q spectrum is pooled into: 4 semitones each with the default 84 bins."""


@feature("valence", "cqt", dims=CQT_BANDS)
def cqt(*, C: np.ndarray) -> np.ndarray:  # noqa: N803
    """Constant-Q spectrum in dB relative to the clip's peak, pooled into bands.

    Parameters
    ----------
    C : np.ndarray [shape=(n_bins, n_frames)]
        Magnitude constant-Q transform.

    Returns
    -------
    np.ndarray [shape=(21, n_frames)]
        The mean magnitude of each of :data:`CQT_BANDS` consecutive bands of bins, in dB
        relative to the clip's largest band value, floored at -80 dB.
    """
    pooled = np.stack([band.mean(axis=0) for band in np.array_split(C, CQT_BANDS, axis=0)])
    peak = pooled.max() if pooled.size else 1.0
    return _db(pooled / max(peak, 1e-10), floor=1e-4)


@feature(
    "valence", "tonnetz", dims=("fifth_x", "fifth_y", "minor_x", "minor_y", "major_x", "major_y")
)
def tonnetz(*, tonnetz: np.ndarray) -> np.ndarray:
    """Tonal centroids: the chroma projected on circles of fifths and thirds.

    Parameters
    ----------
    tonnetz : np.ndarray [shape=(6, n_frames)]
        :attr:`~va_mood.features.analysis.Analysis.tonnetz` (``librosa.feature.tonnetz``).

    Returns
    -------
    np.ndarray [shape=(6, n_frames)]
        The x and y coordinates on the circle of fifths, of minor thirds and of major
        thirds.

    References
    ----------
    .. [1] C. Harte, M. Sandler and M. Gasser, "Detecting harmonic change in musical audio",
           Proc. 1st ACM Workshop on Audio and Music Computing Multimedia, 2006.
    """
    return tonnetz
