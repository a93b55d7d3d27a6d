"""Exit codes and message kinds, per command, exactly as the README documents them.

0 every input succeeded (``warning:`` lines may say what was skipped); 1 some inputs failed;
2 the command line is wrong; 3 nothing could be done. ``error:`` only for failures.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from va_mood.cli import app

EXAMPLES = Path(__file__).resolve().parents[1] / "data" / "examples"
USAGE, NOTHING = 2, 3


def _run(*args, **kwargs):
    return CliRunner().invoke(app, [str(a) for a in args], **kwargs)


USAGE_ERRORS = {
    "predict --scale": ["predict", EXAMPLES, "--scale", "spotify"],
    "predict --format": ["predict", EXAMPLES, "--format", "xml"],
    "predict --segment": ["predict", EXAMPLES, "--segment", "0"],
    "predict no paths": ["predict"],
    "extract no output": ["extract", EXAMPLES],
    "evaluate no labels": ["evaluate", "--audio", EXAMPLES],
    "train no output": ["train", "--labels", "labels.csv"],
    "tune --head": ["tune", "--labels", "labels.csv", "--head", "sideways"],
    "studies list --format": ["studies", "list", "--format", "xml"],
    "tag --scale": ["tag", EXAMPLES, "--scale", "percent"],
    "playlist --mood": ["playlist", "moods.csv", "-o", "x.m3u8", "--mood", "Happy"],
    "playlist --sort": ["playlist", "moods.csv", "-o", "x.m3u8", "--sort", "tempo"],
    "playlist --min-confidence": ["playlist", "m.csv", "-o", "x.m3u8", "--min-confidence", "2"],
    "plot plane no output": ["plot", "plane", "moods.csv"],
    "plot timeline no output": ["plot", "timeline", "moods.csv"],
    "unknown command": ["sing"],
}


@pytest.mark.parametrize("args", USAGE_ERRORS.values(), ids=USAGE_ERRORS.keys())
def test_a_wrong_command_line_exits_2_in_plain_words(args, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = _run(*args)
    assert result.exit_code == USAGE, result.output
    assert "Traceback" not in result.output
    assert "Value error" not in result.output  # no validation-library wording
    assert list(tmp_path.iterdir()) == []
    assert len(result.output.splitlines()) == 1, result.output  # one line, as the README says
    assert result.output.startswith("error: ")
    assert not any(c in result.output for c in "╭│╰")  # no box


def test_wrong_choice_lists_the_allowed_values():
    result = _run("predict", EXAMPLES, "--scale", "spotify")
    assert result.output == (
        "error: Invalid value for '--scale': 'spotify' is not one of plane, unit, nine "
        "(see 'root predict --help')\n"
    )


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["tag", EXAMPLES, "--scale", "percent"], "'percent' is not one of plane, unit, nine"),
        (["predict", EXAMPLES, "--format", "xml"], "'xml' is not one of table, csv, json"),
        (["predict", EXAMPLES, "--bogus"], "No such option: --bogus"),
        (["predict"], "Missing argument 'paths'"),
        (["plot", "plane", "m.csv"], "Missing option '--output' / '-o'"),
        (["sing"], "No such command 'sing'"),
    ],
)
def test_usage_errors_are_one_line_naming_the_help_to_read(args, said):
    result = _run(*args)
    assert result.exit_code == USAGE
    [line] = result.output.splitlines()
    assert line.startswith("error: ") and said in line
    assert line.endswith("--help')")


def test_help_is_unchanged_by_the_one_line_errors():
    for args in (["--help"], ["predict", "--help"], ["studies", "--help"]):
        result = _run(*args)
        assert result.exit_code == 0 and "Usage:" in result.output and "error:" not in result.output
    bare = _run("studies")  # a group without a command shows its help, as before
    assert bare.exit_code == USAGE and "Usage:" in bare.output and "error:" not in bare.output


NOTHING_TO_DO = {
    "predict": ["predict", "missing.mp3"],
    "extract": ["extract", "missing.mp3", "-o", "f.parquet"],
    "evaluate": ["evaluate", "--labels", "missing.csv", "--audio", "."],
    "train": ["train", "--labels", "missing.csv", "--audio", ".", "-o", "m"],
    "tune": ["tune", "--labels", "missing.csv", "--audio", "."],
    "studies show": ["studies", "show", "nope", "--storage", "sqlite:///s.db"],
    "tag": ["tag", "missing.mp3"],
    "playlist": ["playlist", "missing.csv", "-o", "x.m3u8"],
    "plot plane": ["plot", "plane", "missing.csv", "-o", "p.png"],
    "plot timeline": ["plot", "timeline", "missing.csv", "-o", "p.png"],
}


@pytest.mark.parametrize("args", NOTHING_TO_DO.values(), ids=NOTHING_TO_DO.keys())
def test_nothing_to_do_exits_3_with_one_error_line(args, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = _run(*args)
    assert result.exit_code == NOTHING, result.output
    assert "Traceback" not in result.output
    assert result.output.startswith("error: ")


@pytest.fixture(scope="module")
def example_csv(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("moods") / "moods.csv"
    result = _run("predict", EXAMPLES, "-f", "csv", "-o", path, "--no-cache")
    assert result.exit_code == 0, result.output
    return path


def test_plot_leaving_out_unlabelled_files_is_a_warning(example_csv, tmp_path):
    first = sorted(EXAMPLES.glob("*.mp3"))[0].stem
    labels = tmp_path / "labels.csv"
    labels.write_text(f"song_id,quadrant,valence,arousal,artist\n{first},Q1,6,6,a\n")
    result = _run("plot", "plane", example_csv, "-o", tmp_path / "p.png", "--labels", labels)
    assert result.exit_code == 0, result.output
    assert "warning: 3 file(s) without labels left out of the plot" in result.output
    assert "error:" not in result.output


def test_unlabelled_audio_is_a_warning_and_an_unreadable_clip_an_error(corpus, tmp_path):
    audio = tmp_path / "audio"
    shutil.copytree(corpus.audio, audio)
    shutil.copy(EXAMPLES / "macleod_hustle.mp3", audio / "stray.wav")  # no label
    args = ["evaluate", "--labels", corpus.labels_csv, "--audio", audio]
    args += ["--config", corpus.config, "--labels-spec", corpus.spec, "--cache", corpus.cache]
    result = _run(*args)
    assert result.exit_code == 0, result.output
    assert "warning: " in result.output and "without labels ignored" in result.output
    assert "error:" not in result.output

    (audio / corpus.paths[0].name).write_bytes(b"not audio at all")
    result = _run(*args[:-2], "--no-cache")
    assert result.exit_code == 1, result.output
    assert f"error: {audio / corpus.paths[0].name}" in result.output


@pytest.mark.parametrize("command", ["predict", "plot", "playlist"])
def test_an_output_that_cannot_be_written_is_one_line_and_exit_3(
    command, example_csv, tmp_path, monkeypatch
):
    import errno
    import os

    from va_mood.util import atomic as _atomic

    folder = tmp_path / "folder.png"  # a folder, with a name a plot would take
    folder.mkdir()
    args = {
        "predict": ["predict", EXAMPLES / "macleod_hustle.mp3", "-f", "csv"],
        "plot": ["plot", "plane", example_csv],
        "playlist": ["playlist", example_csv],
    }[command]
    result = _run(*args, "-o", folder)
    assert result.exit_code == NOTHING, result.output
    assert (
        result.output.strip().splitlines()[-1]
        == f"error: {folder}: is a folder; give a file name to write"
    )

    def no_space(src, dst):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(_atomic.os, "replace", no_space)
    out = tmp_path / "full" / "out.png"
    result = _run(*args, "-o", out)
    assert result.exit_code == NOTHING, result.output
    assert f"error: {out}: cannot write (No space left on device)" in result.output
    assert "Traceback" not in result.output
    assert list((tmp_path / "full").iterdir()) == []  # no temporary file left behind
