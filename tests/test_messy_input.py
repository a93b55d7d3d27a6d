"""A messy music folder: every broken file named with its reason, every odd-but-valid file used."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from typer.testing import CliRunner

from va_mood.api import load_corpus
from va_mood.audio.decode import load
from va_mood.cli import EXIT_NOTHING, EXIT_PARTIAL, app
from va_mood.config import LabelSpec, load_config

EXAMPLE = Path(__file__).resolve().parents[1] / "data" / "examples" / "macleod_hustle.mp3"
SR = 22050


def _tone(seconds: float, sr: int = SR, channels: int = 1) -> np.ndarray:
    """``seconds`` of music (the example clip from 5 s on), so that only the file is odd."""
    y = load(EXAMPLE, sr=sr)[0][5 * sr : 5 * sr + int(seconds * sr)] * 0.8
    return np.repeat(y[:, None], channels, axis=1) if channels > 1 else y


def _odd_but_valid(folder: Path) -> list[str]:
    """Files that must work and give finite features."""
    files = {
        "silence.wav": (np.zeros(2 * SR), SR, "PCM_16"),
        "half_second.wav": (_tone(0.5), SR, "PCM_16"),
        "dc_offset.wav": (_tone(2) * 0.5 + 0.4, SR, "PCM_16"),
        "clipped_noise.wav": (
            np.clip(np.random.default_rng(0).normal(0, 3, 2 * SR), -1, 1), SR, "PCM_16"
        ),
        "voice_memo_8k.wav": (_tone(2, 8000), 8000, "PCM_16"),
        "hires_96k.flac": (_tone(2, 96000), 96000, "PCM_24"),
        "stereo.ogg": (_tone(2, 44100, 2), 44100, "VORBIS"),
        "surround_5_1.wav": (_tone(2, 48000, 6), 48000, "FLOAT"),
        "pcm24.wav": (_tone(2), SR, "PCM_24"),
    }  # fmt: skip
    for name, (y, sr, subtype) in files.items():
        sf.write(folder / name, y, sr, subtype=subtype)
    return sorted(files)


def _broken(folder: Path) -> dict[str, str]:
    """Files that must each give a one-line reason: name -> a word the reason contains."""
    (folder / "zero.mp3").write_bytes(b"")
    (folder / "notes.mp3").write_text("these are not sounds\n")
    (folder / "cover.mp3").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    (folder / "noise.mp3").write_bytes(np.random.default_rng(1).bytes(40_000))
    data = EXAMPLE.read_bytes()
    (folder / "truncated.mp3").write_bytes(data[: len(data) // 10])
    sf.write(folder / "header.wav", _tone(1), SR)
    raw = bytearray((folder / "header.wav").read_bytes())
    raw[20:36] = b"\xff" * 16
    (folder / "header.wav").write_bytes(bytes(raw))
    sf.write(folder / "tiny.wav", _tone(0.1), SR)
    return {
        "zero.mp3": "empty",
        "notes.mp3": "not a recognised audio format",
        "cover.mp3": "not a recognised audio format",
        "noise.mp3": "not a recognised audio format",
        "truncated.mp3": "truncated",
        "header.wav": "cannot decode",
        "tiny.wav": "too short",
    }


def test_messy_folder(tmp_path):
    folder = tmp_path / "music"
    folder.mkdir()
    shutil.copy(EXAMPLE, folder / "good.mp3")
    valid = _odd_but_valid(folder)
    broken = _broken(folder)
    (folder / "empty_subfolder").mkdir()
    missing = tmp_path / "missing.mp3"
    out, errors = tmp_path / "out.csv", tmp_path / "errors.json"
    result = CliRunner().invoke(
        app,
        ["predict", str(folder), str(missing), "-f", "csv", "-o", str(out),
         "--errors", str(errors), "--no-cache"],
    )  # fmt: skip
    assert result.exit_code == EXIT_PARTIAL, result.output
    assert "Traceback" not in result.output
    table = pd.read_csv(out)
    assert sorted(Path(p).name for p in table["path"]) == sorted(["good.mp3", *valid])
    no_music = table["path"].str.endswith(("silence.wav", "clipped_noise.wav")).to_numpy()
    assert np.isfinite(table.loc[~no_music, ["valence", "arousal"]].to_numpy()).all()
    assert table.loc[no_music, "mood"].tolist() == ["uncertain"] * 2  # silence, noise: no mood
    assert table.loc[no_music, ["valence", "arousal"]].isna().all(axis=None)
    assert "warning: " in result.output and "voice_memo_8k.wav: band-limited" in result.output
    assert "clipped_noise.wav: it sounds like noise" in result.output
    reported = {Path(e["path"]).name: e["error"] for e in json.loads(errors.read_text())}
    for name, word in broken.items():
        assert word in reported[name], (name, reported[name])
        line = [ln for ln in result.output.splitlines() if name in ln]
        assert len(line) == 1 and line[0].startswith("error: ")
    assert "no such file" in reported["missing.mp3"]


def test_folder_with_no_audio(tmp_path):
    (tmp_path / "readme.txt").write_text("nothing to hear")
    result = CliRunner().invoke(app, ["predict", str(tmp_path), "--no-cache"])
    assert result.exit_code == EXIT_NOTHING
    assert "folder holds no audio files" in result.output
    assert "Traceback" not in result.output


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their permissions")
def test_unreadable_file(tmp_path):
    song = Path(shutil.copy(EXAMPLE, tmp_path / "locked.mp3"))
    song.chmod(0)
    result = CliRunner().invoke(app, ["predict", str(song), "--no-cache"])
    assert result.exit_code == EXIT_NOTHING
    assert "permission denied" in result.output


def test_training_drops_bad_label_rows_and_says_so(corpus):
    rows = pd.read_csv(corpus.labels_csv, dtype=str)
    bad = pd.DataFrame(
        [
            {**rows.iloc[0].to_dict(), "song_id": "dup"},
            {**rows.iloc[1].to_dict(), "song_id": "dup"},
            {**rows.iloc[2].to_dict(), "song_id": "words", "valence": "high"},
            {**rows.iloc[3].to_dict(), "song_id": "offscale", "arousal": "11"},
            {**rows.iloc[4].to_dict(), "song_id": "odd", "quadrant": "Q7"},
            {**rows.iloc[5].to_dict(), "song_id": "no_audio"},
        ]
    )
    labels = corpus.root / "messy_labels.csv"
    pd.concat([rows, bad]).to_csv(labels, index=False)
    spec = LabelSpec(audio_pattern="{id}.wav")
    config = load_config(corpus.config)
    features, table, problems = load_corpus(
        labels, corpus.audio, config=config, spec=spec, cache_dir=corpus.cache
    )
    assert len(table) == len(rows)
    text = "\n".join(problems)
    for word in ("duplicate id", "non-numeric", "outside the declared scale", "unknown quadrant"):
        assert word in text
    assert "dropped 5 of 30 row(s)" in text
    assert "no audio for labelled id 'no_audio'" in text


def test_unreadable_file_reported_even_as_root(tmp_path, monkeypatch):
    """Root reads everything, so the refusal is simulated where the loader asks the OS."""
    from va_mood.audio import decode as audio

    song = Path(shutil.copy(EXAMPLE, tmp_path / "locked.mp3"))
    monkeypatch.setattr(audio.os, "access", lambda path, mode: False)
    result = CliRunner().invoke(app, ["predict", str(song), "--no-cache"])
    assert result.exit_code == EXIT_NOTHING
    assert f"{song}: permission denied" in result.output
