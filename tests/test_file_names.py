"""File names as Linux has them: newlines, bytes that are not UTF-8. Every output keeps them,
and every message stays on one line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from va_mood.cli import app

CLIP = Path(__file__).resolve().parents[1] / "data" / "examples" / "macleod_hustle.mp3"


def _run(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def test_a_newline_in_a_name_keeps_each_message_on_one_line(tmp_path):
    good = Path(shutil.copy(CLIP, tmp_path / "new\nline.mp3"))
    bad = tmp_path / "bad\nname.mp3"
    bad.write_bytes(b"not audio")
    out = tmp_path / "moods.csv"
    result = _run("predict", tmp_path, "-f", "csv", "-o", out, "--no-cache")
    assert result.exit_code == 1, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "bad\\nname.mp3: cannot decode audio" in errors[0]
    assert not any(line.startswith("name.mp3") for line in result.output.splitlines())
    assert pd.read_csv(out)["path"].tolist() == [str(good)]  # quoted in the CSV, read back
    table = _run("predict", good, "--no-cache")
    assert "new\\nline.mp3" in table.output


def test_a_name_that_is_not_utf8_is_read_cached_and_written_as_its_own_bytes(tmp_path):
    import json
    import os

    song = Path(os.fsdecode(bytes(tmp_path) + b"/caf\xe9.mp3"))
    shutil.copy(CLIP, song)
    cache, out = tmp_path / "cache", tmp_path / "moods.csv"
    for _ in range(2):  # decoded, then from the cache
        result = _run("predict", song, "-f", "csv", "-o", out, "--cache", cache)
        assert result.exit_code == 0, result.output
        assert b"/caf\xe9.mp3," in out.read_bytes()
    result = _run("predict", song, "-f", "json", "--cache", cache)
    assert json.loads(result.stdout)["predictions"][0]["path"] == str(song)
    table = _run("predict", song, "--cache", cache)
    assert "caf\\udce9.mp3" in table.output
    playlist = tmp_path / "all.m3u8"
    result = _run("playlist", out, "-o", playlist, "--absolute")
    assert result.exit_code == 0, result.output
    assert bytes(song) in playlist.read_bytes().splitlines()
    result = _run("extract", song, "-o", tmp_path / "f.parquet", "--cache", cache)
    assert result.exit_code == 0, result.output
    result = _run("tag", song, "--dry-run", "--cache", cache)
    assert result.exit_code == 0 and "would write TMOO=" in result.output


def test_the_page_takes_audio_whose_name_is_not_utf8(tmp_path):
    import os

    import pytest

    pytest.importorskip("bokeh", reason="the page needs Bokeh (pip install '.[page]')")
    song = Path(os.fsdecode(bytes(tmp_path) + b"/caf\xe9.mp3"))
    shutil.copy(CLIP, song)
    page = tmp_path / "moods.html"
    result = _run("page", song, "-o", page, "--cache", tmp_path / "cache")
    assert result.exit_code == 0, result.output
    assert "caf" in page.read_text(encoding="utf-8")
