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

    ``2 cov / (var_p + var_t + (mean_p - mean_t)^2)``, with population (co)variances: 1 only
    when the values are equal, lower than Pearson's r when they are shifted or stretched, so
    it judges coordinates, not only their ranking.

    Parameters
    ----------
    predicted, true : np.ndarray [shape=(n,)]
        Predicted values and the true ones, in the same order.

    Returns
    -------
    float
        On [-1, 1]; NaN when both sides are constant and equal.

    See Also
    --------
    pearson

    References
    ----------
    .. [1] L. I.-K. Lin, "A concordance correlation coefficient to evaluate reproducibility",
       Biometrics 45(1), 255-268, 1989.

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
    """Pearson's correlation coefficient of predicted and true values.

    Parameters as :func:`concordance`.

    Returns
    -------
    float
        On [-1, 1]; NaN for fewer than two values or where either side is constant.

    See Also
    --------
    concordance : also penalises a shift or a stretch.
    """
    p, t = np.asarray(predicted, dtype=float), np.asarray(true, dtype=float)
    if len(p) < 2 or p.std() == 0 or t.std() == 0:
        return float("nan")
    return float(np.corrcoef(p, t)[0, 1])


def rmse(predicted: np.ndarray, true: np.ndarray) -> float:
    """Root mean squared error of predicted against true values.

    Parameters as :func:`concordance`.

    Returns
    -------
    float
        In the values' own unit.
    """
    p, t = np.asarray(predicted, dtype=float), np.asarray(true, dtype=float)
    return float(np.sqrt(np.mean((p - t) ** 2)))


def share_extreme(values: np.ndarray) -> float:
    """The share of values beyond ±:data:`EXTREME`: how many pile up at the ends.

    Parameters
    ----------
    values : np.ndarray [shape=(n,)]
        Coordinates on [-1, 1].

    Returns
    -------
    float
        On [0, 1].
    """
    return float(np.mean(np.abs(np.asarray(values, dtype=float)) > EXTREME))


def reliability(
    confidence: np.ndarray, correct: np.ndarray, n_bins: int = N_BINS
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The points of a reliability diagram: per bin of the confidence, how often it is right.

    Parameters
    ----------
    confidence : np.ndarray [shape=(n,)]
        The probability of the side each answer chose, on [0.5, 1].
    correct : np.ndarray [shape=(n,)]
        Whether each answer was right (bool or 0/1).
    n_bins : int
        Equal-width bins on [0.5, 1].

    Returns
    -------
    mean_confidence : np.ndarray [shape=(n_bins,)]
        Each bin's mean confidence (NaN for an empty bin).
    accuracy : np.ndarray [shape=(n_bins,)]
        Each bin's share of right answers (NaN for an empty bin).
    count : np.ndarray [shape=(n_bins,)]
        How many answers fall in each bin.

    See Also
    --------
    expected_calibration_error
    """
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

    The count-weighted mean over :func:`reliability`'s bins of ``|accuracy - confidence|``,
    with the bins on [0.5, 1], where a binary side's confidence lies.

    Parameters
    ----------
    confidence : np.ndarray [shape=(n,)]
        The probability of the side each answer chose, on [0.5, 1].
    correct : np.ndarray [shape=(n,)]
        Whether each answer was right.
    n_bins : int
        Equal-width bins on [0.5, 1].

    Returns
    -------
    float
        0 for a perfectly calibrated confidence, up to 1.

    References
    ----------
    .. [1] M. P. Naeini, G. F. Cooper, M. Hauskrecht, "Obtaining well calibrated probabilities
       using Bayesian binning", AAAI 2015.
    .. [2] C. Guo, G. Pleiss, Y. Sun, K. Q. Weinberger, "On calibration of modern neural
       networks", ICML 2017.

    Examples
    --------
    >>> round(expected_calibration_error(np.array([0.9, 0.9, 0.6, 0.6]), np.array([1, 1, 1, 0])), 3)
    0.1
    """
    mean_conf, accuracy, count = reliability(confidence, correct, n_bins)
    used = count > 0
    gaps = np.abs(accuracy[used] - mean_conf[used])
    return float(np.sum(gaps * count[used]) / count.sum())
