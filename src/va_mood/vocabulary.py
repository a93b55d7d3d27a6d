"""The package's shared vocabulary: the plane's axes, head modes, arousal sides, quadrants, moods.

One spelling and one order for each, used everywhere: the axes are (valence, arousal), x then
y of Russell's plane, in every tuple, table and file the package writes.
"""

from __future__ import annotations

__all__ = ["AXES", "HEAD_MODES", "BINARY", "REGRESSION", "SIDES", "QUADRANTS", "MOODS", "SIGNS"]

AXES = ("valence", "arousal")
"""The two axes of the plane, in the one order used everywhere: x (valence), then y (arousal)."""

BINARY, REGRESSION = "binary", "regression"
"""The two head modes, by name."""
HEAD_MODES = (BINARY, REGRESSION)
"""What a head predicts: the side of its axis (a probability) or a value on it."""

SIDES = ("high", "low")
"""The two sides of the arousal axis, e.g. of a valence head fitted separately on each."""

QUADRANTS = ("Q1", "Q2", "Q3", "Q4")
"""Russell's four quadrants, counter-clockwise from high arousal and positive valence."""
MOODS = {"Q1": "Uplifting", "Q2": "Aggressive", "Q3": "Melancholic", "Q4": "Calm"}
"""The mood name of each quadrant."""

SIGNS = {"Q1": (1, 1), "Q2": (-1, 1), "Q3": (-1, -1), "Q4": (1, -1)}
"""The (valence, arousal) signs of each quadrant."""
