"""Feature extractors on synthetic signals with known answers."""

from __future__ import annotations

import librosa
import numpy as np
import pandas as pd
import pytest

from va_mood.config import AnalysisConfig
from va_mood.errors import ParameterError
from va_mood.features import extract_clip
from va_mood.features.analysis import Analysis
from va_mood.features.registry import REGISTRY, STAT_FUNCTIONS, columns_for, feature, summarise

SR = 22050
CONFIG = AnalysisConfig(sr=SR)


def _features(y: np.ndarray, groups: list[str], sr: int = SR) -> pd.Series:
    return pd.Series(extract_clip(y, sr, config=CONFIG, groups=groups), index=columns_for(groups))


def _sine(freq: float, seconds: float = 2.0, amp: float = 0.5, sr: int = SR) -> np.ndarray:
    return (amp * np.sin(2 * np.pi * freq * np.arange(int(sr * seconds)) / sr)).astype(np.float32)


@pytest.mark.parametrize(("freq", "pitch"), [(440.0, "A"), (261.63, "C"), (392.0, "G")])
def test_sine_chroma_peak(freq, pitch):
    chroma = _features(_sine(freq), ["valence.chroma"])
    means = chroma[[c for c in chroma.index if c.endswith(".mean")]]
    assert means.idxmax() == f"valence.chroma_{pitch}.mean"


@pytest.mark.parametrize("bpm", [120.0, 150.0])
def test_click_track_tempo(bpm):
    seconds = 10.0
    times = np.arange(0.1, seconds, 60.0 / bpm)
    y = librosa.clicks(times=times, sr=SR, length=int(SR * seconds)).astype(np.float32)
    tempo_log2 = _features(y, ["arousal.tempogram"])["arousal.tempogram.tempo_log2"]
    # the dominant tempo, or an octave of it, within 5 %
    error = min(abs(tempo_log2 - np.log2(bpm) - k) for k in (-1, 0, 1))
    assert error < np.log2(1.05)


def test_louder_signal_has_higher_rms():
    # what the extractor measures, on a signal analysed as decoded (no level normalisation)
    raw = AnalysisConfig(sr=SR, loudness=None)

    def rms(amp: float) -> float:
        y = _sine(440.0, amp=amp)
        return extract_clip(y, SR, config=raw, groups=["arousal.rms"])[0]

    assert rms(0.5) > rms(0.1)


def test_noise_has_higher_zcr_than_low_sine():
    noise = np.random.default_rng(0).standard_normal(2 * SR).astype(np.float32) * 0.3
    zcr_noise = _features(noise, ["arousal.zcr"])["arousal.zcr.mean"]
    zcr_sine = _features(_sine(100.0), ["arousal.zcr"])["arousal.zcr.mean"]
    assert zcr_noise > 10 * zcr_sine
    assert zcr_noise == pytest.approx(0.5, abs=0.03)  # white noise changes sign half the time
    assert zcr_sine == pytest.approx(2 * 100.0 / SR, rel=0.1)  # two crossings per period


@pytest.mark.parametrize("seconds", [0.5, 3.0])
@pytest.mark.parametrize("group", sorted(REGISTRY))
def test_silence_gives_finite_features(group, seconds):
    values = extract_clip(
        np.zeros(int(SR * seconds), np.float32), SR, config=CONFIG, groups=[group]
    )
    assert values.shape == (len(REGISTRY[group].columns),)
    assert np.all(np.isfinite(values))


@pytest.mark.parametrize("sr", [16000, 22050, 44100])
def test_every_group_finite_on_a_chord(sr):
    t = np.arange(2 * sr) / sr
    y = sum(np.sin(2 * np.pi * f * t) for f in (261.63, 329.63, 392.0)).astype(np.float32) / 3
    config = AnalysisConfig(sr=sr)
    values = extract_clip(y, sr, config=config, groups=sorted(REGISTRY))
    assert values.shape == (len(columns_for(sorted(REGISTRY))),)
    assert np.all(np.isfinite(values))


def test_column_names_unique_and_well_formed():
    columns = columns_for(list(REGISTRY))
    assert len(columns) == len(set(columns))
    for key, group in REGISTRY.items():
        assert key == f"{group.family}.{group.name}"
        for column in group.columns:
            family, name, last = column.split(".")
            assert family == group.family
            if group.stats is None:
                assert name == group.name
                assert last in group.dims
            else:
                assert last in group.stats
                assert last in STAT_FUNCTIONS
                if group.dims is None:
                    assert name == group.name
                else:
                    assert name.startswith(f"{group.name}_")
                    assert name.removeprefix(f"{group.name}_") in group.dims


def test_known_column_names():
    assert columns_for(["arousal.rms"]) == [
        "arousal.rms.mean",
        "arousal.rms.std",
        "arousal.rms.p10",
        "arousal.rms.p90",
        "arousal.rms.delta_mean",
    ]
    assert "valence.chroma_A.mean" in columns_for(["valence.chroma"])
    assert "arousal.tempogram.tempo_log2" in columns_for(["arousal.tempogram"])


def test_columns_for_unknown_group():
    with pytest.raises(ParameterError, match=r"unknown feature group\(s\) \['arousal.nope'\]"):
        columns_for(["arousal.nope"])


def test_extract_clip_unknown_group():
    with pytest.raises(ParameterError, match="unknown feature group"):
        extract_clip(_sine(440.0), SR, config=CONFIG, groups=["valence.nope"])


def test_shared_intermediates_computed_once(monkeypatch):
    calls = {"stft": 0, "cqt": 0}

    def counting(name):
        original = getattr(librosa, name)

        def wrapper(*args, **kwargs):
            calls[name] += 1
            return original(*args, **kwargs)

        return wrapper

    for name in calls:
        monkeypatch.setattr(librosa, name, counting(name))
    values = extract_clip(_sine(440.0), SR, config=CONFIG, groups=sorted(REGISTRY))
    assert np.all(np.isfinite(values))
    assert calls == {"stft": 1, "cqt": 1}


def test_analysis_caches_intermediates():
    analysis = Analysis(_sine(440.0), SR, CONFIG)
    assert analysis.S is analysis.S
    assert analysis.C is analysis.C
    assert analysis.S.shape[0] == 1 + CONFIG.n_fft // 2
    assert analysis.C.shape[0] == CONFIG.n_bins
    assert analysis.chroma.shape[0] == 12
    assert analysis.tonnetz.shape[0] == 6


def test_summarise_known_values():
    x = np.array([[1.0, 2.0, 3.0, 4.0]])
    np.testing.assert_allclose(
        summarise(x, ["mean", "std", "p50", "delta_mean"]),
        [[2.5, np.std([1, 2, 3, 4]), 2.5, 1.0]],
    )
    np.testing.assert_array_equal(summarise(np.zeros((3, 0)), ["mean", "std"]), np.zeros((3, 2)))


def test_feature_rejects_unknown_stat():
    with pytest.raises(ParameterError, match=r"unknown stats \['median'\]"):
        feature("arousal", "bogus", stats=("median",))


def test_feature_version_is_recorded(scratch_registry):
    @feature("arousal", "test_versioned", version=3)
    def versioned(*, y: np.ndarray) -> np.ndarray:
        return y[None, :]

    assert REGISTRY["arousal.test_versioned"].version == 3
