"""Playlists by mood from prediction files: reading CSV/JSON, choosing, sorting, writing M3U8."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest

from va_mood.errors import ParameterError
from va_mood.outputs.playlist import make_playlist, mood_confidence, read_predictions, write_m3u8
from va_mood.outputs.scales import to_scale

PREDICTIONS = pd.DataFrame(
    {
        "valence": [0.2, 0.6, -0.5, 0.9, 0.05, -0.3],
        "arousal": [-0.3, -0.1, 0.8, -0.7, -0.95, -0.4],
        "quadrant": ["Q4", "Q4", "Q2", "Q4", "Q4", "Q3"],
        "mood": ["Calm", "Calm", "Aggressive", "Calm", "Calm", "Melancholic"],
        "valence_confidence": [0.6, 0.8, 0.75, 0.95, 0.525, 0.65],
        "arousal_confidence": [0.65, 0.55, 0.9, 0.85, 0.975, 0.7],
    },
    index=pd.Index(
        ["music/a.mp3", "music/b.mp3", "music/c.mp3", "music/d é.mp3", "music/e.mp3", "f.ogg"],
        name="path",
    ),
)


def _write(tmp_path: Path, scale: str, fmt: str) -> Path:
    """A predictions file as `va-mood predict --scale SCALE --format FMT` writes it."""
    table = to_scale(PREDICTIONS, scale).reset_index()
    path = tmp_path / f"predictions.{fmt}"
    if fmt == "csv":
        path.write_text(table.to_csv(index=False, float_format="%.4f"))
    else:
        records = table.to_dict(orient="records")
        path.write_text(json.dumps({"model": "default", "scale": scale, "predictions": records}))
    return path


@pytest.mark.parametrize("fmt", ["csv", "json"])
@pytest.mark.parametrize("scale", ["plane", "unit", "nine"])
def test_same_playlist_whatever_the_scale_and_format(tmp_path: Path, scale: str, fmt: str) -> None:
    table = read_predictions(_write(tmp_path, scale, fmt))
    assert "arousal" in table.columns and "energy" not in table.columns
    assert make_playlist(table, mood="Calm") == [
        "music/a.mp3",
        "music/b.mp3",
        "music/d é.mp3",
        "music/e.mp3",
    ]
    assert make_playlist(table, mood="calm", sort_by="-valence") == [
        "music/d é.mp3",
        "music/b.mp3",
        "music/a.mp3",
        "music/e.mp3",
    ]
    assert make_playlist(table, mood="Q4", sort_by="energy") == [
        "music/e.mp3",
        "music/d é.mp3",
        "music/a.mp3",
        "music/b.mp3",
    ]
    assert make_playlist(table, mood="Calm", min_confidence=0.5) == [
        "music/d é.mp3",  # 0.95 * 0.85
        "music/e.mp3",  # 0.525 * 0.975
    ]
    if fmt == "json" or scale == "unit":
        assert table.attrs["scale"] == scale


def test_every_mood_and_confidence_sort() -> None:
    assert make_playlist(PREDICTIONS) == list(PREDICTIONS.index)  # index holds the paths
    assert make_playlist(PREDICTIONS, sort_by="-confidence")[:2] == ["music/d é.mp3", "music/c.mp3"]
    assert make_playlist(PREDICTIONS, mood="Uplifting") == []
    assert make_playlist(PREDICTIONS, mood="Melancholic", sort_by="arousal") == ["f.ogg"]


def test_confidence_is_the_product_of_the_heads() -> None:
    assert mood_confidence(PREDICTIONS.reset_index()).round(4).tolist() == [
        0.39,
        0.44,
        0.675,
        0.8075,
        0.5119,
        0.455,
    ]


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ParameterError, match="unknown quadrant 'Happy'"):
        make_playlist(PREDICTIONS, mood="Happy")
    with pytest.raises(ParameterError, match="min_confidence must be in 0..1, got 1.5"):
        make_playlist(PREDICTIONS, min_confidence=1.5)
    with pytest.raises(ParameterError, match="cannot sort by 'tempo'; allowed: valence, energy"):
        make_playlist(PREDICTIONS, sort_by="tempo")
    bare = PREDICTIONS[["mood"]]
    with pytest.raises(ParameterError, match="lack .*valence_confidence"):
        make_playlist(bare, min_confidence=0.2)
    with pytest.raises(ParameterError, match="no 'valence' column to sort by"):
        make_playlist(bare, sort_by="valence")


def test_bad_prediction_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match="no such predictions file"):
        read_predictions(tmp_path / "missing.csv")
    other = tmp_path / "labels.csv"
    other.write_text("song_id,valence\n1,5\n")
    with pytest.raises(ParameterError, match=r"need a 'path' column and a 'mood' or 'quadrant'"):
        read_predictions(other)
    broken = tmp_path / "broken.json"
    broken.write_text('{"predictions": [')
    with pytest.raises(ParameterError, match="broken.json: not valid JSON"):
        read_predictions(broken)
    wrong = tmp_path / "wrong.json"
    wrong.write_text('{"predictions": 3}')
    with pytest.raises(ParameterError, match="expected the JSON of `va-mood predict"):
        read_predictions(wrong)
    unknown = tmp_path / "unknown.csv"
    unknown.write_text("path,mood\na.mp3,Happy\n")
    with pytest.raises(ParameterError, match="unknown quadrant 'Happy'"):
        read_predictions(unknown)


def test_duplicates_keep_the_first_row(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("path,quadrant\na.mp3,Q1\nb.mp3,Q4\na.mp3,Q3\n")
    table = read_predictions(path)
    assert table["path"].tolist() == ["a.mp3", "b.mp3"]
    assert table["mood"].tolist() == ["Uplifting", "Calm"]


def test_m3u8_paths_are_relative_to_the_playlist(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    out = write_m3u8(["music/a.mp3", "music/d é.mp3", str(tmp_path / "f.ogg")], "lists/calm.m3u8")
    assert out == Path("lists/calm.m3u8")
    text = (tmp_path / "lists" / "calm.m3u8").read_text(encoding="utf-8")
    assert text == "#EXTM3U\n../music/a.mp3\n../music/d é.mp3\n../f.ogg\n"
    write_m3u8(["music/a.mp3"], "lists/calm.m3u8", absolute=True)
    text = (tmp_path / "lists" / "calm.m3u8").read_text(encoding="utf-8")
    assert text == f"#EXTM3U\n{tmp_path / 'music' / 'a.mp3'}\n"
    assert sorted(os.listdir(tmp_path / "lists")) == ["calm.m3u8"]  # no temporary left


def test_empty_playlist_is_a_valid_file(tmp_path: Path) -> None:
    out = write_m3u8([], tmp_path / "none.m3u8")
    assert out.read_text() == "#EXTM3U\n"


def test_a_name_that_is_not_utf8_is_a_file_uri_in_the_playlist_and_read_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from urllib.parse import unquote_to_bytes, urlsplit

    from va_mood.outputs.scales import path_from_text, path_text

    monkeypatch.chdir(tmp_path)
    name = os.fsdecode(b"music/caf\xe9 50%,#1.mp3")  # Latin-1 é, and characters URIs escape
    (tmp_path / "music").mkdir()
    Path(name).write_bytes(b"the song")
    written = path_text(name)
    assert written == (tmp_path / name).as_uri() and written.endswith("caf%E9%2050%25%2C%231.mp3")
    assert path_from_text(written) == str(tmp_path / name)
    assert path_text("music/d é.mp3") == "music/d é.mp3"  # UTF-8 names as they are
    for absolute in (True, False):
        out = write_m3u8([name, "music/d é.mp3"], "lists/x.m3u8", absolute=absolute)
        first, second = out.read_bytes().decode("utf-8").splitlines()[1:]
        assert first == written  # absolute whatever the mode: a URI is never relative here
        assert second == (str(tmp_path / "music/d é.mp3") if absolute else "../music/d é.mp3")
        opened = Path(os.fsdecode(unquote_to_bytes(urlsplit(first).path))).read_bytes()
        assert opened == b"the song"
    predictions = tmp_path / "p.csv"
    predictions.write_text(f"path,quadrant\n{written},Q1\nmusic/d é.mp3,Q4\n", encoding="utf-8")
    assert read_predictions(predictions)["path"].tolist() == [str(tmp_path / name), "music/d é.mp3"]
