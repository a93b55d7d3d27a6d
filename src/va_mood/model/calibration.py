"""From a head's raw score to a coordinate and a confidence, both learnt out of fold.

A binary head's probability says how sure it is of a side, not where a clip sits; a
regression head's value shrinks towards the mean. Each head therefore gets two monotone maps,
fitted on scores the head gave clips it did not train on (inner cross-validation, see
:class:`va_mood.model.estimator.MoodModel`):

- :class:`CoordinateMap`: the score to a coordinate on the labels' continuous scale. An
  isotonic regression of the label on the score, fitted on each side of the head's decision
  separately, then stretched so that its mean and spread are the labels' (the concordance
  correlation rewards both), and kept on the side the head chose: the quadrant is the head's
  decision, the coordinate says how far in.
- :class:`ConfidenceMap`: the score to the probability that the clip is on the positive side
  (Platt scaling: a logistic regression on the log-odds of a probability, or on a regression
  head's value).

Both are a handful of numbers, stored as JSON in a model bundle.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["MARGIN", "CoordinateMap", "ConfidenceMap", "log_odds"]

MARGIN = 0.01
"""The least distance from the boundary a coordinate keeps on the side its head chose."""

_EPS = 1e-6


def log_odds(p: np.ndarray) -> np.ndarray:
    """``log(p / (1 - p))``, with ``p`` kept inside (0, 1)."""
    p = np.clip(np.asarray(p, dtype=float), _EPS, 1 - _EPS)
    return np.log(p / (1 - p))


def _isotonic(scores: np.ndarray, targets: np.ndarray, low: float, high: float) -> tuple:
    """Knots (x, y) of the increasing isotonic fit of ``targets`` on ``scores``, in [low, high]."""
    from sklearn.isotonic import IsotonicRegression

    fit = IsotonicRegression(y_min=low, y_max=high, out_of_bounds="clip").fit(scores, targets)
    return fit.X_thresholds_, fit.y_thresholds_


@dataclass(frozen=True)
class CoordinateMap:
    """A monotone, piecewise-linear map from a head's score to a coordinate on [-1, 1].

    ``x``, ``y`` are its knots (interpolated between, constant beyond); ``decision`` is the
    score at which the head changes side; values are kept at least :data:`MARGIN` on that
    side of ``threshold`` (the axis' boundary on the plane).
    """

    x: tuple[float, ...]
    y: tuple[float, ...]
    decision: float
    threshold: float = 0.0

    @classmethod
    def fit(
        cls,
        scores: np.ndarray,
        targets: np.ndarray,
        *,
        decision: float,
        threshold: float = 0.0,
        stretch: bool = True,
    ) -> CoordinateMap:
        """Fit on out-of-fold ``scores`` and the labels' ``targets`` on [-1, 1].

        ``stretch`` matches the fitted values' mean and standard deviation to the targets'
        (for labels with continuous values; a ±1 target has nothing to stretch to).
        """
        scores, targets = np.asarray(scores, dtype=float), np.asarray(targets, dtype=float)
        xs, ys = [], []
        for rows, low, high in (
            (scores <= decision, -1.0, threshold - MARGIN),
            (scores > decision, threshold + MARGIN, 1.0),
        ):
            if rows.any():
                x, y = _isotonic(scores[rows], targets[rows], low, high)
                xs.append(x)
                ys.append(y)
        x, y = np.concatenate(xs), np.concatenate(ys)
        if stretch:
            fitted = np.interp(scores, x, y)
            spread = fitted.std()
            if spread > _EPS:
                y = targets.mean() + (y - fitted.mean()) * targets.std() / spread
        return cls(
            tuple(map(float, x)), tuple(map(float, np.clip(y, -1.0, 1.0))), decision, threshold
        )

    def __call__(self, scores: np.ndarray) -> np.ndarray:
        values = np.interp(np.asarray(scores, dtype=float), self.x, self.y)
        positive = np.asarray(scores, dtype=float) > self.decision
        return np.where(
            positive,
            np.maximum(values, self.threshold + MARGIN),
            np.minimum(values, self.threshold - MARGIN),
        )

    def to_dict(self) -> dict[str, Any]:
        return {"x": list(self.x), "y": list(self.y), "decision": self.decision,
                "threshold": self.threshold}  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CoordinateMap:
        """Rebuild from :meth:`to_dict`; refuses knots that are not finite and increasing."""
        x = np.asarray(data["x"], dtype=float)
        y = np.asarray(data["y"], dtype=float)
        if x.shape != y.shape or not len(x) or not np.all(np.isfinite(np.r_[x, y])):
            raise ValueError("coordinate map needs finite knots x and y of one length")
        if np.any(np.diff(x) < 0) or np.any(np.diff(y) < 0) or np.abs(y).max() > 1:
            raise ValueError("coordinate map must be increasing and within [-1, 1]")
        return cls(tuple(x), tuple(y), float(data["decision"]), float(data["threshold"]))


@dataclass(frozen=True)
class ConfidenceMap:
    """``P(positive side) = 1 / (1 + exp(-(slope * z + intercept)))`` of a head's score ``z``
    (the log-odds of a binary head's probability, a regression head's value)."""

    slope: float
    intercept: float
    log_odds: bool = True

    @classmethod
    def fit(cls, scores: np.ndarray, positive: np.ndarray, *, binary: bool) -> ConfidenceMap:
        """Platt scaling on out-of-fold ``scores`` and whether each clip is on the positive
        side."""
        from sklearn.linear_model import LogisticRegression

        z = log_odds(scores) if binary else np.asarray(scores, dtype=float)
        positive = np.asarray(positive, dtype=bool)
        if positive.all() or not positive.any():
            return cls(0.0, 10.0 if positive.all() else -10.0, binary)
        fit = LogisticRegression(C=1e4).fit(z[:, None], positive)
        return cls(float(fit.coef_[0, 0]), float(fit.intercept_[0]), binary)

    def __call__(self, scores: np.ndarray) -> np.ndarray:
        z = log_odds(scores) if self.log_odds else np.asarray(scores, dtype=float)
        return 1.0 / (1.0 + np.exp(-(self.slope * z + self.intercept)))

    def to_dict(self) -> dict[str, Any]:
        return {"slope": self.slope, "intercept": self.intercept, "log_odds": self.log_odds}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ConfidenceMap:
        """Rebuild from :meth:`to_dict`; refuses values that are not finite."""
        slope, intercept = float(data["slope"]), float(data["intercept"])
        if not (np.isfinite(slope) and np.isfinite(intercept)) or slope < 0:
            raise ValueError("confidence map needs a finite, non-negative slope and intercept")
        return cls(slope, intercept, bool(data["log_odds"]))
