"""Russell's four quadrants: from (valence, arousal) on the [-1, 1] plane to a mood name."""

from __future__ import annotations

import numpy as np

from .errors import ParameterError
from .vocabulary import MOODS, QUADRANTS, SIGNS

__all__ = ["QUADRANTS", "MOODS", "quadrant_of", "axis_signs", "parse_quadrant"]

_ALIASES = {
    **{q.lower(): q for q in QUADRANTS},
    **{m.lower(): q for q, m in MOODS.items()},
    **{str(i): f"Q{i}" for i in range(1, 5)},
}


def quadrant_of(
    valence: np.ndarray, arousal: np.ndarray, *, thresholds: tuple[float, float] = (0.0, 0.0)
) -> np.ndarray:
    """The quadrant (``"Q1"`` … ``"Q4"``) of each (valence, arousal) point.

    A point is on the high/positive side of an axis when it lies strictly above that axis'
    threshold (``thresholds`` is ``(valence, arousal)``, both on the [-1, 1] plane).

    Examples
    --------
    >>> quadrant_of(np.array([0.5, -0.5]), np.array([0.2, -0.1])).tolist()
    ['Q1', 'Q3']
    """
    pos_v = np.asarray(valence) > thresholds[0]
    high_a = np.asarray(arousal) > thresholds[1]
    return np.where(high_a, np.where(pos_v, "Q1", "Q2"), np.where(pos_v, "Q4", "Q3")).astype(object)


def axis_signs(quadrants: np.ndarray) -> np.ndarray:
    """The (valence, arousal) signs, ±1, of each quadrant [shape=(n, 2)]."""
    return np.array([SIGNS[q] for q in quadrants], dtype=float).reshape(-1, 2)


def parse_quadrant(value: object) -> str:
    """Read ``Q1``..``Q4``, ``1``..``4`` or a mood name (any case) as a quadrant."""
    key = str(value).strip().lower()
    if key not in _ALIASES:
        raise ParameterError(
            f"unknown quadrant {value!r}; allowed: Q1..Q4, 1..4 or {', '.join(MOODS.values())}"
        )
    return _ALIASES[key]
