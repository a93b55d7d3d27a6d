"""BoostedTrees predicts what xgboost predicts, from the same files, without importing it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import xgboost

import va_mood
from va_mood.errors import ParameterError
from va_mood.model.trees import BoostedTrees, read_ubjson

DEFAULT = Path(va_mood.__file__).parent / "models" / "default"
EXAMPLES = Path(__file__).resolve().parents[1] / "data" / "examples"


def _rows(n_features: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    X = rng.normal(scale=3.0, size=(300, n_features)).astype(np.float32)  # noqa: N806
    X[rng.random(X.shape) < 0.02] = np.nan  # missing values take the default branch
    return X


@pytest.mark.parametrize("name", sorted(p.stem for p in DEFAULT.glob("*.ubj")))
def test_the_shipped_heads_agree_with_xgboost(name):
    file = DEFAULT / f"{name}.ubj"
    ours = BoostedTrees.load(file)
    theirs = xgboost.XGBClassifier()
    theirs.load_model(file)
    X = _rows(ours.n_features)  # noqa: N806
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), atol=1e-6)
    margin = theirs.get_booster().predict(xgboost.DMatrix(X), output_margin=True)
    np.testing.assert_allclose(ours.margin(X), margin, atol=1e-5)


def test_the_shipped_model_predicts_the_same_through_either(tmp_path):
    light = va_mood.load_model()
    table = light.predict_files(EXAMPLES, cache_dir=tmp_path)
    features = va_mood.api.extract_files(
        list(table.index), config=light.config.analysis, groups=light.config.groups,
        cache_dir=tmp_path,
    )[0]  # fmt: skip
    full = light.estimator.predict_table(features)  # xgboost's own estimators
    assert type(light.estimator.arousal_).__module__.startswith("xgboost")
    np.testing.assert_allclose(light.heads.predict_table(features)[["valence", "arousal"]],
                               full[["valence", "arousal"]], atol=1e-5)  # fmt: skip
    assert list(table["quadrant"]) == list(full["quadrant"])


@pytest.mark.parametrize("suffix", [".ubj", ".json"])
def test_a_regressor_with_its_own_base_score(tmp_path, suffix):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 6)).astype(np.float32)  # noqa: N806
    y = X[:, 0] - 0.5 * X[:, 1] ** 2 + 3.0
    model = xgboost.XGBRegressor(n_estimators=30, max_depth=4).fit(X, y)
    file = tmp_path / f"r{suffix}"
    model.save_model(file)
    ours = BoostedTrees.load(file)
    X2 = _rows(6, seed=2)  # noqa: N806
    np.testing.assert_allclose(ours.predict(X2), model.predict(X2), atol=1e-5)
    assert ours.to_xgboost().predict(X2) == pytest.approx(model.predict(X2))


def test_ubjson_reads_what_xgboost_writes_as_json():
    file = DEFAULT / "arousal.ubj"
    booster = xgboost.Booster()
    booster.load_model(file)
    expected = json.loads(booster.save_raw("json"))
    ours = read_ubjson(file.read_bytes())
    tree, their_tree = (m["learner"]["gradient_booster"]["model"]["trees"][3]
                        for m in (ours, expected))  # fmt: skip
    assert ours["learner"]["objective"] == expected["learner"]["objective"]
    np.testing.assert_allclose(tree["split_conditions"], their_tree["split_conditions"])
    assert list(tree["left_children"]) == their_tree["left_children"]


def test_what_it_cannot_read_is_one_clear_error(tmp_path):
    bad = tmp_path / "bad.ubj"
    bad.write_bytes(b"{not ubjson")
    with pytest.raises(ParameterError, match="bad.ubj: not a readable xgboost model"):
        BoostedTrees.load(bad)


def test_predicting_from_cached_features_imports_neither_xgboost_nor_sklearn(tmp_path):
    song = EXAMPLES / "macleod_hustle.mp3"
    code = (
        "import sys, va_mood\n"
        f"table = va_mood.load_model().predict_files({str(song)!r}, cache_dir={str(tmp_path)!r})\n"
        "print(len(table), ','.join(m for m in ('xgboost', 'sklearn', 'librosa.core.audio',"
        " 'scipy.stats') if m in sys.modules))\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)  # fills it
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert out.stdout.split() == ["1"]


def test_parsed_trees_are_cached_by_content_and_a_bad_cache_is_ignored(tmp_path):
    file = DEFAULT / "arousal.ubj"
    fresh = BoostedTrees.load(file, cache_dir=tmp_path)
    (stored,) = tmp_path.glob("*.npz")
    again = BoostedTrees.load(file, cache_dir=tmp_path)
    X = _rows(fresh.n_features)  # noqa: N806
    np.testing.assert_array_equal(again.margin(X), fresh.margin(X))
    assert again.objective == "binary:logistic" and again.raw == file.read_bytes()
    stored.write_bytes(b"damaged")
    np.testing.assert_array_equal(BoostedTrees.load(file, cache_dir=tmp_path).margin(X),
                                  fresh.margin(X))  # fmt: skip
    readonly = tmp_path / "readonly"
    readonly.mkdir(mode=0o500)
    assert BoostedTrees.load(file, cache_dir=readonly / "sub").n_features == fresh.n_features


def test_no_cache_writes_no_parsed_trees(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from va_mood.cli import app

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    args = ["predict", str(EXAMPLES / "macleod_hustle.mp3"), "--no-cache"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "cache").exists()
    assert CliRunner().invoke(app, args[:-1]).exit_code == 0
    assert list((tmp_path / "cache" / "va_mood" / "models").glob("*.npz"))
