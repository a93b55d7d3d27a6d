"""The Python API takes what the command line takes and returns what it writes."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import va_mood
from va_mood.cli import app
from va_mood.errors import AudioError, ParameterError, VaMoodError, VaMoodWarning

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
    inputs = [music / "missing.mp3", f"{music}/*.ogg"]
    nothing = model.predict_files(inputs, cache_dir=tmp_path, on_error="collect")
    assert nothing.empty
    assert set(nothing.attrs["errors"]) == {str(music / "missing.mp3"), f"{music}/*.ogg"}


def test_no_usable_input_raises_naming_it(model, tmp_path):
    with pytest.raises(AudioError, match=r"no input could be used: missing\.mp3: ") as info:
        model.predict_files("missing.mp3", cache_dir=tmp_path)
    assert list(info.value.errors) == ["missing.mp3"]
    assert isinstance(info.value, VaMoodError)
    not_audio = tmp_path / "notes.mp3"
    not_audio.write_bytes(b"not audio at all")
    with pytest.raises(AudioError, match=r"; and 1 more \(see \.errors\)") as info:
        va_mood.predict_files(model, [not_audio, tmp_path / "gone.wav"], cache_dir=tmp_path)
    assert set(info.value.errors) == {str(not_audio), str(tmp_path / "gone.wav")}


def test_each_unusable_input_is_a_warning_and_the_rest_is_returned(model, music, tmp_path):
    song = music / "one.mp3"
    with pytest.warns(VaMoodWarning) as said:
        table = model.predict_files([song, "missing.mp3"], cache_dir=tmp_path)
    assert list(table.index) == [str(song)]
    assert [str(w.message) for w in said] == [table.attrs["errors"]["missing.mp3"]]
    assert said[0].filename == __file__  # points at the caller's line, not va_mood's
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing to say: no warning
        model.predict_files(song, cache_dir=tmp_path)
        assert model.predict_files([], cache_dir=tmp_path).empty  # nothing asked, nothing raised


def test_on_error_is_checked(model):
    with pytest.raises(ParameterError, match="on_error must be 'warn' or 'collect', got 'x'"):
        model.predict_files("missing.mp3", on_error="x")


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


def test_default_is_the_shipped_model_before_its_heads_were_tuned_and_says_so(model):
    """``--config default`` is the shipped model's starting point, not the shipped model: the
    same groups, analysis and heads, with the parameters its studies started from. The
    ``--config`` help and the README say so."""
    import typer

    from va_mood.config import config_to_dict, load_config

    default, shipped = config_to_dict(load_config("default")), config_to_dict(model.config)
    for axis in ("valence", "arousal"):
        assert default[axis].pop("params") != shipped[axis].pop("params")  # tuned
    assert default == shipped  # everything else is the same
    commands = typer.main.get_command(app).commands
    for name in ("train", "evaluate", "tune"):
        [option] = [p for p in commands[name].params if p.name == "config"]
        assert "Without it: the shipped model's own, which is 'default' with each head's " in (
            option.help
        )
        assert "'default' holds their untuned start" in option.help
    readme = " ".join((Path(__file__).parents[1] / "README.md").read_text().split())
    assert "`--config default` trains the untuned start, which is not the shipped model" in readme
    assert "the shipped model's configuration; it starts from" not in readme
