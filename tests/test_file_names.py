"""File names as Linux has them: newlines, bytes that are not UTF-8. Every output keeps them,
and every message stays on one line."""

from __future__ import annotations

import io
import json
import os
import shutil
from pathlib import Path
from urllib.parse import unquote_to_bytes, urlsplit

import pandas as pd
import pytest
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


def _opened(entry: str) -> bytes:
    """What a player or browser opens for a path or ``file://`` URI written in an output."""
    if entry.startswith("file://"):
        return Path(os.fsdecode(unquote_to_bytes(urlsplit(entry).path))).read_bytes()
    return Path(entry).read_bytes()


def _strict(path: Path) -> str:
    """The file as UTF-8, refused if it is not valid UTF-8 (a lone surrogate included)."""
    text = path.read_bytes().decode("utf-8")
    assert "\\udc" not in text  # no surrogate escaped into JSON either
    return text


@pytest.fixture()
def latin1_song(tmp_path) -> Path:
    """A clip whose name holds a byte that is not UTF-8 (Latin-1 é), as Linux allows."""
    song = Path(os.fsdecode(bytes(tmp_path) + b"/caf\xe9 #1.mp3"))
    shutil.copy(CLIP, song)
    return song


def test_outputs_are_utf8_and_a_name_that_is_not_is_written_as_a_file_uri(latin1_song, tmp_path):
    from va_mood.outputs.scales import path_from_text

    song, cache, out = latin1_song, tmp_path / "cache", tmp_path / "moods.csv"
    bad = Path(os.fsdecode(bytes(tmp_path) + b"/broken \xff.mp3"))
    bad.write_bytes(b"not audio")
    errors, summary = tmp_path / "errors.json", tmp_path / "summary.json"
    for _ in range(2):  # decoded, then from the cache
        result = _run("predict", song, bad, "-f", "csv", "-o", out, "--cache", cache,
                      "--errors", errors)  # fmt: skip
        assert result.exit_code == 1, result.output
        written = pd.read_csv(io.StringIO(_strict(out)))["path"].tolist()
        assert written == [song.absolute().as_uri()]  # file:///.../caf%E9%20%231.mp3
        assert path_from_text(written[0]) == str(song) and _opened(written[0]) == CLIP.read_bytes()
    [failed] = json.loads(_strict(errors))
    assert path_from_text(failed["path"]) == str(bad) and "broken \ufffd.mp3" in failed["error"]
    result = _run("predict", song, "-f", "json", "--cache", cache)
    [row] = json.loads(result.stdout_bytes.decode("utf-8"))["predictions"]
    assert path_from_text(row["path"]) == str(song)
    seg = tmp_path / "seg.json"
    result = _run("predict", song, "--segment", 15, "-f", "json", "-o", seg, "--summary",
                  summary, "--cache", cache)  # fmt: skip
    assert result.exit_code == 0, result.output
    for path in (seg, summary):
        rows = json.loads(_strict(path))["summary"]
        assert {path_from_text(r["path"]) for r in rows} == {str(song)}
    table = _run("predict", song, "--cache", cache)
    assert "caf\\udce9 #1.mp3" in table.output  # the terminal: an escape, on one line


@pytest.mark.parametrize("absolute", [True, False], ids=["absolute", "relative"])
def test_a_playlist_of_a_name_that_is_not_utf8_is_utf8_and_opens_the_file(
    latin1_song, tmp_path, absolute
):
    out, cache = tmp_path / "moods.csv", tmp_path / "cache"
    plain = Path(shutil.copy(CLIP, tmp_path / "plain.mp3"))
    result = _run("predict", latin1_song, plain, "-f", "csv", "-o", out, "--cache", cache)
    assert result.exit_code == 0, result.output
    playlist = tmp_path / "lists" / "all.m3u8"
    result = _run("playlist", out, "-o", playlist, *(["--absolute"] if absolute else []))
    assert result.exit_code == 0, result.output
    entries = [e for e in _strict(playlist).splitlines() if not e.startswith("#")]
    assert len(entries) == 2
    assert entries[0].startswith("file:///")  # the name that is not UTF-8, whatever the mode
    assert entries[1] == (str(plain) if absolute else "../plain.mp3")
    os.chdir(playlist.parent)  # a player resolves relative entries from the playlist's folder
    try:
        assert all(_opened(e) == CLIP.read_bytes() for e in entries)
    finally:
        os.chdir(tmp_path)


def test_predictions_written_as_raw_bytes_before_still_read(latin1_song, tmp_path):
    """Files written before names were encoded held the bytes themselves: still read."""
    from va_mood.outputs.playlist import read_predictions

    old = tmp_path / "old.csv"
    old.write_bytes(b"path,valence,arousal,quadrant\n" + bytes(latin1_song) + b",0.5,0.5,Q1\n")
    assert read_predictions(old)["path"].tolist() == [str(latin1_song)]


def test_the_page_of_a_name_that_is_not_utf8_is_utf8_and_plays_the_file(latin1_song, tmp_path):
    pytest.importorskip("bokeh", reason="the page needs Bokeh (pip install '.[page]')")
    page = tmp_path / "moods.html"
    result = _run("page", latin1_song, "--segment", 15, "-o", page, "--no-tags", "--cache",
                  tmp_path / "cache")  # fmt: skip
    assert result.exit_code == 0, result.output
    html = _strict(page)
    data = json.loads(html.split('id="va-mood-data">', 1)[1].split("</script>", 1)[0])
    assert data["title"] == ["caf\ufffd #1"] and data["path"][0].endswith("caf\ufffd #1.mp3")
    assert _opened(data["url"][0]) == CLIP.read_bytes()  # the play link
    assert _opened(data["entry"][0]) == CLIP.read_bytes()  # the exported playlist's line
    assert len(data["seg"]["0"]) >= 2  # its windows found it by its real name


def test_files_of_the_same_name_show_the_folders_that_tell_them_apart(tmp_path):
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        shutil.copy(CLIP, tmp_path / folder / "track01.mp3")
    shutil.copy(CLIP, tmp_path / "a" / "track02.mp3")
    result = _run("predict", tmp_path, "--cache", tmp_path / "cache")
    assert result.exit_code == 0, result.output
    names = [line.split()[0] for line in result.stdout.splitlines()[1:] if line.strip()]
    assert sorted(names) == ["a/track01.mp3", "b/track01.mp3", "track02.mp3"]
