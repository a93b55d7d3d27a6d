"""Excerpts as training rows: decoded by name, cached by content and range, never scored."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from va_mood.audio.decode import duration, load
from va_mood.audio.discover import excerpt, split_excerpt
from va_mood.config import AugmentationConfig, config_from_dict
from va_mood.evaluation.cross_validation import cross_validate, out_of_fold
from va_mood.extraction.cache import file_key
from va_mood.features.registry import columns_for
from va_mood.labels.augment import crops
from va_mood.model.estimator import MoodModel

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "data" / "examples").glob("*.mp3"))


def test_an_excerpt_is_that_stretch_of_the_file():
    path = str(EXAMPLES[0])
    whole, sr = load(path)
    part, _ = load(excerpt(path, 10.0, 16.0))
    assert len(part) == 6 * sr
    inner = slice(sr, 5 * sr)  # the resampler's first and last samples differ
    np.testing.assert_allclose(part[inner], whole[10 * sr :][inner], atol=1e-5)
    assert duration(excerpt(path, 10.0, 16.0)) == 6.0
    assert split_excerpt(path) == (path, 0.0, None)


def test_an_excerpt_has_its_own_cache_key(tmp_path):
    path = str(EXAMPLES[0])
    key = file_key(excerpt(path, 1.0, 7.0))
    assert key == file_key(excerpt(path, 1.0, 7.0)) != file_key(excerpt(path, 2.0, 8.0))
    assert key.startswith(file_key(path))
    odd = tmp_path / "odd.mp3#t=1,2"  # a file whose own name looks like an excerpt
    odd.write_bytes(Path(path).read_bytes())
    assert split_excerpt(odd) == (str(odd), 0.0, None)


def test_crops_are_seeded_excerpts_with_the_clips_labels():
    labels = pd.DataFrame(
        {"path": [str(p) for p in EXAMPLES], "quadrant": ["Q1", "Q2", "Q3", "Q4"],
         "group": ["a", "a", "b", "c"]},
        index=pd.Index([p.stem for p in EXAMPLES], name="id"),
    )  # fmt: skip
    config = AugmentationConfig(crops=2, seconds=(6.0, 15.0))
    rows = crops(labels, config, seed=3)
    assert len(rows) == 8 and rows["augmented"].all()
    assert list(rows["group"]) == [g for g in labels["group"] for _ in range(2)]
    lengths = [split_excerpt(p)[2] - split_excerpt(p)[1] for p in rows["path"]]
    assert all(6.0 <= s <= 15.0 for s in lengths)
    assert rows.equals(crops(labels, config, seed=3))
    assert not rows.equals(crops(labels, config, seed=4))


def test_excerpts_train_with_their_artist_and_are_never_scored():
    rng = np.random.default_rng(0)
    n, groups = 60, ["a.rms", "valence.chroma"]
    columns = columns_for(["arousal.rms", "valence.chroma"])
    v, a = rng.uniform(-0.8, 0.8, n), rng.uniform(-0.8, 0.8, n)
    labels = pd.DataFrame(
        {"valence": v, "arousal": a, "group": [f"g{i % 12}" for i in range(n)],
         "quadrant": np.where(a > 0, np.where(v > 0, "Q1", "Q2"), np.where(v > 0, "Q4", "Q3")),
         "augmented": [False] * 40 + [True] * 20},
        index=pd.Index([f"c{i}" for i in range(n)], name="id"),
    )  # fmt: skip
    features = pd.DataFrame(rng.normal(size=(n, len(columns))), columns=columns, index=labels.index)
    features[columns[0]] += 3 * a
    head = {"groups": ["arousal.rms", "valence.chroma"], "params": {"n_estimators": 5}}
    config = config_from_dict({"valence": head, "arousal": head, "calibration": {"folds": 0},
                               "evaluation": {"n_splits": 3, "n_repeats": 1}})  # fmt: skip
    seen, trained = [], []
    fit = MoodModel.fit

    def recording_fit(self, X, y, **kw):  # noqa: N803
        trained.append(list(X.index))
        return fit(self, X, y, **kw)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(MoodModel, "fit", recording_fit)
        predicted = out_of_fold(
            features, labels, config, on_fold=lambda f, p: seen.append(list(p.index))
        )
    assert sorted(predicted.index) == sorted(i for part in seen for i in part)
    assert set(predicted.index) == set(labels.index[:40])  # excerpts are never scored
    for rows, scored in zip(trained, seen, strict=True):
        train_groups = set(labels.loc[rows, "group"])
        excerpts = labels.index[labels["augmented"] & labels["group"].isin(train_groups)]
        assert set(excerpts) <= set(rows)  # every excerpt of a training artist trains
        assert not set(labels.loc[scored, "group"]) & train_groups  # and none of a scored one
    report = cross_validate(features, labels, config)
    assert report["n_clips"] == 40 and report["n_augmented"] == 20
    del groups


@pytest.mark.parametrize("bad", [{"crops": -1}, {"seconds": [0.1, 5.0]}, {"seconds": [9, 6]}])
def test_bad_augmentation_is_refused(bad):
    head = {"groups": ["arousal.rms"]}
    with pytest.raises(ValueError, match="augmentation"):
        config_from_dict({"valence": head, "arousal": head, "augmentation": bad})
