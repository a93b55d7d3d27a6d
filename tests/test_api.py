"""The Python API takes what the command line takes and returns what it writes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import va_mood
from va_mood.cli import app

EXAMPLES = Path(__file__).resolve().parents[1] / "data" / "examples"
CLIP = EXAMPLES / "macleod_hustle.mp3"


@pytest.fixture(scope="module")
def model() -> va_mood.api.Model:
    return va_mood.load_model()


@pytest.fixture(scope="module")
def music(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("music")
    shutil.copy(CLIP, folder / "one.mp3")
    (folder / "sub").mkdir()
    shutil.copy(EXAMPLES / "macleod_slow_burn.mp3", folder / "sub" / "two.mp3")
    return folder


@pytest.mark.parametrize("kind", ["str", "Path", "list"])
def test_one_path_as_str_path_or_list(model, music, kind, tmp_path):
    song = music / "one.mp3"
    arg = {"str": str(song), "Path": song, "list": [str(song)]}[kind]
    table = model.predict_files(arg, cache_dir=tmp_path)
    assert list(table.index) == [str(song)]
    assert table.attrs["errors"] == {}


def test_folders_and_globs_as_on_the_command_line(model, music, tmp_path):
    by_folder = model.predict_files(music, cache_dir=tmp_path)
    assert sorted(Path(p).name for p in by_folder.index) == ["one.mp3", "two.mp3"]
    by_glob = model.predict_files(f"{music}/**/*.mp3", cache_dir=tmp_path)
    assert sorted(by_glob.index) == sorted(by_folder.index)
    nothing = model.predict_files([music / "missing.mp3", f"{music}/*.ogg"], cache_dir=tmp_path)
    assert nothing.empty
    assert set(nothing.attrs["errors"]) == {str(music / "missing.mp3"), f"{music}/*.ogg"}


@pytest.mark.parametrize("scale", ["plane", "unit", "nine"])
def test_the_same_table_as_the_command_line(model, music, scale, tmp_path):
    out = tmp_path / "moods.csv"
    args = ["predict", str(music), "-f", "csv", "-o", str(out), "--scale", scale]
    result = CliRunner().invoke(app, [*args, "--cache", str(tmp_path)])
    assert result.exit_code == 0, result.output
    cli = pd.read_csv(out)
    api = model.predict_files(music, scale=scale, cache_dir=tmp_path).reset_index()
    assert list(api.columns) == list(cli.columns)
    assert "p_calm" in api.columns
    pd.testing.assert_frame_equal(api.round(4), cli, check_dtype=False, atol=1e-4)


def test_the_cache_is_used_by_default(model, music, monkeypatch):
    from va_mood.extraction import batch as extract
    from va_mood.locations import default_cache

    first = model.predict_files(music)
    assert any(default_cache().iterdir())

    def no_decoding(*args, **kwargs):
        raise AssertionError("the cache should have answered")

    monkeypatch.setattr(extract, "_extract_path", no_decoding)
    again = model.predict_files(music, jobs=1)
    pd.testing.assert_frame_equal(again, first)
    with pytest.raises(AssertionError, match="the cache should have answered"):
        model.predict_files(music, cache=False, jobs=1)
