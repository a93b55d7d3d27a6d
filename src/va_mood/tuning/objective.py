"""The objective of one head's study: the real model's figure under the evaluation protocol.

A trial's head configuration (:func:`va_mood.tuning.space.suggest_head`) replaces the
configured head; the :class:`~va_mood.model.estimator.MoodModel` it makes is scored by the
out-of-fold code of :mod:`va_mood.evaluation.cross_validation` (quadrant-stratified k-fold CV
grouped by artist), fitting that head alone (with the arousal head too, for a valence head
split by arousal). The figure is **balanced accuracy** of the side of the axis for a binary
head (what the quadrant decision uses, and robust to the classes' imbalance) and **R²** for a
regression head, both maximised, exactly as
:func:`va_mood.evaluation.cross_validation.score_axis` computes them for ``evaluate``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..config import CalibrationConfig, Config, HeadConfig
from ..errors import ParameterError
from ..evaluation.cross_validation import grouped_folds, out_of_fold, score_axis
from ..vocabulary import BINARY, REGRESSION
from .space import SearchSpace, head_to_dict, suggest_head

if TYPE_CHECKING:
    import optuna

__all__ = ["METRICS", "make_objective"]

METRICS = {BINARY: "balanced_accuracy", REGRESSION: "r2"}
"""The objective (maximised) of each head mode."""


def make_objective(
    X: pd.DataFrame,  # noqa: N803
    labels: pd.DataFrame,
    config: Config,
    head: str,
    space: SearchSpace,
    *,
    seed: int,
    checkpoint: Callable[[], None] = lambda: None,
) -> Callable[[optuna.Trial], float]:
    """The objective of one head's study: its grouped-CV figure on its own axis (maximise).

    Parameters
    ----------
    X : pd.DataFrame [shape=(n_clips, n_features)]
        Named features (extracted once, before the study), same index as ``labels``.
    labels : pd.DataFrame
        From :func:`va_mood.labels.files.load_labels`.
    config : Config
        The starting configuration: the other head, thresholds, evaluation folds.
    head : {"valence", "arousal"}
        The head tuned; only its axis is fitted and scored.
    space : SearchSpace
    seed : int
        Seeds the CV splits (``seed + repeat``) and the estimators, as ``config.seed`` does.
    checkpoint : callable, optional
        Called after each fold, where a trial may stop safely (raising, as ``Interrupts``).

    Returns
    -------
    callable
        ``objective(trial) -> float``: the pooled out-of-fold figure, averaged over repeats.
        Each fold reports the running mean (step: fold over all repeats) and may prune.

    Raises
    ------
    ParameterError
        Before any trial: no section for ``head``, indexes that differ, too few groups.

    Examples
    --------
    >>> objective = make_objective(X, labels, config, "arousal", space, seed=0)  # doctest: +SKIP
    >>> objective(optuna.trial.FixedTrial({"family": "xgboost"}))  # doctest: +SKIP
    """
    import optuna

    base = config.head(head)
    config = replace(config, seed=seed)
    _check_inputs(X, labels, config, head, space)
    n_repeats = space.n_repeats or config.evaluation.n_repeats
    threshold = config.thresholds[head]

    def score(predicted: pd.DataFrame) -> float:
        return _score(predicted, labels, head, base.mode, threshold)

    def objective(trial: optuna.Trial) -> float:
        head_config = suggest_head(trial, base, space.heads[head])
        trial.set_user_attr("head", head_to_dict(head_config))
        trial_config = _trial_config(config, head, head_config)
        fold_scores: list[float] = []

        def on_fold(fold: int, predicted: pd.DataFrame) -> None:
            checkpoint()  # a signal stops the trial here, between folds
            fold_scores.append(score(predicted))
            trial.report(float(np.mean(fold_scores)), step=len(fold_scores) - 1)
            if trial.should_prune():
                raise optuna.TrialPruned(f"pruned after fold {len(fold_scores)}")

        repeat_scores = []
        for r in range(n_repeats):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FutureWarning)
                predicted = out_of_fold(
                    X, labels, trial_config, repeat=r, axes=(head,), on_fold=on_fold
                )
            repeat_scores.append(score(predicted))
        return float(np.mean(repeat_scores))

    return objective


def _score(
    predicted: pd.DataFrame, labels: pd.DataFrame, head: str, mode: str, threshold: float
) -> float:
    """The study's figure (:data:`METRICS`) of one head's out-of-fold predictions."""
    values = predicted[head].to_numpy()
    scores = score_axis(values, labels.loc[predicted.index], head, mode, threshold)
    return float(scores[f"{head}_{METRICS[mode]}"])


def _check_inputs(
    X: pd.DataFrame,  # noqa: N803
    labels: pd.DataFrame,
    config: Config,
    head: str,
    space: SearchSpace,
) -> None:
    """Refuse what no trial could run on, before the first trial."""
    if head not in space.heads:
        raise ParameterError(f"the search space has no [{head}] section")
    if not X.index.equals(labels.index):
        raise ParameterError("features and labels must have the same index (one row per clip)")
    grouped_folds(labels, config)  # too few groups


def _trial_config(config: Config, head: str, head_config: HeadConfig) -> Config:
    """``config`` with a trial's head. The side, which a trial is scored on, does not depend
    on the calibration (coordinates stay on the side their head chose), so trials skip its
    inner folds."""
    return replace(config.with_head(head, head_config), calibration=CalibrationConfig(folds=0))
