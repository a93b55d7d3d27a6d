"""MoodModel: an arousal head and a valence head, combined into a quadrant mood.

A scikit-learn meta-estimator: ``__init__`` stores its arguments, ``fit`` learns,
``predict`` returns (valence, arousal) on the [-1, 1] plane. Each head is any scikit-learn
estimator (xgboost by default): a classifier makes it a *binary* head, whose probability ``p``
of the positive side maps to ``2p - 1``; a regressor makes it a *regression* head, whose output
is clipped to [-1, 1].
"""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm
from sklearn.base import BaseEstimator, clone, is_classifier, is_regressor
from sklearn.model_selection import KFold, cross_val_predict
from sklearn.utils.validation import check_is_fitted

from .config import Config, HeadConfig
from .errors import ParameterError
from .features import columns_for
from .quadrant import MOODS, quadrant_of

__all__ = ["MoodModel", "make_estimator", "model_from_config", "AXES"]

AXES = ("valence", "arousal")
"""Order of the two output columns: x then y of the Russell plane."""

SKLEARN_PREFIX = "sklearn."


def make_estimator(head: HeadConfig, *, seed: int) -> BaseEstimator:
    """Build the estimator a head's configuration names, seeded with ``seed``.

    ``"xgboost"`` gives an ``XGBClassifier`` (binary) or ``XGBRegressor`` (regression); a
    dotted scikit-learn class path gives that class, behind a ``StandardScaler`` when
    ``head.scale`` is true.
    """
    params = dict(head.params)
    if head.estimator == "xgboost":
        import xgboost

        cls = xgboost.XGBClassifier if head.mode == "binary" else xgboost.XGBRegressor
        return cls(**{"random_state": seed, "n_jobs": 1, "verbosity": 0, **params})
    if not head.estimator.startswith(SKLEARN_PREFIX):
        raise ParameterError(
            f"estimator must be 'xgboost' or a scikit-learn class path, got {head.estimator!r}"
        )
    module_name, _, class_name = head.estimator.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError):
        raise ParameterError(f"no scikit-learn estimator {head.estimator!r}") from None
    if "random_state" in cls().get_params():
        params.setdefault("random_state", seed)
    if head.mode == "binary" and "probability" in cls().get_params():
        params.setdefault("probability", True)
    try:
        estimator = cls(**params)
    except TypeError as exc:
        raise ParameterError(f"{head.estimator}: {exc}") from None
    want = "classifier" if head.mode == "binary" else "regressor"
    if not (is_classifier(estimator) if want == "classifier" else is_regressor(estimator)):
        raise ParameterError(f"a {head.mode} head needs a {want}, got {head.estimator}")
    if head.scale:
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        estimator = make_pipeline(StandardScaler(), estimator)
    return estimator


def model_from_config(config: Config) -> MoodModel:
    """An unfitted :class:`MoodModel` as ``config`` describes it."""
    return MoodModel(
        arousal=make_estimator(config.arousal, seed=config.seed),
        valence=make_estimator(config.valence, seed=config.seed),
        arousal_columns=columns_for(config.arousal.groups),
        valence_columns=columns_for(config.valence.groups),
        thresholds=(config.thresholds["valence"], config.thresholds["arousal"]),
        valence_by_arousal=config.valence.by_arousal,
        weight_floors=(config.valence.weight_floor, config.arousal.weight_floor),
        random_state=config.seed,
    )


def _fit(estimator: Any, X: np.ndarray, y: np.ndarray, weight: np.ndarray | None) -> Any:  # noqa: N803
    """Fit with sample weights when given, routed to a pipeline's last step."""
    if weight is None:
        return estimator.fit(X, y)
    if hasattr(estimator, "steps"):
        return estimator.fit(X, y, **{f"{estimator.steps[-1][0]}__sample_weight": weight})
    return estimator.fit(X, y, sample_weight=weight)


class MoodModel(BaseEstimator):
    """Two heads, one per axis of the valence-arousal plane.

    Parameters
    ----------
    arousal, valence : estimator
        Classifier (binary head) or regressor (regression head); cloned on ``fit``.
    arousal_columns, valence_columns : list of str or None
        Feature columns each head reads; ``None`` reads every column of ``X``.
    thresholds : (float, float)
        The (valence, arousal) boundaries on [-1, 1] that split the plane into quadrants.
    valence_by_arousal : bool
        Also fit the valence head separately on high- and low-arousal clips, and predict
        valence as the mixture of the two weighted by the arousal head's probability of
        high arousal: what makes music sound negative differs between energetic music
        (aggressive against uplifting) and quiet music (melancholic against calm). The
        head fitted on all clips (``valence_``) stands in for a side whose clips are all of
        one valence.
    weight_floors : (float or None, float or None)
        For the (valence, arousal) binary heads: weigh each training clip by the size of its
        target (its label's distance from the neutral 0, see :func:`va_mood.labels.targets`)
        plus this floor, so clear examples count more than borderline ones, whose side is the
        least certain. ``None`` weighs every clip equally.
    random_state : int
        Seeds the internal folds that estimate a regression head's error.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> model = MoodModel(arousal=LogisticRegression(), valence=LogisticRegression())
    >>> model.set_params(arousal__C=0.5).arousal.C
    0.5
    """

    def __init__(
        self,
        arousal: Any = None,
        valence: Any = None,
        arousal_columns: list[str] | None = None,
        valence_columns: list[str] | None = None,
        thresholds: tuple[float, float] = (0.0, 0.0),
        valence_by_arousal: bool = False,
        weight_floors: tuple[float | None, float | None] = (None, None),
        random_state: int = 0,
    ) -> None:
        self.arousal = arousal
        self.valence = valence
        self.arousal_columns = arousal_columns
        self.valence_columns = valence_columns
        self.thresholds = thresholds
        self.valence_by_arousal = valence_by_arousal
        self.weight_floors = weight_floors
        self.random_state = random_state

    # -- fitting --------------------------------------------------------------------------------

    def fit(self, X: pd.DataFrame, y: np.ndarray) -> MoodModel:  # noqa: N803
        """Fit both heads.

        Parameters
        ----------
        X : pd.DataFrame [shape=(n_clips, n_features)]
            Named feature columns.
        y : np.ndarray [shape=(n_clips, 2)]
            (valence, arousal) targets on [-1, 1]; a binary head learns which side of its
            threshold each value lies on.
        """
        X = self._check_frame(X)  # noqa: N806
        y = np.asarray(y, dtype=float)
        if y.shape != (len(X), 2):
            raise ParameterError(f"y must have shape ({len(X)}, 2), got {y.shape}")
        if not np.all(np.isfinite(y)):
            raise ParameterError("y holds non-finite values")
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self.n_features_in_ = X.shape[1]
        self.thresholds_ = tuple(float(t) for t in self.thresholds)
        self.sigma_ = {}
        for k, axis in enumerate(AXES):
            columns = self._columns(axis, X)
            estimator = clone(self._estimator(axis))
            target = y[:, k]
            weight = self._weights(k, target, estimator)
            if is_classifier(estimator):
                target = (target > self.thresholds_[k]).astype(int)
                if len(np.unique(target)) < 2:
                    raise ParameterError(
                        f"the {axis} head needs examples on both sides of the axis"
                    )
            else:
                self.sigma_[axis] = self._residual_scale(estimator, X[columns], target)
            _fit(estimator, X[columns].to_numpy(), target, weight)
            setattr(self, f"{axis}_", estimator)
        self.valence_sides_ = {}
        if self.valence_by_arousal:
            high = y[:, 1] > self.thresholds_[1]
            values = X[self._columns("valence", X)].to_numpy()
            target = y[:, 0]
            weight = self._weights(0, target, self.valence_)
            if is_classifier(self.valence_):
                target = (target > self.thresholds_[0]).astype(int)
            for side, rows in (("high", high), ("low", ~high)):
                if len(np.unique(target[rows])) < 2:  # too little to learn: the pooled head
                    self.valence_sides_[side] = self.valence_
                    continue
                part = clone(self._estimator("valence"))
                _fit(part, values[rows], target[rows], None if weight is None else weight[rows])
                self.valence_sides_[side] = part
        return self

    def _weights(self, k: int, target: np.ndarray, estimator: Any) -> np.ndarray | None:
        """Sample weights of a binary head: the target's size plus the floor (or None)."""
        floor = self.weight_floors[k]
        if floor is None or not is_classifier(estimator):
            return None
        return np.abs(target) + floor

    def _residual_scale(self, estimator: Any, X: pd.DataFrame, target: np.ndarray) -> float:  # noqa: N803
        """Out-of-fold RMSE of a regression head: the scale of its confidence."""
        n_splits = min(3, len(target))
        if n_splits < 2:
            return 1.0
        folds = KFold(n_splits, shuffle=True, random_state=self.random_state)
        pred = cross_val_predict(clone(estimator), X.to_numpy(), target, cv=folds)
        return float(max(np.sqrt(np.mean((pred - target) ** 2)), 1e-3))

    # -- predicting -----------------------------------------------------------------------------

    def predict(self, X: pd.DataFrame) -> np.ndarray:  # noqa: N803
        """(valence, arousal) on [-1, 1] [shape=(n_clips, 2)]."""
        return self._predict_with_confidence(X)[0]

    def _predict_with_confidence(self, X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:  # noqa: N803
        check_is_fitted(self, "thresholds_")
        X = self._check_frame(X)  # noqa: N806
        pairs = [self._predict_axis(k, axis, X) for k, axis in enumerate(AXES)]
        return np.column_stack([v for v, _ in pairs]), np.column_stack([c for _, c in pairs])

    def _predict_axis(
        self,
        k: int,
        axis: str,
        X: pd.DataFrame,  # noqa: N803
    ) -> tuple[np.ndarray, np.ndarray]:
        """One axis' values on [-1, 1] and the confidence in the side each lies on.

        A binary head's probability ``p`` maps linearly onto each side of the threshold
        ``t``: [0, 0.5] onto [-1, t] and [0.5, 1] onto [t, 1] (so ``2p - 1`` when t = 0);
        its confidence is ``max(p, 1 - p)``. A regression head's value is clipped to [-1, 1]
        and its confidence is a normal model of its out-of-fold error.
        """
        estimator = getattr(self, f"{axis}_")
        values = X[self._columns(axis, X)].to_numpy()
        t = self.thresholds_[k]
        sides = getattr(self, "valence_sides_", {}) if axis == "valence" else {}
        if sides:
            p_high = self._probability_high_arousal(X)
            raw = p_high * self._raw(sides["high"], values) + (1 - p_high) * self._raw(
                sides["low"], values
            )
        else:
            raw = self._raw(estimator, values)
        if is_classifier(estimator):
            p = raw
            value = np.where(p >= 0.5, t + (2 * p - 1) * (1 - t), t + (2 * p - 1) * (1 + t))
            return value, np.maximum(p, 1 - p)
        value = np.clip(raw, -1.0, 1.0)
        return value, norm.cdf(np.abs(value - t) / self.sigma_[axis])

    @staticmethod
    def _raw(estimator: Any, values: np.ndarray) -> np.ndarray:
        """A classifier's probability of the positive side, or a regressor's value."""
        if is_classifier(estimator):
            return estimator.predict_proba(values)[:, 1]
        return estimator.predict(values)

    def _probability_high_arousal(self, X: pd.DataFrame) -> np.ndarray:  # noqa: N803
        """The arousal head's probability that each clip is on the high side."""
        value, confidence = self._predict_axis(1, "arousal", X)
        return np.where(value > self.thresholds_[1], confidence, 1 - confidence)

    def predict_quadrant(self, X: pd.DataFrame) -> np.ndarray:  # noqa: N803
        """Quadrant labels ``Q1``..``Q4`` [shape=(n_clips,)]."""
        va = self.predict(X)
        return quadrant_of(va[:, 0], va[:, 1], thresholds=self.thresholds_)

    def predict_table(self, X: pd.DataFrame) -> pd.DataFrame:  # noqa: N803
        """Everything a user reads about each clip, one row per row of ``X``.

        Columns: ``valence``, ``arousal`` (on [-1, 1]), ``quadrant``, ``mood``, and
        ``valence_confidence``, ``arousal_confidence``: the head's probability that the clip
        is on the side of the axis it was put on (0.5 = a coin toss, 1 = certain). For a
        binary head that is its predicted probability; for a regression head, a normal
        model of its out-of-fold error during training.
        """
        va, confidence = self._predict_with_confidence(X)
        quadrant = quadrant_of(va[:, 0], va[:, 1], thresholds=self.thresholds_)
        table = pd.DataFrame(
            {"valence": va[:, 0], "arousal": va[:, 1], "quadrant": quadrant}, index=X.index
        )
        table["mood"] = table["quadrant"].map(MOODS)
        for k, axis in enumerate(AXES):
            table[f"{axis}_confidence"] = confidence[:, k]
        return table

    def head_modes(self) -> dict[str, str]:
        """``{"valence": "binary" | "regression", "arousal": ...}`` of the configured heads."""
        return {
            axis: "binary" if is_classifier(self._estimator(axis)) else "regression"
            for axis in AXES
        }

    # -- helpers --------------------------------------------------------------------------------

    def _estimator(self, axis: str) -> Any:
        estimator = getattr(self, axis)
        if estimator is None:
            raise ParameterError(f"MoodModel needs an estimator for the {axis} head")
        return estimator

    def _columns(self, axis: str, X: pd.DataFrame) -> list[str]:  # noqa: N803
        columns = getattr(self, f"{axis}_columns")
        if columns is None:
            return list(X.columns)
        missing = [c for c in columns if c not in X.columns]
        if missing:
            raise ParameterError(
                f"the {axis} head needs {len(missing)} feature column(s) missing from the table "
                f"(first: {missing[0]!r}); extract the features with the model's configuration"
            )
        return list(columns)

    @staticmethod
    def _check_frame(X: Any) -> pd.DataFrame:  # noqa: N803
        if not isinstance(X, pd.DataFrame):
            raise ParameterError(f"X must be a pandas DataFrame of named features, got {type(X)}")
        if not np.all(np.isfinite(X.select_dtypes("number").to_numpy())):
            raise ParameterError("X holds non-finite feature values")
        return X
