"""Russell's four quadrants: from (valence, arousal) on the [-1, 1] plane to a mood name."""

from __future__ import annotations

import numpy as np

from .errors import ParameterError
from .vocabulary import MOODS, QUADRANTS, SIGNS

__all__ = ["QUADRANTS", "MOODS", "quadrant_of", "axis_signs", "parse_quadrant"]

_ALIASES = {
    **{q.lower(): q for q in QUADRANTS},
    **{m.lower(): q for q, m in MOODS.items()},
    **{str(i): q for i, q in enumerate(QUADRANTS, start=1)},
}


def quadrant_of(
    valence: np.ndarray, arousal: np.ndarray, *, thresholds: tuple[float, float] = (0.0, 0.0)
) -> np.ndarray:
    """The quadrant (``"Q1"`` … ``"Q4"``) of each (valence, arousal) point.

    A point is on the high/positive side of an axis when it lies strictly above that axis'
    threshold.

    Parameters
    ----------
    valence, arousal : np.ndarray [shape=(n,)]
        Coordinates on the [-1, 1] plane.
    thresholds : (float, float)
        The (valence, arousal) boundaries between the sides.

    Returns
    -------
    np.ndarray [shape=(n,)]
        Quadrant names (object dtype).

    Examples
    --------
    >>> quadrant_of(np.array([0.5, -0.5]), np.array([0.2, -0.1])).tolist()
    ['Q1', 'Q3']
    """
    pos_v = np.asarray(valence) > thresholds[0]
    high_a = np.asarray(arousal) > thresholds[1]
    q1, q2, q3, q4 = QUADRANTS
    return np.where(high_a, np.where(pos_v, q1, q2), np.where(pos_v, q4, q3)).astype(object)


def axis_signs(quadrants: np.ndarray) -> np.ndarray:
    """The (valence, arousal) signs, ±1, of each quadrant.

    Parameters
    ----------
    quadrants : np.ndarray [shape=(n,)]
        Quadrant names (``"Q1"`` … ``"Q4"``).

    Returns
    -------
    np.ndarray [shape=(n, 2)]
        Floats, columns (valence, arousal).

    Examples
    --------
    >>> axis_signs(np.array(["Q2"])).tolist()
    [[-1.0, 1.0]]
    """
    return np.array([SIGNS[q] for q in quadrants], dtype=float).reshape(-1, 2)


def parse_quadrant(value: object) -> str:
    """Read a quadrant as users write it: ``Q1``..``Q4``, ``1``..``4`` or a mood name.

    Parameters
    ----------
    value : object
        Any case, surrounding spaces allowed.

    Returns
    -------
    str
        The quadrant's name in :data:`QUADRANTS`.

    Raises
    ------
    ParameterError
        For anything else, listing what is allowed.

    Examples
    --------
    >>> parse_quadrant(" calm "), parse_quadrant(2)
    ('Q4', 'Q2')
    """
    key = str(value).strip().lower()
    if key not in _ALIASES:
        raise ParameterError(
            f"unknown quadrant {value!r}; allowed: {QUADRANTS[0]}..{QUADRANTS[-1]}, "
            f"1..{len(QUADRANTS)} or {', '.join(MOODS.values())}"
        )
    return _ALIASES[key]
