"""BS.1770 loudness and level normalisation: the standard's numbers, streams, invariance."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from va_mood.audio.loudness import (
    MAX_GAIN_DB,
    TARGET_LUFS,
    LoudnessMeter,
    integrated_loudness,
    normalising_gain,
)
from va_mood.features import extract_clip
from va_mood.features.analysis import AnalysisConfig, analysis_of
from va_mood.features.registry import REGISTRY

SR = 22050


def _music(seconds: float = 4.0, seed: int = 0) -> np.ndarray:
    """Chords with a beat and some noise: a signal every feature group has something to say
    about."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    y = sum(0.2 * np.sin(2 * np.pi * f * t) for f in (220.0, 277.2, 329.6))
    y = y * (1 + 0.5 * (np.sin(2 * np.pi * 2 * t) > 0)) + 0.02 * rng.standard_normal(len(t))
    return (0.5 * y / np.abs(y).max()).astype(np.float32)


@pytest.mark.parametrize(
    ("sr", "tolerance"), [(16000, 0.1), (22050, 0.1), (44100, 0.06), (48000, 0.06)]
)
def test_a_full_scale_sine_at_1_khz_is_minus_3_lufs(sr, tolerance):
    # BS.1770: a 0 dBFS 997 Hz sine in one channel reads -3.01 LKFS with the standard's 48 kHz
    # coefficients; the K-weighting designed for any rate (as pyloudnorm's) reads -3.05 there
    t = np.arange(5 * sr) / sr
    assert integrated_loudness(np.sin(2 * np.pi * 997 * t), sr) == pytest.approx(
        -3.01, abs=tolerance
    )


def test_the_same_as_pyloudnorm():
    pyloudnorm = pytest.importorskip("pyloudnorm")
    y = _music(6.0)
    ours = integrated_loudness(y, SR)
    assert ours == pytest.approx(pyloudnorm.Meter(SR).integrated_loudness(y), abs=1e-6)


def test_gain_shifts_loudness_by_the_same_decibels():
    y = _music().astype(np.float64)
    assert integrated_loudness(0.1 * y, SR) == pytest.approx(integrated_loudness(y, SR) - 20)


def test_chunks_measure_as_the_whole():
    y = _music(7.0)
    meter = LoudnessMeter(SR)
    for chunk in np.array_split(y, 11):
        meter.add(chunk)
    assert meter.integrated() == pytest.approx(integrated_loudness(y, SR), abs=1e-9)


def test_silence_and_short_signals_are_left_alone():
    assert integrated_loudness(np.zeros(SR), SR) == float("-inf")
    assert integrated_loudness(np.ones(100), SR) == float("-inf")  # under one 400 ms block
    assert normalising_gain(float("-inf")) == 1.0
    assert normalising_gain(-200.0) == pytest.approx(10 ** (MAX_GAIN_DB / 20))


def test_analysis_brings_the_clip_to_the_target():
    analysis = analysis_of(0.01 * _music(), SR, AnalysisConfig(sr=SR))
    assert integrated_loudness(analysis.y, SR) == pytest.approx(TARGET_LUFS, abs=0.01)
    raw = analysis_of(0.01 * _music(), SR, AnalysisConfig(sr=SR, loudness=None))
    assert integrated_loudness(raw.y, SR) < TARGET_LUFS - 20


GROUPS = [g for g in REGISTRY if not g.startswith(("embedding.", "quality."))]
"""The model's groups; the tagger's are checked end to end below, and the signal checks'
level (va_mood.features.quality) is the level as decoded, on purpose."""


@pytest.mark.parametrize("db", [-20.0, -12.0, 6.0])
def test_a_quieter_or_louder_copy_has_the_same_features(db):
    y = _music()
    config = AnalysisConfig(sr=SR)
    same = extract_clip(y, SR, config=config, groups=GROUPS)
    scaled = extract_clip(y * 10 ** (db / 20), SR, config=config, groups=GROUPS)
    np.testing.assert_allclose(scaled, same, rtol=1e-3, atol=1e-3)
    raw = dataclasses.replace(config, loudness=None)  # without normalisation the level shows
    before = extract_clip(y, SR, config=raw, groups=["arousal.rms"])[0]
    after = extract_clip(y * 10 ** (db / 20), SR, config=raw, groups=["arousal.rms"])[0]
    assert after - before == pytest.approx(db, abs=0.01)


def test_the_shipped_model_hears_a_quiet_copy_as_the_same_music(tmp_path):
    # end to end, as a user would: the same clip 20 dB quieter, as WAVs of their own. In
    # floating point the gain is undone exactly; a 16-bit copy also keeps 3 bits fewer, which
    # moves the smooth confidences a little more than the coordinates' steps
    import soundfile as sf

    import va_mood
    from va_mood.quadrant import quadrant_of

    source = sorted((Path(__file__).resolve().parents[1] / "data" / "examples").glob("*.mp3"))[0]
    y, sr = sf.read(source, dtype="float32")
    paths = [tmp_path / "loud.wav", tmp_path / "quiet.wav", tmp_path / "quiet_float.wav"]
    sf.write(paths[0], y, sr)
    sf.write(paths[1], y * 10 ** (-20 / 20), sr)
    sf.write(paths[2], y * 10 ** (-20 / 20), sr, subtype="FLOAT")
    table = va_mood.load_model().predict_files(paths, cache=False, jobs=1)
    loud, quiet, exact = (table.loc[str(path)] for path in paths)
    assert quiet["quadrant"] == exact["quadrant"] == loud["quadrant"]
    for column in ("valence", "arousal", "valence_confidence", "arousal_confidence"):
        assert exact[column] == pytest.approx(loud[column], abs=0.002)
        tolerance = 0.02 if column in ("valence", "arousal") else 0.05
        assert quiet[column] == pytest.approx(loud[column], abs=tolerance)
    signs = quadrant_of(table["valence"].to_numpy(), table["arousal"].to_numpy())
    assert list(signs) == list(table["quadrant"])
