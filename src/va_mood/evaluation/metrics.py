"""Figures of coordinates and confidences: concordance, calibration, the share at the ends.

Pure functions of arrays, used by :mod:`va_mood.evaluation.cross_validation` for every head,
whatever its mode.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "EXTREME",
    "N_BINS",
    "concordance",
    "pearson",
    "rmse",
    "share_extreme",
    "reliability",
    "expected_calibration_error",
]

EXTREME = 0.95
"""A coordinate beyond ±this sits at an end of its axis (see :func:`share_extreme`)."""

N_BINS = 10
"""Equal-width bins of the confidence on [0.5, 1] for calibration figures."""


def concordance(predicted: np.ndarray, true: np.ndarray) -> float:
    """Lin's concordance correlation coefficient: agreement in value, not only in order.

    ``2 cov / (var_p + var_t + (mean_p - mean_t)^2)``: 1 only when the values are equal,
    lower than Pearson's r when they are shifted or stretched.

    Examples
    --------
    >>> concordance(np.array([0.1, 0.2, 0.3]), np.array([0.1, 0.2, 0.3]))
    1.0
    >>> round(concordance(2 * np.array([0.1, 0.2, 0.3]), np.array([0.1, 0.2, 0.3])), 3)
    0.364
    """
    p, t = np.asarray(predicted, dtype=float), np.asarray(true, dtype=float)
    covariance = np.mean((p - p.mean()) * (t - t.mean()))
    denominator = p.var() + t.var() + (p.mean() - t.mean()) ** 2
    return float(2 * covariance / denominator) if denominator > 0 else float("nan")


def pearson(predicted: np.ndarray, true: np.ndarray) -> float:
    """Pearson's correlation (NaN where either side is constant)."""
    p, t = np.asarray(predicted, dtype=float), np.asarray(true, dtype=float)
    if len(p) < 2 or p.std() == 0 or t.std() == 0:
        return float("nan")
    return float(np.corrcoef(p, t)[0, 1])


def rmse(predicted: np.ndarray, true: np.ndarray) -> float:
    """Root mean squared error."""
    p, t = np.asarray(predicted, dtype=float), np.asarray(true, dtype=float)
    return float(np.sqrt(np.mean((p - t) ** 2)))


def share_extreme(values: np.ndarray) -> float:
    """The share of values beyond ±:data:`EXTREME`: how many pile up at the ends."""
    return float(np.mean(np.abs(np.asarray(values, dtype=float)) > EXTREME))


def reliability(
    confidence: np.ndarray, correct: np.ndarray, n_bins: int = N_BINS
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per bin of the confidence on [0.5, 1]: its mean confidence, its share of correct
    answers, and its count (NaN means for an empty bin)."""
    confidence = np.asarray(confidence, dtype=float)
    correct = np.asarray(correct, dtype=float)
    edges = np.linspace(0.5, 1.0, n_bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, n_bins - 1)
    count = np.bincount(which, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_conf = np.bincount(which, weights=confidence, minlength=n_bins) / count
        accuracy = np.bincount(which, weights=correct, minlength=n_bins) / count
    return mean_conf, accuracy, count


def expected_calibration_error(
    confidence: np.ndarray, correct: np.ndarray, n_bins: int = N_BINS
) -> float:
    """How far a confidence is from the share of answers it gets right, on average.

    The count-weighted mean over :func:`reliability`'s bins of ``|accuracy - confidence|``
    (Guo et al. 2017, with the bins on [0.5, 1], where a binary side's confidence lies).

    Examples
    --------
    >>> round(expected_calibration_error(np.array([0.9, 0.9, 0.6, 0.6]), np.array([1, 1, 1, 0])), 3)
    0.1
    """
    mean_conf, accuracy, count = reliability(confidence, correct, n_bins)
    used = count > 0
    gaps = np.abs(accuracy[used] - mean_conf[used])
    return float(np.sum(gaps * count[used]) / count.sum())
