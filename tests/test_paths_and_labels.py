"""Labels files and folders that point somewhere odd: a clear line, never silence or a crash."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from typer.testing import CliRunner

from va_mood.audio.decode import load
from va_mood.audio.discover import find_audio
from va_mood.cli import EXIT_NOTHING, app
from va_mood.config import LabelSpec
from va_mood.errors import AudioError, LabelsError
from va_mood.labels.files import load_labels, match_audio

SR = 22050


def _tone(path: Path, seconds: float = 1.0) -> Path:
    sf.write(path, 0.3 * np.sin(np.arange(int(seconds * SR)) / 5.0), SR)
    return path


def test_header_only_labels_file(tmp_path):
    labels = tmp_path / "labels.csv"
    labels.write_text("song_id,valence,arousal,quadrant,artist\n")
    with pytest.raises(LabelsError, match=r"labels\.csv: holds a header but no labelled rows"):
        load_labels(labels)
    with pytest.raises(LabelsError, match="no labelled rows"):
        load_labels(labels, drop_bad_rows=True)


def test_cli_header_only_labels_is_one_line(tmp_path, corpus):
    labels = tmp_path / "labels.csv"
    labels.write_text("song_id,valence,arousal,quadrant,artist\n")
    result = CliRunner().invoke(
        app, ["evaluate", "--labels", str(labels), "--audio", str(corpus.audio), "--no-cache"]
    )
    assert result.exit_code == EXIT_NOTHING
    assert "IndexError" not in result.output and "Traceback" not in result.output
    assert "no labelled rows" in result.stderr


@pytest.mark.parametrize("bad_id", ["../outside/x", "sub/../../outside/x", "/etc/x"])
def test_ids_escaping_the_audio_folder_are_refused(tmp_path, bad_id):
    audio = tmp_path / "audio"
    (audio / "sub").mkdir(parents=True)
    (tmp_path / "outside").mkdir()
    _tone(tmp_path / "outside" / "x.wav")
    _tone(audio / "ok.wav")
    _tone(audio / "sub" / "deep.wav")
    labels = pd.DataFrame(
        {"valence": [0.5, 0.5, 0.5], "arousal": [0.5] * 3, "quadrant": ["Q1"] * 3},
        index=pd.Index(["ok", "sub/deep", bad_id], name="id"),
    )
    matched, problems = match_audio(labels, audio, LabelSpec(audio_pattern="{id}.wav"))
    assert list(matched.index) == ["ok", "sub/deep"]
    assert problems == [f"{audio}: labelled id {bad_id!r} names a file outside the audio folder; "
                        "refused"]  # fmt: skip


def test_folder_search_warns_about_what_it_skips(tmp_path):
    music = tmp_path / "music"
    music.mkdir()
    _tone(music / "song.wav")
    (music / "album.mp3").mkdir()  # a folder named like a file
    _tone(music / "album.mp3" / "track.wav")
    (music / "gone.mp3").symlink_to(tmp_path / "nowhere.mp3")  # dangling
    (music / "loop.wav").symlink_to(music / "loop.wav")  # a link to itself
    (music / "again").symlink_to(music)  # a folder inside itself
    warnings: list[str] = []
    files, problems = find_audio([music], on_warning=warnings.append)
    assert files == [music / "album.mp3" / "track.wav", music / "song.wav"]
    assert problems == {}
    assert sorted(warnings) == sorted(
        [
            f"{music / 'album.mp3'}: a folder named like an audio file; searched as a folder",
            f"{music / 'gone.mp3'}: dangling symbolic link (to {tmp_path / 'nowhere.mp3'}, "
            "which does not exist), skipped",
            f"{music / 'loop.wav'}: symbolic link loop, skipped",
            f"{music / 'again'}: symbolic link loop (a folder inside itself), skipped",
        ]
    )


def test_symlinked_folders_are_searched(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    _tone(elsewhere / "a.wav")
    music = tmp_path / "music"
    music.mkdir()
    (music / "linked").symlink_to(elsewhere)
    files, _ = find_audio([music])
    assert files == [music / "linked" / "a.wav"]


def test_link_loop_named_on_the_command_line(tmp_path):
    loop = tmp_path / "loop.mp3"
    loop.symlink_to(loop)
    dangling = tmp_path / "dangling.mp3"
    dangling.symlink_to(tmp_path / "missing.mp3")
    with pytest.raises(AudioError, match=r"loop\.mp3: symbolic link loop$"):
        load(loop)
    with pytest.raises(AudioError, match=r"dangling\.mp3: dangling symbolic link"):
        load(dangling)
    good = _tone(tmp_path / "good.wav")
    result = CliRunner().invoke(
        app, ["predict", str(loop), str(good), "--no-cache", "-j", "1", "--format", "csv"]
    )
    assert result.exit_code == 1
    assert f"error: {loop}: symbolic link loop\n" in result.stderr
    assert "no such file" not in result.stderr


def test_cli_prints_warnings_for_skipped_entries(tmp_path):
    music = tmp_path / "music"
    music.mkdir()
    _tone(music / "song.wav")
    os.symlink(tmp_path / "nowhere.ogg", music / "gone.ogg")
    result = CliRunner().invoke(app, ["predict", str(music), "--no-cache", "--format", "csv"])
    assert result.exit_code == 0
    assert f"warning: {music / 'gone.ogg'}: dangling symbolic link" in result.stderr
