"""One model object, one route for a clip, and options every command shares."""

from __future__ import annotations

import inspect
import warnings
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import va_mood
from va_mood.audio import discover
from va_mood.cli import app
from va_mood.cli.options import Work

EXAMPLES = Path(__file__).resolve().parents[1] / "data" / "examples"
SHARED = ("jobs", "cache", "no_cache", "max_duration")


@pytest.fixture(scope="module")
def model() -> va_mood.Model:
    return va_mood.load_model()


def test_the_model_object_is_what_load_and_train_give(model, corpus_data):
    features, labels, config = corpus_data
    trained = va_mood.train(features, labels, config)
    assert isinstance(model, va_mood.Model) and isinstance(trained, va_mood.Model)
    assert type(model.heads).__name__ == "FittedHeads"  # internal: what predicts
    assert isinstance(trained.estimator, va_mood.MoodModel)  # what training fits
    assert isinstance(model.estimator, va_mood.MoodModel)  # built from the loaded heads


def test_the_model_saves_and_loads_itself(corpus_data, tmp_path):
    features, labels, config = corpus_data
    trained = va_mood.train(features, labels, config)
    folder = trained.save(tmp_path / "mine")
    loaded = va_mood.Model.load(folder, cache=False)
    pd.testing.assert_frame_equal(
        loaded.predict_features(features), trained.predict_features(features), atol=1e-6
    )


def test_repr_is_one_short_line(model):
    text = repr(model)
    assert "\n" not in text and len(text) < 200
    assert text.startswith("Model(valence=binary xgboost on ")
    assert str(model) == text


def test_the_old_names_still_work_with_a_warning():
    with pytest.warns(DeprecationWarning, match="va_mood.Bundle is now va_mood.Model"):
        assert va_mood.Bundle is va_mood.Model
    with pytest.warns(DeprecationWarning, match="load_bundle is now va_mood.load_model"):
        assert va_mood.load_bundle is va_mood.load_model
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert va_mood.load_model is not None  # the current names warn of nothing


def test_predict_expands_its_inputs_once(tmp_path, monkeypatch):
    calls = []
    real = discover.find_audio

    def counting(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(discover, "find_audio", counting)
    monkeypatch.setattr(va_mood.api, "find_audio", counting)
    song = EXAMPLES / "macleod_hustle.mp3"
    result = CliRunner().invoke(app, ["predict", str(EXAMPLES), "--cache", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert len(calls) == 1
    assert song.name in result.output


def test_predict_features_and_files_present_the_same_table(model, tmp_path):
    song = EXAMPLES / "macleod_hustle.mp3"
    by_file = model.predict_files(song, scale="unit", cache_dir=tmp_path)
    from va_mood.extraction.batch import extract_files

    features, _ = extract_files(
        [song], config=model.config.analysis, groups=model.config.groups, cache_dir=tmp_path
    )
    by_features = model.predict_features(features, scale="unit")
    assert list(by_features.columns) == list(by_file.columns)
    assert by_features.iloc[0].equals(by_file.iloc[0])


@pytest.mark.parametrize(
    "command", ["predict", "extract", "tag", "page", "evaluate", "train", "tune"]
)
def test_every_command_that_reads_audio_has_the_shared_options(command):
    info = next(c for c in app.registered_commands if (c.name or c.callback.__name__) == command)
    params = inspect.signature(info.callback).parameters
    assert set(SHARED) <= set(params)
    assert "work" not in params  # the command receives them as one Work
    help_text = CliRunner().invoke(app, [command, "--help"], terminal_width=200).output
    for flag in ("--jobs", "--cache", "--no-cache", "--max-duration"):
        assert flag in help_text


def test_work_turns_the_options_into_library_arguments(tmp_path):
    work = Work(jobs=2, cache=tmp_path, no_cache=False, max_duration=0)
    assert work.predict_options() == {
        "jobs": 2,
        "cache": True,
        "cache_dir": tmp_path,
        "longest": None,
    }
    assert Work(no_cache=True).cache_dir is None
    assert Work(max_duration=60).longest == 60


def test_the_examples_are_predicted_as_before(tmp_path):
    """The shipped model's CSV on the examples, byte for byte as the flat layout wrote it
    (tests/data/examples_predictions.csv; write it again when the shipped model changes)."""
    out = tmp_path / "examples.csv"
    result = CliRunner().invoke(
        app, ["predict", str(EXAMPLES), "-f", "csv", "-o", str(out), "--cache", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    expected = (Path(__file__).parent / "data" / "examples_predictions.csv").read_text()
    assert out.read_text().replace(f"{EXAMPLES}/", "") == expected


def test_the_route_drawn_in_the_readme_names_real_code():
    """Every ``folder/module.name`` in the README's drawing of a clip's route exists."""
    import importlib
    import re

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    drawing = readme.split("One clip's route", 1)[1].split("```")[1]
    names = re.findall(r"\b([a-z_]+(?:/[a-z_]+)?)\.([A-Za-z_]+(?:\.[A-Za-z_]+)?)", drawing)
    assert len(names) >= 8
    for module, attrs in names:
        obj = importlib.import_module("va_mood." + module.replace("/", "."))
        for attr in attrs.split("."):
            obj = getattr(obj, attr)
