"""MoodModel: an arousal head and a valence head, combined into a quadrant mood.

A scikit-learn meta-estimator: ``__init__`` stores its arguments, ``fit`` learns,
``predict`` returns (valence, arousal) on the [-1, 1] plane; :meth:`MoodModel.from_fitted`
rebuilds a fitted model from stored parts (see :mod:`va_mood.model.bundle`). Each head is any
scikit-learn estimator (xgboost by default): a classifier makes it a *binary* head (its score is
its probability ``p`` of the positive side), a regressor a *regression* head (its score is its
value). With ``calibration_folds`` each score is mapped to a coordinate on the labels' scale and
to a calibrated confidence (:mod:`va_mood.model.calibration`); without, ``2p - 1`` or the clipped
value.
"""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone, is_classifier, is_regressor
from sklearn.model_selection import KFold, StratifiedGroupKFold, cross_val_predict
from sklearn.utils.validation import check_is_fitted

from ..config import Config, HeadConfig
from ..errors import ParameterError
from ..features.registry import columns_for
from ..vocabulary import AXES, BINARY, REGRESSION, SIDES
from .calibration import ConfidenceMap, CoordinateMap
from .heads import FittedHeads, check_frame, head_columns

__all__ = ["MoodModel", "make_estimator", "model_from_config", "fit_estimator"]

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

        cls = xgboost.XGBClassifier if head.mode == BINARY else xgboost.XGBRegressor
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
    if head.mode == BINARY and "probability" in cls().get_params():
        params.setdefault("probability", True)
    try:
        estimator = cls(**params)
    except TypeError as exc:
        raise ParameterError(f"{head.estimator}: {exc}") from None
    want = "classifier" if head.mode == BINARY else "regressor"
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
        valence=make_estimator(config.valence, seed=config.seed),
        arousal=make_estimator(config.arousal, seed=config.seed),
        valence_columns=columns_for(config.valence.groups),
        arousal_columns=columns_for(config.arousal.groups),
        thresholds=(config.thresholds["valence"], config.thresholds["arousal"]),
        valence_by_arousal=config.valence.by_arousal,
        weight_floors=(config.valence.weight_floor, config.arousal.weight_floor),
        random_state=config.seed,
        calibration_folds=config.calibration.folds,
    )


def fit_estimator(estimator: Any, X: np.ndarray, y: np.ndarray, weight: np.ndarray | None) -> Any:  # noqa: N803
    """Fit ``estimator`` with sample weights when given, routed to a pipeline's last step."""
    if weight is None:
        return estimator.fit(X, y)
    if hasattr(estimator, "steps"):
        return estimator.fit(X, y, **{f"{estimator.steps[-1][0]}__sample_weight": weight})
    return estimator.fit(X, y, sample_weight=weight)


class MoodModel(BaseEstimator):
    """Two heads, one per axis of the valence-arousal plane.

    Parameters
    ----------
    valence, arousal : estimator
        Classifier (binary head) or regressor (regression head); cloned on ``fit``.
    valence_columns, arousal_columns : list of str or None
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
        target (its label's distance from the neutral 0, see :func:`va_mood.labels.files.targets`)
        plus this floor, so clear examples count more than borderline ones, whose side is the
        least certain. ``None`` weighs every clip equally.
    random_state : int
        Seeds the internal folds (a regression head's error, the calibration's folds).
    calibration_folds : int
        Learn each head's coordinate and confidence maps (:mod:`va_mood.model.calibration`) from
        out-of-fold scores of this many inner folds (grouped, when ``fit`` is given groups),
        so that a coordinate estimates the label and a confidence is a calibrated
        probability. ``0`` keeps the heads' own scale: a binary head's ``2p - 1`` and
        ``max(p, 1 - p)``, a regression head's clipped value and a normal model of its error.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> model = MoodModel(valence=LogisticRegression(), arousal=LogisticRegression())
    >>> model.set_params(arousal__C=0.5).arousal.C
    0.5
    """

    def __init__(
        self,
        valence: Any = None,
        arousal: Any = None,
        valence_columns: list[str] | None = None,
        arousal_columns: list[str] | None = None,
        thresholds: tuple[float, float] = (0.0, 0.0),
        valence_by_arousal: bool = False,
        weight_floors: tuple[float | None, float | None] = (None, None),
        random_state: int = 0,
        calibration_folds: int = 0,
    ) -> None:
        self.valence = valence
        self.arousal = arousal
        self.valence_columns = valence_columns
        self.arousal_columns = arousal_columns
        self.thresholds = thresholds
        self.valence_by_arousal = valence_by_arousal
        self.weight_floors = weight_floors
        self.random_state = random_state
        self.calibration_folds = calibration_folds

    @classmethod
    def from_fitted(
        cls,
        heads: dict[str, Any],
        columns: dict[str, list[str]],
        *,
        thresholds: tuple[float, float] = (0.0, 0.0),
        valence_sides: dict[str, Any] | None = None,
        sigma: dict[str, float] | None = None,
        coordinates: dict[str, CoordinateMap] | None = None,
        confidence: dict[str, ConfidenceMap] | None = None,
        random_state: int = 0,
    ) -> MoodModel:
        """A fitted model from its stored parts: each axis' fitted estimator and columns, the
        valence head's per-arousal-side estimators (if it was split), the regression heads'
        out-of-fold error (``sigma``) and each head's calibration maps (if it has them)."""
        model = cls(
            **heads,
            **{f"{axis}_columns": list(columns[axis]) for axis in AXES},
            thresholds=tuple(thresholds),
            valence_by_arousal=bool(valence_sides),
            random_state=random_state,
        )
        for axis in AXES:
            setattr(model, f"{axis}_", heads[axis])
        model.valence_sides_ = dict(valence_sides or {})
        model.thresholds_ = tuple(float(t) for t in thresholds)
        model.sigma_ = {axis: float(s) for axis, s in (sigma or {}).items()}
        model.coordinates_ = dict(coordinates or {})
        model.confidence_ = dict(confidence or {})
        names = list(dict.fromkeys(columns["arousal"] + columns["valence"]))
        model.feature_names_in_ = np.asarray(names, dtype=object)
        model.n_features_in_ = len(names)
        return model

    # -- fitting --------------------------------------------------------------------------------

    def fit(
        self,
        X: pd.DataFrame,  # noqa: N803
        y: np.ndarray,
        *,
        axes: tuple[str, ...] = AXES,
        groups: np.ndarray | None = None,
    ) -> MoodModel:
        """Fit the heads.

        Parameters
        ----------
        X : pd.DataFrame [shape=(n_clips, n_features)]
            Named feature columns.
        y : np.ndarray [shape=(n_clips, 2)]
            (valence, arousal) targets on [-1, 1]; a binary head learns which side of its
            threshold each value lies on.
        axes : tuple of str
            The heads to fit (both by default; one, to score a single head as tuning does).
            A valence head split by arousal also needs the arousal head, which is then fitted
            too.
        groups : np.ndarray [shape=(n_clips,)], optional
            The group (artist) of each clip: the calibration's inner folds keep a group on
            one side.
        """
        X = check_frame(X)  # noqa: N806
        y = np.asarray(y, dtype=float)
        if y.shape != (len(X), 2):
            raise ParameterError(f"y must have shape ({len(X)}, 2), got {y.shape}")
        if not np.all(np.isfinite(y)):
            raise ParameterError("y holds non-finite values")
        unknown = [a for a in axes if a not in AXES]
        if unknown or not axes:
            raise ParameterError(f"axes must be among {AXES}, got {axes}")
        if "valence" in axes and self.valence_by_arousal:
            axes = AXES
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self.n_features_in_ = X.shape[1]
        self.thresholds_ = tuple(float(t) for t in self.thresholds)
        self.sigma_ = {}
        self.valence_sides_ = {}
        for axis in AXES:
            if axis in axes:
                setattr(self, f"{axis}_", self._fit_head(axis, X, y))
        if self.valence_by_arousal and "valence" in axes:
            self.valence_sides_ = self._fit_valence_sides(X, y)
        self.coordinates_, self.confidence_ = {}, {}
        if self.calibration_folds:
            self._calibrate(X, y, tuple(a for a in AXES if a in axes), groups)
        return self

    def _calibrate(
        self,
        X: pd.DataFrame,  # noqa: N803
        y: np.ndarray,
        axes: tuple[str, ...],
        groups: np.ndarray | None,
    ) -> None:
        """Each head's coordinate and confidence maps, from its inner out-of-fold scores."""
        scores = self._inner_scores(X, y, axes, groups)
        for axis in axes:
            k = AXES.index(axis)
            binary = is_classifier(getattr(self, f"{axis}_"))
            target, t = y[:, k], self.thresholds_[k]
            continuous = not np.allclose(np.abs(target), 1.0)  # labels with values, not ±1
            self.coordinates_[axis] = CoordinateMap.fit(
                scores[axis], target, decision=0.5 if binary else t, threshold=t,
                stretch=continuous,
            )  # fmt: skip
            self.confidence_[axis] = ConfidenceMap.fit(scores[axis], target > t, binary=binary)

    def _inner_scores(
        self,
        X: pd.DataFrame,  # noqa: N803
        y: np.ndarray,
        axes: tuple[str, ...],
        groups: np.ndarray | None,
    ) -> dict[str, np.ndarray]:
        """Each head's raw score for every clip from a model fitted without its inner fold
        (stratified by quadrant, grouped when ``groups`` are given)."""
        strata = 2 * (y[:, 0] > self.thresholds_[0]) + (y[:, 1] > self.thresholds_[1])
        n_groups = len(np.unique(groups)) if groups is not None else len(y)
        folds = min(self.calibration_folds, n_groups, np.bincount(strata).max())
        if folds < 2:
            raise ParameterError("calibration needs at least two inner folds of clips")
        split = StratifiedGroupKFold(folds, shuffle=True, random_state=self.random_state).split(
            X, strata, groups if groups is not None else np.arange(len(y))
        )
        inner = clone(self).set_params(calibration_folds=0)
        scores = {axis: np.empty(len(y)) for axis in axes}
        for train, test in split:
            model = clone(inner).fit(X.iloc[train], y[train], axes=axes)
            for axis in axes:
                scores[axis][test] = model.fitted_heads().raw_axis(axis, X.iloc[test])
        return scores

    def _fit_head(self, axis: str, X: pd.DataFrame, y: np.ndarray) -> Any:  # noqa: N803
        """One head fitted on all clips (a regression head's error recorded in ``sigma_``)."""
        estimator = clone(self._estimator(axis))
        values = X[head_columns(getattr(self, f"{axis}_columns"), axis, X)]
        target, weight = self._target(axis, y, estimator)
        if is_classifier(estimator) and len(np.unique(target)) < 2:
            raise ParameterError(f"the {axis} head needs examples on both sides of the axis")
        if not is_classifier(estimator):
            self.sigma_[axis] = self._residual_scale(estimator, values, target)
        return fit_estimator(estimator, values.to_numpy(), target, weight)

    def _fit_valence_sides(self, X: pd.DataFrame, y: np.ndarray) -> dict[str, Any]:  # noqa: N803
        """The valence head fitted on each side of the arousal threshold (the pooled head
        where a side has too little to learn from)."""
        high = y[:, AXES.index("arousal")] > self.thresholds_[AXES.index("arousal")]
        values = X[head_columns(self.valence_columns, "valence", X)].to_numpy()
        target, weight = self._target("valence", y, self.valence_)
        sides = {}
        for side, rows in zip(SIDES, (high, ~high), strict=True):
            if len(np.unique(target[rows])) < 2:
                sides[side] = self.valence_
                continue
            part = clone(self._estimator("valence"))
            rows_weight = None if weight is None else weight[rows]
            sides[side] = fit_estimator(part, values[rows], target[rows], rows_weight)
        return sides

    def _target(
        self, axis: str, y: np.ndarray, estimator: Any
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """A head's training target (the side, for a classifier) and sample weights: the
        label's size plus the head's weight floor, for a binary head that has one."""
        k = AXES.index(axis)
        target = y[:, k]
        if not is_classifier(estimator):
            return target, None
        floor = self.weight_floors[k]
        weight = None if floor is None else np.abs(target) + floor
        return (target > self.thresholds_[k]).astype(int), weight

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
        return np.column_stack([self.predict_axis(axis, X)[0] for axis in AXES])

    def fitted_heads(self) -> FittedHeads:
        """The fitted heads and maps, as prediction uses them (:class:`FittedHeads`)."""
        check_is_fitted(self, "thresholds_")
        return FittedHeads(
            estimators={axis: getattr(self, f"{axis}_", None) for axis in AXES},
            modes=self.head_modes(),
            columns={axis: getattr(self, f"{axis}_columns") for axis in AXES},
            thresholds=self.thresholds_,
            valence_sides=getattr(self, "valence_sides_", {}),
            sigma=self.sigma_,
            coordinates=getattr(self, "coordinates_", {}),
            confidence=getattr(self, "confidence_", {}),
        )

    def predict_axis(self, axis: str, X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:  # noqa: N803
        """One axis' values on [-1, 1] and the confidence in the side each lies on
        (:meth:`FittedHeads.predict_axis`)."""
        return self.fitted_heads().predict_axis(axis, X)

    def predict_table(self, X: pd.DataFrame, *, axes: tuple[str, ...] = AXES) -> pd.DataFrame:  # noqa: N803
        """Everything a user reads about each clip (:meth:`FittedHeads.predict_table`): valence,
        arousal, quadrant, mood and each head's confidence in its side (0.5 = a coin toss, 1 =
        certain; for a regression head, a normal model of its out-of-fold error)."""
        return self.fitted_heads().predict_table(X, axes=axes)

    def head_modes(self) -> dict[str, str]:
        """``{"valence": "binary" | "regression", "arousal": ...}`` of the configured heads."""
        return {
            axis: BINARY if is_classifier(self._estimator(axis)) else REGRESSION for axis in AXES
        }

    # -- helpers --------------------------------------------------------------------------------

    def _estimator(self, axis: str) -> Any:
        estimator = getattr(self, axis)
        if estimator is None:
            raise ParameterError(f"MoodModel needs an estimator for the {axis} head")
        return estimator
