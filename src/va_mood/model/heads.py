"""FittedHeads: what predicting needs of a fitted MoodModel, and nothing of scikit-learn.

A loaded model bundle predicts through this, with each xgboost head read by
:class:`va_mood.model.trees.BoostedTrees`, so that a run whose features are cached imports neither
scikit-learn nor xgboost. :class:`va_mood.model.estimator.MoodModel` predicts through it too: one
code
path turns head scores into coordinates, confidences, quadrants and moods.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ParameterError
from ..quadrant import quadrant_of
from ..vocabulary import AXES, BINARY, MOODS, SIDES
from .calibration import ConfidenceMap, CoordinateMap

__all__ = ["TABLE_COLUMNS", "FittedHeads", "check_frame", "head_columns"]

_normal_cdf = np.frompyfunc(lambda z: 0.5 * (1.0 + math.erf(z / math.sqrt(2.0))), 1, 1)


TABLE_COLUMNS = (*AXES, "quadrant", "mood", *(f"{axis}_confidence" for axis in AXES))
"""The columns of :meth:`FittedHeads.predict_table` for both axes, in order."""


def check_frame(X: Any) -> pd.DataFrame:  # noqa: N803
    """``X`` if it is a DataFrame of finite named features, else a ParameterError."""
    if not isinstance(X, pd.DataFrame):
        raise ParameterError(f"X must be a pandas DataFrame of named features, got {type(X)}")
    if not np.all(np.isfinite(X.select_dtypes("number").to_numpy())):
        raise ParameterError("X holds non-finite feature values")
    return X


def head_columns(columns: list[str] | None, axis: str, X: pd.DataFrame) -> list[str]:  # noqa: N803
    """The columns of ``X`` a head reads (every column when ``columns`` is None)."""
    if columns is None:
        return list(X.columns)
    missing = [c for c in columns if c not in X.columns]
    if missing:
        raise ParameterError(
            f"the {axis} head needs {len(missing)} feature column(s) missing from the table "
            f"(first: {missing[0]!r}); extract the features with the model's configuration"
        )
    return list(columns)


@dataclass
class FittedHeads:
    """Each head's fitted estimator and how its scores become coordinates.

    Attributes
    ----------
    estimators : dict
        Per axis, anything with ``predict_proba`` (binary head) or ``predict`` (regression).
    modes : dict
        Per axis, ``"binary"`` or ``"regression"``.
    columns : dict
        Per axis, the feature columns the head reads (None: every column).
    thresholds : (float, float)
        The (valence, arousal) boundaries of the quadrants on [-1, 1].
    valence_sides : dict
        The valence head fitted on each arousal side (``high``, ``low``), if it was split.
    sigma : dict
        A regression head's out-of-fold error: the scale of its confidence.
    coordinates, confidence : dict
        Each head's calibration maps (:mod:`va_mood.model.calibration`), if it has them.
    """

    estimators: dict[str, Any]
    modes: dict[str, str]
    columns: dict[str, list[str] | None]
    thresholds: tuple[float, float] = (0.0, 0.0)
    valence_sides: dict[str, Any] = field(default_factory=dict)
    sigma: dict[str, float] = field(default_factory=dict)
    coordinates: dict[str, CoordinateMap] = field(default_factory=dict)
    confidence: dict[str, ConfidenceMap] = field(default_factory=dict)

    def predict_axis(self, axis: str, X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:  # noqa: N803
        """One axis' values on [-1, 1] and the confidence in the side each lies on.

        With calibration maps, the coordinate and the confidence come from them. Without, a
        binary head's probability ``p`` maps linearly onto each side of the threshold ``t``:
        [0, 0.5] onto [-1, t] and [0.5, 1] onto [t, 1] (so ``2p - 1`` when t = 0), with
        confidence ``max(p, 1 - p)``; a regression head's value is clipped to [-1, 1] and its
        confidence is a normal model of its out-of-fold error.
        """
        X = check_frame(X)  # noqa: N806
        if self.estimators.get(axis) is None:
            raise ParameterError(f"the {axis} head was not fitted")
        raw = self.raw_axis(axis, X)
        coordinates = self.coordinates.get(axis)
        if coordinates is not None:
            p_positive = self.confidence[axis](raw)
            positive = raw > coordinates.decision
            return coordinates(raw), np.where(positive, p_positive, 1 - p_positive)
        return self.uncalibrated(axis, raw)

    def uncalibrated(self, axis: str, raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """A head's value and confidence on its own scale (see :meth:`predict_axis`)."""
        t = self.thresholds[AXES.index(axis)]
        if self.modes[axis] == BINARY:
            p = raw
            value = np.where(p >= 0.5, t + (2 * p - 1) * (1 - t), t + (2 * p - 1) * (1 + t))
            return value, np.maximum(p, 1 - p)
        value = np.clip(raw, -1.0, 1.0)
        z = np.abs(value - t) / self.sigma[axis]
        return value, _normal_cdf(z).astype(float)

    def raw_axis(self, axis: str, X: pd.DataFrame) -> np.ndarray:  # noqa: N803
        """A head's probability of the positive side, or its value, for each clip; the mix of
        the two arousal sides' valence heads where the valence head was split."""
        values = X[head_columns(self.columns.get(axis), axis, X)].to_numpy()
        sides = self.valence_sides if axis == "valence" else {}
        if not sides:
            return self._raw(axis, self.estimators[axis], values)
        p_high = self._probability_high_arousal(X)
        high, low = (self._raw(axis, sides[side], values) for side in SIDES)
        return p_high * high + (1 - p_high) * low

    def _raw(self, axis: str, estimator: Any, values: np.ndarray) -> np.ndarray:
        """A classifier's probability of the positive side, or a regressor's value."""
        if self.modes[axis] == BINARY:
            return estimator.predict_proba(values)[:, 1]
        return estimator.predict(values)

    def _probability_high_arousal(self, X: pd.DataFrame) -> np.ndarray:  # noqa: N803
        """The arousal head's own probability that each clip is on the high side (before any
        calibration, as the inner models that calibrate the valence head saw it)."""
        value, confidence = self.uncalibrated("arousal", self.raw_axis("arousal", X))
        return np.where(value > self.thresholds[AXES.index("arousal")], confidence, 1 - confidence)

    def predict_table(self, X: pd.DataFrame, *, axes: tuple[str, ...] = AXES) -> pd.DataFrame:  # noqa: N803
        """Everything a user reads about each clip, one row per row of ``X``.

        Columns: ``valence``, ``arousal`` (on [-1, 1]), ``quadrant``, ``mood``, and
        ``valence_confidence``, ``arousal_confidence``: the head's probability that the clip
        is on the side of the axis it was put on (0.5 = a coin toss, 1 = certain). With one
        of ``axes`` only, that axis' two columns (no quadrant).
        """
        parts = {axis: self.predict_axis(axis, X) for axis in axes}
        table = pd.DataFrame({axis: parts[axis][0] for axis in axes}, index=X.index)
        if set(axes) == set(AXES):
            table = table[list(AXES)]
            va = table.to_numpy()
            table["quadrant"] = quadrant_of(va[:, 0], va[:, 1], thresholds=self.thresholds)
            table["mood"] = table["quadrant"].map(MOODS)
        for axis in (a for a in AXES if a in axes):
            table[f"{axis}_confidence"] = parts[axis][1]
        return table
