"""Calibrated coordinates and confidences: maps learnt out of fold, kept on the head's side."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression, Ridge

from va_mood.evaluation.metrics import concordance, expected_calibration_error, share_extreme
from va_mood.model.calibration import MARGIN, ConfidenceMap, CoordinateMap, log_odds
from va_mood.model.estimator import MoodModel
from va_mood.quadrant import quadrant_of


def _scores(n: int = 2000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Overconfident probabilities of a label on [-0.6, 0.6]: what a boosted head gives."""
    rng = np.random.default_rng(seed)
    label = rng.uniform(-0.6, 0.6, n)
    p = 1 / (1 + np.exp(-(12 * label + rng.normal(0, 2, n))))
    return p, label


def test_coordinates_estimate_the_label_not_the_certainty():
    p, label = _scores()
    stretched = 2 * p - 1
    fitted = CoordinateMap.fit(p, label, decision=0.5)
    coordinates = fitted(p)
    assert share_extreme(stretched) > 0.3  # 2p - 1 piles up at the ends
    assert share_extreme(coordinates) == 0.0
    assert concordance(coordinates, label) > concordance(stretched, label) + 0.2
    assert coordinates.mean() == pytest.approx(label.mean(), abs=0.02)
    assert coordinates.std() == pytest.approx(label.std(), rel=0.05)  # stretched to the labels'


def test_coordinates_keep_the_heads_side_and_order():
    p, label = _scores()
    fitted = CoordinateMap.fit(p, label, decision=0.5, threshold=0.1)
    grid = np.linspace(0, 1, 1001)
    values = fitted(grid)
    assert np.all(np.diff(values) >= 0)
    assert np.all(values[grid > 0.5] >= 0.1 + MARGIN)
    assert np.all(values[grid <= 0.5] <= 0.1 - MARGIN)
    assert np.array_equal(quadrant_of(values, values, thresholds=(0.1, 0.1)) == "Q1", grid > 0.5)


def test_confidence_is_calibrated():
    p, label = _scores()
    confidence = ConfidenceMap.fit(p, label > 0, binary=True)
    q = confidence(p)
    side = np.where(p > 0.5, q, 1 - q)
    right = (p > 0.5) == (label > 0)
    raw = np.maximum(p, 1 - p)
    assert expected_calibration_error(side, right) < 0.03
    assert expected_calibration_error(raw, right) > expected_calibration_error(side, right)


@pytest.mark.parametrize(
    "edit",
    [
        {"y": [0.5, -0.5]},
        {"x": [1.0, 0.0]},
        {"y": [float("nan"), 0.2]},
        {"y": [0.0, 1.5]},
    ],
)
def test_a_damaged_coordinate_map_is_refused(edit):
    data = {"x": [0.0, 1.0], "y": [-0.5, 0.5], "decision": 0.5, "threshold": 0.0, **edit}
    with pytest.raises(ValueError):
        CoordinateMap.from_dict(data)


def test_maps_survive_json():
    p, label = _scores(300)
    coordinates = CoordinateMap.fit(p, label, decision=0.5)
    confidence = ConfidenceMap.fit(p, label > 0, binary=True)
    assert CoordinateMap.from_dict(coordinates.to_dict()) == coordinates
    assert ConfidenceMap.from_dict(confidence.to_dict()) == confidence
    assert np.all(np.isfinite(log_odds(np.array([0.0, 1.0]))))


def _corpus(n: int = 240, seed: int = 1) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.uniform(-0.7, 0.7, size=(n, 2))
    X = pd.DataFrame(  # noqa: N806
        {
            "v1": y[:, 0] + rng.normal(0, 0.3, n),
            "v2": rng.normal(size=n),
            "a1": y[:, 1] + rng.normal(0, 0.2, n),
            "a2": rng.normal(size=n),
        }
    )
    return X, y, np.arange(n) // 3  # three clips per artist


@pytest.mark.parametrize("heads", ["binary", "regression"])
def test_a_calibrated_model_agrees_with_its_heads_and_estimates_the_labels(heads):
    X, y, groups = _corpus()  # noqa: N806
    make = LogisticRegression if heads == "binary" else Ridge
    kw = {
        "valence": make(),
        "arousal": make(),
        "valence_columns": ["v1", "v2"],
        "arousal_columns": ["a1", "a2"],
    }
    train, test = slice(0, 180), slice(180, None)
    plain = MoodModel(**kw).fit(X[train], y[train])
    calibrated = MoodModel(**kw, calibration_folds=5).fit(X[train], y[train], groups=groups[train])
    table = calibrated.predict_table(X[test])
    assert list(table["quadrant"]) == list(plain.predict_table(X[test])["quadrant"])
    signs = quadrant_of(table["valence"].to_numpy(), table["arousal"].to_numpy())
    assert list(signs) == list(table["quadrant"])
    for k, axis in enumerate(("valence", "arousal")):
        assert concordance(table[axis], y[test][:, k]) > 0.6
        assert table[f"{axis}_confidence"].between(0, 1).all()
    assert set(calibrated.coordinates_) == set(calibrated.confidence_) == {"valence", "arousal"}


def test_calibration_with_one_artist_says_so():
    X, y, _ = _corpus(12)  # noqa: N806
    model = MoodModel(valence=Ridge(), arousal=Ridge(), calibration_folds=5)
    with pytest.raises(ValueError, match="two inner folds"):
        model.fit(X, y, groups=np.zeros(12))
