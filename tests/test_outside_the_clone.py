"""From any folder: shipped configurations by name, studies in the user's data folder,
nothing written to the working folder unless asked."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from va_mood.cli import app
from va_mood.config import load_config, load_label_spec
from va_mood.errors import ParameterError
from va_mood.locations import default_storage, packaged_names, resolve_file
from va_mood.tuning import load_search_space

REPO = Path(__file__).resolve().parents[1]


def _run(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.fixture()
def elsewhere(tmp_path, monkeypatch) -> Path:
    """An empty working folder outside the repository."""
    folder = tmp_path / "work"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


def test_shipped_files_by_name_from_any_folder(elsewhere):
    assert packaged_names("configuration") == ["article", "default", "regression"]
    assert packaged_names("search space") == ["default", "xgboost"]
    assert packaged_names("labels format") == ["4q", "emomusic10", "musemo"]
    assert load_config("default") == load_config(REPO / "configs" / "default.toml")
    assert load_config("article").arousal.groups[0] == "arousal.tempogram"
    assert load_search_space("xgboost").source == "search_space_xgboost.toml"
    assert load_label_spec("emomusic10") == load_label_spec(
        REPO / "configs" / "labels" / "emomusic10.toml"
    )


def test_a_file_path_wins_over_a_name(elsewhere):
    (elsewhere / "default").write_text('seed = 3\n[arousal]\nmode = "binary"\n')
    assert resolve_file("default", "configuration") == Path("default")


def test_an_unknown_name_lists_the_names_there_are(elsewhere):
    with pytest.raises(ParameterError, match="no search space named 'sklearn': give a TOML file"):
        load_search_space("sklearn")
    result = _run("studies", "export", "-o", "x.toml", "--config", "nope")
    assert result.exit_code == 3
    assert "one of article, default, regression" in result.output


def test_studies_live_in_the_user_data_folder_and_reading_creates_nothing(elsewhere):
    data = Path(os.environ["XDG_DATA_HOME"])
    assert default_storage() == f"sqlite:///{data / 'va_mood' / 'studies.db'}"
    result = _run("studies", "list")
    assert result.exit_code == 0, result.output
    assert f"no studies in {default_storage()}" in result.output
    assert not (data / "va_mood" / "studies.db").exists()
    assert list(elsewhere.iterdir()) == []


def test_tune_and_train_outside_the_clone_by_name(elsewhere, corpus):
    data = Path(os.environ["XDG_DATA_HOME"]) / "va_mood" / "studies.db"
    common = ["--labels", corpus.labels_csv, "--audio", corpus.audio, "--labels-spec", corpus.spec]
    common += ["--cache", corpus.cache, "--study-name", "outside"]
    result = _run("tune", "--head", "arousal", "--trials", 1, "--search-space", "xgboost", *common)
    assert result.exit_code == 0, result.output
    assert data.is_file()
    result = _run("studies", "list")
    assert "outside-arousal: " in result.output
    model = elsewhere.parent / "model"
    args = ["train", "--config", "article", "--params-from-study", "--no-cv", "-o", model]
    result = _run(*args, *common)
    assert result.exit_code == 0, result.output
    assert (model / "bundle.json").is_file()
    assert list(elsewhere.iterdir()) == []


def test_version_names_the_package_and_the_model():
    from importlib.metadata import version

    result = _run("--version")
    assert result.exit_code == 0
    assert result.output.startswith(f"va-mood {version('va-mood')}, model default (trained 20")
