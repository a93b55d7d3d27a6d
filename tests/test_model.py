"""MoodModel: a scikit-learn meta-estimator with an arousal head and a valence head."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xgboost
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from va_mood.config import HeadConfig
from va_mood.errors import ParameterError
from va_mood.model.estimator import MoodModel, make_estimator
from va_mood.quadrant import MOODS, quadrant_of

A_COLS = [f"a{i}" for i in range(4)]
V_COLS = [f"v{i}" for i in range(4)]


@pytest.fixture(scope="module")
def data() -> tuple[pd.DataFrame, np.ndarray]:
    """Separable features: a0 carries arousal, v0 carries valence; the rest is noise."""
    rng = np.random.default_rng(0)
    n = 120
    X = pd.DataFrame(rng.normal(size=(n, 8)), columns=A_COLS + V_COLS)  # noqa: N806
    valence = np.tanh(X["v0"].to_numpy())
    arousal = np.tanh(X["a0"].to_numpy())
    return X, np.column_stack([valence, arousal])


def _binary_model(**kwargs) -> MoodModel:
    return MoodModel(
        arousal=LogisticRegression(),
        valence=LogisticRegression(),
        arousal_columns=A_COLS,
        valence_columns=V_COLS,
        **kwargs,
    )


def _regression_model() -> MoodModel:
    return MoodModel(
        arousal=Ridge(alpha=1.0),
        valence=Ridge(alpha=1.0),
        arousal_columns=A_COLS,
        valence_columns=V_COLS,
    )


def _xgb_model() -> MoodModel:
    return MoodModel(
        arousal=make_estimator(HeadConfig(groups=("x",), params={"n_estimators": 20}), seed=0),
        valence=make_estimator(
            HeadConfig(groups=("x",), mode="regression", params={"n_estimators": 20}), seed=0
        ),
        arousal_columns=A_COLS,
        valence_columns=V_COLS,
    )


MODELS = {"binary": _binary_model, "regression": _regression_model, "xgboost": _xgb_model}


def _check_table(table: pd.DataFrame, thresholds=(0.0, 0.0)) -> None:
    assert list(table.columns) == [
        "valence",
        "arousal",
        "quadrant",
        "mood",
        "valence_confidence",
        "arousal_confidence",
    ]
    assert table[["valence", "arousal"]].abs().max().max() <= 1.0
    expected = quadrant_of(table["valence"], table["arousal"], thresholds=thresholds)
    assert table["quadrant"].tolist() == expected.tolist()
    assert table["mood"].tolist() == [MOODS[q] for q in table["quadrant"]]
    for axis in ("valence", "arousal"):
        confidence = table[f"{axis}_confidence"]
        assert confidence.between(0.5, 1.0).all()


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_fit_predict(data, kind):
    X, y = data  # noqa: N806
    model = MODELS[kind]()
    assert model.fit(X, y) is model
    va = model.predict(X)
    assert va.shape == (len(X), 2)
    assert np.abs(va).max() <= 1.0
    table = model.predict_table(X)
    assert table.index.equals(X.index)
    _check_table(table)
    # the signal is in a0 and v0: the training quadrants are mostly right
    truth = quadrant_of(y[:, 0], y[:, 1])
    assert (model.predict_table(X)["quadrant"].to_numpy() == truth).mean() > 0.85


def test_binary_head_maps_probability(data):
    X, y = data  # noqa: N806
    model = _binary_model().fit(X, y)
    p = model.arousal_.predict_proba(X[A_COLS].to_numpy())[:, 1]
    np.testing.assert_allclose(model.predict(X)[:, 1], 2 * p - 1)
    table = model.predict_table(X)
    np.testing.assert_allclose(table["arousal_confidence"], np.maximum(p, 1 - p))
    assert model.sigma_ == {}
    assert model.head_modes() == {"valence": "binary", "arousal": "binary"}


def test_regression_head_is_clipped_and_has_sigma(data):
    X, y = data  # noqa: N806
    model = MoodModel(arousal=LinearRegression(), valence=LinearRegression()).fit(X * 10, y)
    assert np.abs(model.predict(X * 10)).max() == 1.0
    assert set(model.sigma_) == {"valence", "arousal"}
    assert all(s > 0 for s in model.sigma_.values())
    assert model.head_modes() == {"valence": "regression", "arousal": "regression"}


def test_thresholds_move_the_quadrants(data):
    X, y = data  # noqa: N806
    model = _binary_model(thresholds=(0.3, -0.2)).fit(X, y)
    assert model.thresholds_ == (0.3, -0.2)
    table = model.predict_table(X)
    _check_table(table, thresholds=(0.3, -0.2))


def test_columns_none_reads_everything(data):
    X, y = data  # noqa: N806
    model = MoodModel(arousal=LogisticRegression(), valence=LogisticRegression()).fit(X, y)
    assert model.arousal_.n_features_in_ == 8
    assert list(model.feature_names_in_) == A_COLS + V_COLS


def test_heads_read_only_their_columns(data):
    X, y = data  # noqa: N806
    model = _binary_model().fit(X, y)
    assert model.arousal_.n_features_in_ == len(A_COLS)
    # changing the valence columns does not move the arousal output
    shuffled = X.copy()
    shuffled[V_COLS] = 0.0
    np.testing.assert_array_equal(model.predict(shuffled)[:, 1], model.predict(X)[:, 1])


def test_clone_and_set_params():
    model = _binary_model()
    model.set_params(arousal__C=0.25, thresholds=(0.1, 0.1))
    assert model.arousal.C == 0.25
    assert model.valence.C == 1.0
    params = model.get_params(deep=True)
    assert params["arousal__C"] == 0.25
    copy = clone(model)
    assert copy is not model
    assert copy.arousal is not model.arousal
    assert copy.arousal.C == 0.25
    assert copy.thresholds == (0.1, 0.1)


def test_fit_does_not_modify_the_given_estimators(data):
    X, y = data  # noqa: N806
    model = _binary_model().fit(X, y)
    assert not hasattr(model.arousal, "coef_")
    assert model.arousal_ is not model.arousal


def test_predict_before_fit():
    with pytest.raises(NotFittedError):
        _binary_model().predict(pd.DataFrame({"a0": [0.0]}))


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (lambda X, y: (X.to_numpy(), y), "X must be a pandas DataFrame"),
        (lambda X, y: (X, y[:, :1]), r"y must have shape \(120, 2\)"),
        (lambda X, y: (X, np.where(np.arange(120)[:, None] == 3, np.nan, y)), "non-finite"),
        (lambda X, y: (X.assign(a1=np.inf), y), "X holds non-finite feature values"),
        (lambda X, y: (X, np.abs(y)), "the valence head needs examples on both sides"),
        (lambda X, y: (X.drop(columns=["v2"]), y), "the valence head needs 1 feature column"),
    ],
    ids=["not-frame", "bad-y-shape", "nan-y", "inf-X", "one-sided", "missing-column"],
)
def test_fit_refuses(data, mutate, match):
    X, y = mutate(*data)  # noqa: N806
    with pytest.raises(ParameterError, match=match):
        _binary_model().fit(X, y)


def test_predict_missing_columns(data):
    X, y = data  # noqa: N806
    model = _binary_model().fit(X, y)
    with pytest.raises(ParameterError, match=r"missing from the table \(first: 'a3'\)"):
        model.predict(X.drop(columns=["a3"]))


def test_missing_head():
    with pytest.raises(ParameterError, match="needs an estimator for the valence head"):
        MoodModel(arousal=LogisticRegression()).fit(
            pd.DataFrame({"x": [0.0, 1.0]}), np.array([[1, 1], [-1, -1]])
        )


# ---- make_estimator ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "cls"),
    [("binary", xgboost.XGBClassifier), ("regression", xgboost.XGBRegressor)],
)
def test_make_estimator_xgboost(mode, cls):
    head = HeadConfig(groups=("x",), mode=mode, params={"n_estimators": 20, "max_depth": 2})
    estimator = make_estimator(head, seed=11)
    assert type(estimator) is cls
    params = estimator.get_params()
    assert params["n_estimators"] == 20
    assert params["max_depth"] == 2
    assert params["random_state"] == 11
    assert params["n_jobs"] == 1


def test_make_estimator_params_override_seed():
    head = HeadConfig(groups=("x",), params={"random_state": 3})
    assert make_estimator(head, seed=11).get_params()["random_state"] == 3


def test_make_estimator_sklearn_svc_scaled():
    head = HeadConfig(groups=("x",), estimator="sklearn.svm.SVC", params={"C": 2.0}, scale=True)
    estimator = make_estimator(head, seed=5)
    assert isinstance(estimator, Pipeline)
    scaler, svc = (step for _, step in estimator.steps)
    assert isinstance(scaler, StandardScaler)
    assert isinstance(svc, SVC)
    assert svc.C == 2.0
    assert svc.probability is True
    assert svc.random_state == 5


def test_make_estimator_sklearn_regressor_unscaled():
    head = HeadConfig(
        groups=("x",), mode="regression", estimator="sklearn.linear_model.Ridge", params={}
    )
    estimator = make_estimator(head, seed=5)
    assert type(estimator) is Ridge


def test_svc_head_fits(data):
    X, y = data  # noqa: N806
    head = HeadConfig(groups=("x",), estimator="sklearn.svm.SVC", scale=True)
    model = MoodModel(
        arousal=make_estimator(head, seed=0),
        valence=make_estimator(head, seed=0),
        arousal_columns=A_COLS,
        valence_columns=V_COLS,
    ).fit(X, y)
    _check_table(model.predict_table(X))


@pytest.mark.parametrize(
    ("estimator", "mode", "params", "match"),
    [
        ("lightgbm", "binary", {}, "estimator must be 'xgboost' or a scikit-learn class path"),
        ("os.system", "binary", {}, "estimator must be 'xgboost' or a scikit-learn class path"),
        ("sklearn.svm.NoSuchModel", "binary", {}, "no scikit-learn estimator"),
        ("sklearn.nomodule.SVC", "binary", {}, "no scikit-learn estimator"),
        ("sklearn.linear_model.Ridge", "binary", {}, "a binary head needs a classifier"),
        ("sklearn.svm.SVC", "regression", {}, "a regression head needs a regressor"),
        ("sklearn.svm.SVC", "binary", {"bogus": 1}, r"sklearn\.svm\.SVC: .*bogus"),
    ],
)
def test_make_estimator_refuses(estimator, mode, params, match):
    head = HeadConfig(groups=("x",), mode=mode, estimator=estimator, params=params)
    with pytest.raises(ParameterError, match=match):
        make_estimator(head, seed=0)


# ---- valence by arousal ------------------------------------------------------------------------


def _interaction_data(n: int = 400) -> tuple[pd.DataFrame, np.ndarray]:
    """Valence is read from v0 at high arousal and from v1 at low arousal."""
    rng = np.random.default_rng(3)
    X = pd.DataFrame(rng.normal(size=(n, 8)), columns=A_COLS + V_COLS)  # noqa: N806
    arousal = np.tanh(X["a0"].to_numpy())
    valence = np.where(arousal > 0, np.tanh(X["v0"]), np.tanh(X["v1"]))
    return X, np.column_stack([valence, arousal])


def test_valence_by_arousal_learns_what_pooled_cannot():
    X, y = _interaction_data()  # noqa: N806
    test_X, test_y = _interaction_data(200)  # noqa: N806
    test_X.index += 1000
    kw = {"arousal_columns": A_COLS, "valence_columns": V_COLS}
    pooled = MoodModel(arousal=LogisticRegression(), valence=LogisticRegression(), **kw)
    split = MoodModel(
        arousal=LogisticRegression(), valence=LogisticRegression(), valence_by_arousal=True, **kw
    )
    accuracy = {}
    for name, model in (("pooled", pooled), ("split", split)):
        predicted = model.fit(X, y).predict(test_X)
        accuracy[name] = np.mean((predicted[:, 0] > 0) == (test_y[:, 0] > 0))
    assert set(split.valence_sides_) == {"high", "low"}
    assert accuracy["split"] > accuracy["pooled"] + 0.1
    _check_table(split.predict_table(test_X))


def test_valence_by_arousal_falls_back_to_pooled_head():
    X, y = _interaction_data()  # noqa: N806
    y = y.copy()
    y[y[:, 1] <= 0, 0] = 0.5  # every low-arousal clip is positive
    model = MoodModel(
        arousal=LogisticRegression(), valence=LogisticRegression(), valence_by_arousal=True
    ).fit(X, y)
    assert model.valence_sides_["low"] is model.valence_
    assert model.valence_sides_["high"] is not model.valence_


def test_by_arousal_only_for_the_valence_head():
    from va_mood.config import config_from_dict

    with pytest.raises(ParameterError, match="valence head only"):
        config_from_dict(
            {
                "arousal": {"groups": ["arousal.rms"], "by_arousal": True},
                "valence": {"groups": ["valence.chroma"]},
            }
        )


def test_weight_floor_weighs_clear_examples_more():
    """Each binary head's training clips are weighed |target| + floor; None weighs equally."""
    X, y = _interaction_data()  # noqa: N806
    seen = {}

    class Recording(LogisticRegression):
        def fit(self, X, y, sample_weight=None):  # noqa: N803
            seen.setdefault(len(seen), sample_weight)
            return super().fit(X, y, sample_weight=sample_weight)

    MoodModel(arousal=Recording(), valence=Recording(), weight_floors=(0.25, None)).fit(X, y)
    assert np.allclose(seen[0], np.abs(y[:, 0]) + 0.25)  # valence
    assert seen[1] is None  # arousal


def test_binary_targets_carry_label_size():
    from va_mood.labels.files import targets

    labels = pd.DataFrame(
        {
            "valence": [0.5, -0.2, np.nan],
            "arousal": [0.1, 0.0, np.nan],
            "quadrant": ["Q1", "Q2", "Q3"],
        }
    )
    y = targets(labels, {"valence": "binary", "arousal": "binary"})
    assert y[:, 0].tolist() == [0.5, -0.2, -1.0]
    assert y[:, 1].tolist() == [0.1, 1e-3, -1.0]  # the quadrant decides the side
