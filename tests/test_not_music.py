"""What is not music the model can judge: silence gets no mood, band-limited audio a warning."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
import soxr
from typer.testing import CliRunner

from va_mood.audio.decode import load
from va_mood.cli import EXIT_OK, app
from va_mood.config import AnalysisConfig
from va_mood.features import extract_clip
from va_mood.features.quality import NARROW_HZ, QUALITY_GROUP, SILENT_DB, UNCERTAIN, apply_checks

SR = 22050
EXAMPLE = Path(__file__).resolve().parents[1] / "data" / "examples" / "macleod_hustle.mp3"


def _quality(y: np.ndarray) -> np.ndarray:
    return extract_clip(y.astype(np.float32), SR, config=AnalysisConfig(), groups=[QUALITY_GROUP])


def test_quality_group_measures_level_and_bandwidth():
    t = np.arange(3 * SR) / SR
    level, bandwidth = _quality(0.1 * np.sin(2 * np.pi * 440 * t))
    assert -24 < level < -22  # a -23 dBFS-RMS sine, as decoded: normalisation divided out
    assert bandwidth < 1000
    rng = np.random.default_rng(0)
    noise = rng.standard_normal(3 * SR) * 0.1
    assert _quality(noise)[1] > 10_000
    assert _quality(noise * 10 ** (-70 / 20))[0] < SILENT_DB
    assert _quality(np.zeros(3 * SR))[0] < SILENT_DB


def test_apply_checks_on_a_table():
    index = pd.Index(["music", "silence", "phone"], name="path")
    table = pd.DataFrame(
        {
            "valence": [0.3, 0.6, -0.5],
            "arousal": [0.2, 0.6, 0.1],
            "quadrant": ["Q1", "Q1", "Q2"],
            "mood": ["Uplifting", "Uplifting", "Aggressive"],
            "valence_confidence": [0.9, 0.8, 0.9],
            "arousal_confidence": [0.7, 0.8, 0.6],
        },
        index=index,
    )
    quality = pd.DataFrame(
        {
            f"{QUALITY_GROUP}_level.p90": [-15.0, -90.0, -20.0],
            f"{QUALITY_GROUP}_bandwidth.p90": [10_000.0, 0.0, NARROW_HZ - 1700],
        },
        index=index,
    )
    out, warnings = apply_checks(table, quality)
    assert out.loc["music"].equals(table.loc["music"])
    assert out.loc["silence", "mood"] == UNCERTAIN and out.loc["silence", "quadrant"] == ""
    assert out.loc["silence", ["valence", "arousal", "valence_confidence"]].isna().all()
    assert out.loc["phone", "valence_confidence"] == pytest.approx(0.7)
    assert out.loc["phone", "arousal_confidence"] == pytest.approx(0.55)
    assert out.loc["phone", "mood"] == "Aggressive"
    assert set(warnings) == {"silence", "phone"}
    assert "silent" in warnings["silence"] and "band-limited" in warnings["phone"]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("not_music")
    y, _ = load(EXAMPLE, sr=SR, max_duration=12.0)
    rng = np.random.default_rng(1)
    files = {
        "silence": (np.zeros(8 * SR), SR),
        "hiss": (rng.standard_normal(8 * SR) * 10 ** (-75 / 20), SR),
        "phone": (soxr.resample(y, SR, 8000), 8000),
        "music": (y, SR),
        "half": (np.concatenate([y[: 8 * SR], np.zeros(8 * SR, np.float32)]), SR),
    }
    out = {}
    for name, (signal, rate) in files.items():
        out[name] = folder / f"{name}.wav"
        sf.write(out[name], signal, rate, subtype="PCM_24")
    return out


def test_cli_silence_and_band_limited_audio(inputs, tmp_path):
    files = [str(inputs[n]) for n in ("silence", "hiss", "phone", "music")]
    output = tmp_path / "out.json"
    result = CliRunner().invoke(
        app, ["predict", *files, "--no-cache", "-j", "1", "-f", "json", "-o", str(output)]
    )
    assert result.exit_code == EXIT_OK, result.output
    rows = {Path(r["path"]).stem: r for r in json.loads(output.read_text())["predictions"]}
    for name in ("silence", "hiss"):
        assert rows[name]["mood"] == UNCERTAIN and rows[name]["quadrant"] == ""
        assert rows[name]["valence"] is None and rows[name]["p_calm"] is None
        assert f"warning: {inputs[name]}: it is silent or nearly" in result.stderr
    assert rows["phone"]["mood"] != UNCERTAIN
    assert max(rows["phone"]["valence_confidence"], rows["phone"]["arousal_confidence"]) <= 0.75
    assert f"warning: {inputs['phone']}: band-limited audio" in result.stderr
    assert str(inputs["music"]) not in result.stderr


def test_segments_of_a_half_silent_file(inputs):
    result = CliRunner().invoke(
        app, ["predict", str(inputs["half"]), "--segment", "4", "--no-cache", "-f", "csv"]
    )
    assert result.exit_code == EXIT_OK, result.output
    assert "2 of 4 windows are silent or nearly" in result.stderr
    moods = [line.split(",")[6] for line in result.stdout.splitlines()[1:]]
    assert moods[2:] == [UNCERTAIN, UNCERTAIN] and UNCERTAIN not in moods[:2]
