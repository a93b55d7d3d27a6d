"""The evaluation protocol: repeated k-fold cross-validation grouped by artist.

No artist ever has clips on both sides of a split, so the figures say how the model does on
artists it has not heard. Each repeat reshuffles the groups into folds (seed + repeat); every
figure is computed on a repeat's pooled out-of-fold predictions, then given as mean and
standard deviation over repeats.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
    r2_score,
)
from sklearn.model_selection import StratifiedGroupKFold

from ..config import Config
from ..errors import ParameterError
from ..labels.files import targets
from ..model.estimator import model_from_config
from ..quadrant import axis_signs
from ..vocabulary import AXES, MOODS, QUADRANTS, REGRESSION
from . import metrics

__all__ = [
    "cross_validate",
    "grouped_folds",
    "out_of_fold",
    "score_axis",
    "score_predictions",
    "format_report",
]


def grouped_folds(
    labels: pd.DataFrame, config: Config, *, repeat: int = 0
) -> list[tuple[np.ndarray, np.ndarray]]:
    """The (train, test) row positions of one repeat of the protocol's folds.

    Quadrant-stratified k-fold grouped by ``labels["group"]`` (the artist), so that no
    artist is on both sides of a split, shuffled with ``config.seed + repeat``.

    Parameters
    ----------
    labels : pd.DataFrame
        With ``quadrant`` and ``group`` columns.
    config : Config
        Its ``evaluation.n_splits`` and ``seed``.
    repeat : int
        Which repeat: each reshuffles the groups into folds.

    Returns
    -------
    list of (np.ndarray, np.ndarray)
        ``n_splits`` pairs of row positions into ``labels``.

    Raises
    ------
    ParameterError
        When there are fewer groups than folds.
    """
    n_splits = config.evaluation.n_splits
    n_groups = labels["group"].nunique()
    if n_groups < n_splits:
        raise ParameterError(
            f"grouped {n_splits}-fold CV needs at least that many groups "
            f"(artists), the labels have {n_groups}"
        )
    splitter = StratifiedGroupKFold(n_splits, shuffle=True, random_state=config.seed + repeat)
    return list(splitter.split(labels, labels["quadrant"], labels["group"]))


def out_of_fold(
    features: pd.DataFrame,
    labels: pd.DataFrame,
    config: Config,
    *,
    repeat: int = 0,
    axes: tuple[str, ...] = AXES,
    on_fold: Callable[[int, pd.DataFrame], None] | None = None,
) -> pd.DataFrame:
    """Out-of-fold predictions of one repeat of grouped, quadrant-stratified k-fold CV.

    Each clip is predicted by a model that never saw its group. Rows whose
    ``labels["augmented"]`` is true (excerpts of a clip, :mod:`va_mood.labels.augment`) join
    the training part of the fold that holds their group and are never predicted.

    Parameters
    ----------
    features : pd.DataFrame [shape=(n_rows, n_features)]
        Same index as ``labels``.
    labels : pd.DataFrame
        From :func:`va_mood.labels.files.load_labels` (and, optionally, augmented rows).
    config : Config
        The model, folds and seed.
    repeat : int
        Which repeat of the folds (:func:`grouped_folds`).
    axes : tuple of str
        The heads to fit and predict; one alone as tuning scores a head.
    on_fold : callable, optional
        ``on_fold(fold, predictions)``, with each fold's rows as they are predicted.

    Returns
    -------
    pd.DataFrame
        :meth:`~va_mood.model.estimator.MoodModel.predict_table` rows of every clip (not the
        augmented rows), in the order of ``features``.
    """
    y = targets(labels, config.modes)
    groups = labels["group"].to_numpy()
    augmented = _augmented(labels)
    clips = np.flatnonzero(~augmented)
    parts = []
    for fold, (train, test) in enumerate(grouped_folds(labels.iloc[clips], config, repeat=repeat)):
        train, test = clips[train], clips[test]
        extra = np.flatnonzero(augmented & np.isin(groups, groups[train]))
        train = np.concatenate([train, extra])
        model = model_from_config(config).fit(
            features.iloc[train], y[train], axes=axes, groups=groups[train]
        )
        parts.append(model.predict_table(features.iloc[test], axes=axes))
        if on_fold:
            on_fold(fold, parts[-1])
    return pd.concat(parts).loc[features.index[clips]]


def _augmented(labels: pd.DataFrame) -> np.ndarray:
    """Which rows are training-only excerpts of a clip (none, without that column)."""
    if "augmented" not in labels.columns:
        return np.zeros(len(labels), dtype=bool)
    return labels["augmented"].to_numpy(dtype=bool)


def score_axis(
    values: np.ndarray,
    labels: pd.DataFrame,
    axis: str,
    mode: str,
    threshold: float = 0.0,
    confidence: np.ndarray | None = None,
) -> dict[str, float]:
    """One axis' figures, whatever the head's mode.

    The side: accuracy and balanced accuracy (a predicted value is on the positive side above
    ``threshold``, a true one by its quadrant). The coordinate, where the labels hold
    continuous values: Pearson's r, the concordance correlation coefficient (CCC) and the
    RMSE against them, and R² for a regression head; the share of values at the ends. The
    confidence, when given: its expected calibration error (ECE) against the side being right.

    Parameters
    ----------
    values : np.ndarray [shape=(n_clips,)]
        Predicted coordinates on the axis.
    labels : pd.DataFrame
        The same clips' ``quadrant`` and continuous ``valence``, ``arousal`` (or NaN).
    axis : {"valence", "arousal"}
    mode : {"binary", "regression"}
        The head's mode.
    threshold : float
        The boundary between the axis' sides.
    confidence : np.ndarray [shape=(n_clips,)], optional
        The probability of the side each value is on.

    Returns
    -------
    dict of str to float
        Keyed ``<axis>_accuracy``, ``<axis>_balanced_accuracy``, ``<axis>_share_extreme``,
        ``<axis>_pearson_r``, ``<axis>_ccc``, ``<axis>_rmse``, ``<axis>_r2``, ``<axis>_ece``
        (those that apply).

    See Also
    --------
    va_mood.evaluation.metrics
    """
    values = np.asarray(values, dtype=float)
    k = AXES.index(axis)
    true_side = axis_signs(labels["quadrant"].to_numpy())[:, k] > 0
    pred_side = values > threshold
    scores = {
        f"{axis}_accuracy": accuracy_score(true_side, pred_side),
        f"{axis}_balanced_accuracy": balanced_accuracy_score(true_side, pred_side),
        f"{axis}_share_extreme": metrics.share_extreme(values),
    }
    truth = labels[axis].to_numpy(dtype=float)
    if not np.isnan(truth).any():
        scores[f"{axis}_pearson_r"] = metrics.pearson(values, truth)
        scores[f"{axis}_ccc"] = metrics.concordance(values, truth)
        scores[f"{axis}_rmse"] = metrics.rmse(values, truth)
        if mode == REGRESSION:
            scores[f"{axis}_r2"] = r2_score(truth, values)
    if confidence is not None:
        correct = pred_side == true_side
        scores[f"{axis}_ece"] = metrics.expected_calibration_error(confidence, correct)
    return scores


def score_predictions(
    predicted: pd.DataFrame,
    labels: pd.DataFrame,
    modes: dict[str, str],
    thresholds: tuple[float, float] = (0.0, 0.0),
) -> dict[str, Any]:
    """Every figure of one set of predictions against the labels.

    Parameters
    ----------
    predicted : pd.DataFrame
        ``quadrant``, and each axis' value and ``<axis>_confidence``; same index as ``labels``.
    labels : pd.DataFrame
        The true ``quadrant`` and continuous values of the same clips.
    modes : dict of str to str
        Each head's mode (``config.modes``).
    thresholds : (float, float)
        The (valence, arousal) boundaries of the sides.

    Returns
    -------
    dict
        ``quadrant_accuracy``, ``quadrant_macro_f1``, ``per_class`` (precision, recall, F1,
        support per quadrant), ``confusion`` (rows true, columns predicted) and each head's
        figures (:func:`score_axis`).
    """
    true_q = labels["quadrant"].to_numpy()
    pred_q = predicted["quadrant"].to_numpy()
    precision, recall, f1, support = precision_recall_fscore_support(
        true_q, pred_q, labels=list(QUADRANTS), zero_division=0
    )
    scores: dict[str, Any] = {
        "quadrant_accuracy": accuracy_score(true_q, pred_q),
        "quadrant_macro_f1": f1_score(true_q, pred_q, labels=list(QUADRANTS), average="macro"),
        "per_class": {
            q: {"precision": p, "recall": r, "f1": f, "support": int(s)}
            for q, p, r, f, s in zip(QUADRANTS, precision, recall, f1, support, strict=True)
        },
        "confusion": confusion_matrix(true_q, pred_q, labels=list(QUADRANTS)).tolist(),
    }
    for axis, threshold in zip(AXES, thresholds, strict=True):
        values = predicted[axis].to_numpy(dtype=float)
        confidence = predicted[f"{axis}_confidence"].to_numpy(dtype=float)
        scores.update(score_axis(values, labels, axis, modes[axis], threshold, confidence))
    return scores


def cross_validate(
    features: pd.DataFrame,
    labels: pd.DataFrame,
    config: Config,
    *,
    on_fold: Callable[[int, int], None] | None = None,
    on_repeat: Callable[[int, pd.DataFrame], None] | None = None,
) -> dict[str, Any]:
    """Run the evaluation protocol (see the module's summary) and return a JSON-ready report.

    Parameters
    ----------
    features : pd.DataFrame [shape=(n_clips, n_features)]
    labels : pd.DataFrame
        From :func:`va_mood.labels.files.load_labels`, same index as ``features``.
    config : Config
        Model, evaluation protocol and seed.
    on_fold, on_repeat : callable, optional
        Called after each fold with ``(repeat, fold)``, and after each repeat with
        ``(repeat, out_of_fold_predictions)`` (e.g. for plots of predicted against true).

    Returns
    -------
    dict
        ``protocol``, ``n_clips``, ``n_groups``, ``heads``; ``summary`` (mean and std over
        repeats of every scalar figure); ``per_class`` (mean precision/recall/F1 per quadrant);
        ``confusion`` (rows true, columns predicted, summed over repeats); ``repeats`` (each
        repeat's figures).

    Raises
    ------
    ParameterError
        When ``features`` and ``labels`` have different indexes, or too few groups.
    """
    if not features.index.equals(labels.index):
        raise ParameterError("features and labels must have the same index (one row per clip)")
    ev = config.evaluation
    clips = labels[~_augmented(labels)]
    thresholds = tuple(config.thresholds[axis] for axis in AXES)
    repeats = []
    for r in range(ev.n_repeats):
        fold_done = None if on_fold is None else (lambda fold, _, r=r: on_fold(r, fold))
        predicted = out_of_fold(features, labels, config, repeat=r, on_fold=fold_done)
        if on_repeat:
            on_repeat(r, predicted)
        repeats.append(score_predictions(predicted, clips, config.modes, thresholds))
    scalar_keys = [k for k, v in repeats[0].items() if isinstance(v, float | np.floating)]
    summary = {
        k: {
            "mean": float(np.mean([r[k] for r in repeats])),
            "std": float(np.std([r[k] for r in repeats])),
        }
        for k in scalar_keys
    }
    per_class = {
        q: {
            m: float(np.mean([r["per_class"][q][m] for r in repeats]))
            for m in ("precision", "recall", "f1")
        }
        for q in QUADRANTS
    }
    return {
        "protocol": (
            f"{ev.n_repeats}x repeated {ev.n_splits}-fold cross-validation grouped by artist "
            f"(StratifiedGroupKFold on quadrant), seed {config.seed}"
        ),
        "n_clips": len(clips),
        "n_groups": int(clips["group"].nunique()),
        "n_augmented": int(len(labels) - len(clips)),
        "heads": {
            axis: {"mode": config.head(axis).mode, "groups": list(config.head(axis).groups)}
            for axis in AXES
        },
        "summary": summary,
        "per_class": per_class,
        "confusion": np.sum([r["confusion"] for r in repeats], axis=0).tolist(),
        "repeats": [{k: _plain(v) for k, v in r.items()} for r in repeats],
    }


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, np.generic):
        return value.item()
    return value


def format_report(report: dict[str, Any]) -> str:
    """A readable summary of :func:`cross_validate`'s report.

    Parameters
    ----------
    report : dict
        From :func:`cross_validate`.

    Returns
    -------
    str
        Lines of text: the summary figures, per-quadrant figures and the confusion matrix.
    """
    s = report["summary"]
    lines = [
        f"{report['n_clips']} clips, {report['n_groups']} artists; {report['protocol']}",
        "",
        f"{'figure':<28}{'mean':>8}{'std':>8}",
    ]
    for key, value in s.items():
        lines.append(f"{key:<28}{value['mean']:>8.3f}{value['std']:>8.3f}")
    lines += ["", f"{'quadrant':<22}{'precision':>10}{'recall':>8}{'f1':>8}"]
    for q, m in report["per_class"].items():
        name = f"{q} {MOODS[q]}"
        lines.append(f"{name:<22}{m['precision']:>10.3f}{m['recall']:>8.3f}{m['f1']:>8.3f}")
    lines += ["", "confusion (rows true, columns predicted, summed over repeats)"]
    lines.append(" " * 6 + "".join(f"{q:>7}" for q in QUADRANTS))
    for q, row in zip(QUADRANTS, report["confusion"], strict=True):
        lines.append(f"{q:<6}" + "".join(f"{v:>7}" for v in row))
    return "\n".join(lines)
