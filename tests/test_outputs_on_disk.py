"""Outputs on a real disk: every output is checked before the work starts, and one that cannot
be written at the end does not cost the others (issue 26, points 1 and 2).

A folder that cannot be written is made by putting a regular file where the folder should be:
the file system refuses that whoever asks, root included (root ignores permission bits).
"""

from __future__ import annotations

import errno
import json
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from va_mood.cli import app

EXAMPLES = Path(__file__).resolve().parents[1] / "data" / "examples"
CLIP = EXAMPLES / "macleod_hustle.mp3"
NOTHING = 3


def _run(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def _disk_full_for(monkeypatch: pytest.MonkeyPatch, victim: Path) -> None:
    """The disk fills up just when ``victim`` is written (renamed into place); every other
    file is written as usual."""
    real_replace = os.replace

    def replace(src, dst, *args, **kwargs):
        if Path(dst) == victim:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", replace)


def test_an_errors_file_that_cannot_be_written_keeps_the_predictions(tmp_path, monkeypatch):
    out, errors = tmp_path / "moods.csv", tmp_path / "errors.json"
    _disk_full_for(monkeypatch, errors)
    missing = tmp_path / "missing.mp3"
    result = _run("predict", CLIP, missing, "-f", "csv", "-o", out, "--errors", errors,
                  "--cache", tmp_path / "cache")  # fmt: skip
    assert result.exit_code == NOTHING, result.output
    assert [Path(p).name for p in pd.read_csv(out)["path"]] == ["macleod_hustle.mp3"]
    lines = result.output.splitlines()
    assert f"wrote 1 row(s) to {out}" in lines
    assert lines[-1] == f"error: {errors}: cannot write (No space left on device)"
    assert sum(str(errors) in line for line in lines) == 1  # one line names it
    assert any(line.startswith(f"error: {missing}") for line in lines)  # the input's own
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "moods.csv"]  # no temp file


def test_a_summary_that_cannot_be_written_keeps_the_segments_and_the_errors(tmp_path, monkeypatch):
    out, summary, errors = tmp_path / "seg.json", tmp_path / "summary.csv", tmp_path / "e.json"
    _disk_full_for(monkeypatch, summary)
    result = _run("predict", CLIP, "--segment", 15, "-f", "json", "-o", out, "--summary",
                  summary, "--errors", errors, "--cache", tmp_path / "cache")  # fmt: skip
    assert result.exit_code == NOTHING, result.output
    assert len(json.loads(out.read_text())["predictions"]) >= 2
    assert json.loads(errors.read_text()) == []
    assert not summary.exists()
    assert result.output.splitlines()[-1] == (
        f"error: {summary}: cannot write (No space left on device)"
    )


def test_a_page_keeps_its_html_when_its_errors_file_cannot_be_written(tmp_path, monkeypatch):
    pytest.importorskip("bokeh", reason="the page needs Bokeh (pip install '.[page]')")
    page, errors = tmp_path / "moods.html", tmp_path / "errors.json"
    _disk_full_for(monkeypatch, errors)
    result = _run("page", CLIP, "-o", page, "--errors", errors, "--cache", tmp_path / "cache")
    assert result.exit_code == NOTHING, result.output
    assert page.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert result.output.splitlines()[-1] == (
        f"error: {errors}: cannot write (No space left on device)"
    )


# ---- checked before the work ---------------------------------------------------------------


@pytest.fixture()
def blocked(tmp_path) -> Path:
    """A regular file: no output can be written under it, not even by root."""
    path = tmp_path / "not_a_folder"
    path.write_text("a file where a folder should be\n")
    return path


@pytest.fixture()
def predictions_csv(tmp_path) -> Path:
    path = tmp_path / "moods.csv"
    path.write_text(f"path,valence,arousal,quadrant,mood\n{CLIP},0.5,0.5,Q1,Uplifting\n")
    return path


AUDIO_COMMANDS = {  # the output given, under ``blocked``, then the rest of the command line
    "predict -o": ("x.csv", ["predict", CLIP, "-f", "csv", "-o"]),
    "predict --errors": ("e.json", ["predict", CLIP, "--errors"]),
    "predict --summary": ("s.csv", ["predict", CLIP, "--segment", 15, "--summary"]),
    "extract -o": ("f.parquet", ["extract", CLIP, "-o"]),
    "extract --errors": ("e.json", ["extract", CLIP, "-o", "{tmp}/f.parquet", "--errors"]),
    "tag --errors": ("e.json", ["tag", CLIP, "--dry-run", "--errors"]),
    "page -o": ("p.html", ["page", CLIP, "-o"]),
    "page --errors": ("e.json", ["page", CLIP, "-o", "{tmp}/p.html", "--errors"]),
}


@pytest.mark.parametrize("command", AUDIO_COMMANDS.values(), ids=AUDIO_COMMANDS.keys())
def test_an_output_that_cannot_be_created_stops_a_command_before_any_audio_is_read(
    command, blocked, tmp_path
):
    name, args = command
    if args[0] == "page":
        pytest.importorskip("bokeh", reason="the page needs Bokeh (pip install '.[page]')")
    target = blocked / name
    cache = tmp_path / "cache"
    args = [str(a).format(tmp=tmp_path) for a in args]
    result = _run(*args, target, "--cache", cache)
    assert result.exit_code == NOTHING, result.output
    assert result.output == f"error: {target}: cannot write (Not a directory)\n"
    assert not cache.exists()  # no clip was decoded, nothing was cached


def test_every_output_that_cannot_be_created_is_named(blocked, tmp_path):
    outputs = [blocked / "x.csv", blocked / "e.json", blocked / "s.csv"]
    result = _run("predict", CLIP, "-o", outputs[0], "--errors", outputs[1], "--segment", 15,
                  "--summary", outputs[2], "--cache", tmp_path / "cache")  # fmt: skip
    assert result.exit_code == NOTHING
    assert sorted(result.output.splitlines()) == sorted(
        f"error: {path}: cannot write (Not a directory)" for path in outputs
    )


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("x.m3u8", ["playlist", "{csv}", "-o"]),
        ("p.png", ["plot", "plane", "{csv}", "-o"]),
        ("t.png", ["plot", "timeline", "{csv}", "-o"]),
        ("c.toml", ["studies", "export", "--storage", "sqlite:///{tmp}/s.db", "-o"]),
        ("plots", ["studies", "show", "--storage", "sqlite:///{tmp}/s.db", "--plots"]),
    ],
    ids=["playlist", "plot plane", "plot timeline", "studies export", "studies show"],
)
def test_commands_on_tables_and_studies_check_their_output_first(
    name, args, blocked, predictions_csv, tmp_path
):
    target = blocked / name
    args = [a.format(csv=predictions_csv, tmp=tmp_path) for a in args]
    result = _run(*args, target)
    assert result.exit_code == NOTHING, result.output
    assert result.output == f"error: {target}: cannot write (Not a directory)\n"


@pytest.mark.parametrize(
    ("option", "name"),
    [("--report", "report.json"), ("--plots", "figures")],
    ids=["evaluate --report", "evaluate --plots"],
)
def test_evaluate_checks_its_report_and_plots_before_extracting(
    option, name, corpus, blocked, tmp_path
):
    target, cache = blocked / name, tmp_path / "cache"
    result = _run(
        "evaluate", "--labels", corpus.labels_csv, "--audio", corpus.audio,
        "--labels-spec", corpus.spec, "--config", corpus.config, "--cache", cache, option, target,
    )  # fmt: skip
    assert result.exit_code == NOTHING, result.output
    assert result.output == f"error: {target}: cannot write (Not a directory)\n"
    assert not cache.exists()


def test_train_checks_its_bundle_folder_before_extracting(corpus, blocked, tmp_path):
    cache = tmp_path / "cache"
    args = ["train", "--labels", corpus.labels_csv, "--audio", corpus.audio, "--labels-spec",
            corpus.spec, "--config", corpus.config, "--cache", cache, "--no-cv"]  # fmt: skip
    result = _run(*args, "-o", blocked / "model")
    assert result.exit_code == NOTHING, result.output
    assert result.output == f"error: {blocked / 'model'}: cannot write (Not a directory)\n"
    result = _run(*args, "-o", blocked)  # a file where the bundle folder would go
    assert result.exit_code == NOTHING, result.output
    assert result.output == f"error: {blocked}: is a file; give a folder to write into\n"
    assert blocked.read_text() == "a file where a folder should be\n"
    assert not cache.exists()


def test_a_special_file_is_refused_not_replaced(tmp_path):
    """Outputs are renamed into place: over a FIFO (or, for root, /dev/null) that would put a
    regular file where the special one was. Refused before any work."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    result = _run("predict", CLIP, "-f", "csv", "-o", fifo, "--cache", tmp_path / "cache")
    assert result.exit_code == NOTHING, result.output
    assert result.output.startswith(f"error: {fifo}: not a regular file")
    assert fifo.is_fifo()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_folder_is_refused_before_the_work(tmp_path):
    folder = tmp_path / "read_only"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        result = _run("predict", CLIP, "-o", folder / "x.csv", "--cache", tmp_path / "cache")
    finally:
        folder.chmod(0o755)
    assert result.exit_code == NOTHING, result.output
    assert result.output == f"error: {folder / 'x.csv'}: cannot write (Permission denied)\n"


def test_outputs_in_folders_yet_to_be_made_pass_the_check_and_are_written(tmp_path):
    out = tmp_path / "new" / "deeper" / "moods.csv"
    shutil.rmtree(tmp_path / "new", ignore_errors=True)
    result = _run("predict", CLIP, "-f", "csv", "-o", out, "--cache", tmp_path / "cache")
    assert result.exit_code == 0, result.output
    assert len(pd.read_csv(out)) == 1
    assert [p.name for p in out.parent.iterdir()] == ["moods.csv"]  # the probe is gone
