"""The shared intermediates against the librosa calls and definitions they stand in for."""

from __future__ import annotations

import librosa
import numpy as np
import pytest

from va_mood.config import AnalysisConfig
from va_mood.features import REGISTRY
from va_mood.features.analysis import Analysis, tempogram

SR = 22050


def _signals() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    t = np.arange(int(1.3 * SR)) / SR
    chord = sum(np.sin(2 * np.pi * f * t) for f in (261.63, 329.63, 392.0)) / 3
    return {
        "noise": rng.standard_normal(len(t)).astype(np.float32) * 0.3,
        "chord": chord.astype(np.float32),
        "silence": np.zeros(len(t), dtype=np.float32),
        "odd_length": rng.uniform(-1, 1, 12_347).astype(np.float32),
    }


@pytest.mark.parametrize("name", list(_signals()))
def test_spectral_shape_follows_its_definition(name):
    """Centroid and bandwidth as power-weighted moments, roll-off as the first bin holding
    85 % of the power, flatness exactly librosa's."""
    config = AnalysisConfig(sr=SR)
    y = _signals()[name]
    S = np.abs(librosa.stft(y, n_fft=config.n_fft, hop_length=config.hop_length))  # noqa: N806
    ours = REGISTRY["timbre.spectral"].func(S=S, sr=SR, config=config)

    freq = librosa.fft_frequencies(sr=SR, n_fft=config.n_fft)[:, None]
    power = S.astype(np.float64) ** 2
    total = power.sum(axis=0) + 1e-12
    centroid = (freq * power).sum(axis=0) / total
    bandwidth = np.sqrt(((freq - centroid) ** 2 * power).sum(axis=0) / total)
    reached = np.cumsum(power, axis=0) / total >= 0.85
    rolloff = np.where(reached.any(axis=0), freq[np.argmax(reached, axis=0), 0], 0.0)

    np.testing.assert_allclose(ours[0], np.log2(centroid + 1), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(ours[1], np.log2(bandwidth + 1), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(ours[2], np.log2(rolloff + 1), rtol=0, atol=0.01)  # one bin
    np.testing.assert_array_equal(ours[3], librosa.feature.spectral_flatness(S=S)[0])


@pytest.mark.parametrize("name", list(_signals()))
@pytest.mark.parametrize("win_length", [384, 101, 64])
def test_tempogram_is_librosas(name, win_length):
    y = _signals()[name]
    onset_env = librosa.onset.onset_strength(y=y, sr=SR)
    ours = tempogram(onset_env, win_length=win_length)
    theirs = librosa.feature.tempogram(onset_envelope=onset_env, sr=SR, win_length=win_length)
    assert ours.shape == theirs.shape and ours.dtype == np.float32
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-6)


def test_contrast_of_a_band_limited_signal_is_librosas():
    """The top bands of a low-passed signal (an mp3's, say) are near silence, where contrast's
    valleys in dB show any loss of precision in the STFT's quietest bins."""
    import scipy.signal

    noise = np.random.default_rng(2).standard_normal(3 * SR)
    y = scipy.signal.sosfilt(scipy.signal.butter(8, 5000, fs=SR, output="sos"), noise)
    y = (0.3 * y / np.abs(y).max()).astype(np.float32)
    config = AnalysisConfig(sr=SR)
    ours = REGISTRY["arousal.contrast"].compute(Analysis(y, SR, config))
    contrast = librosa.feature.spectral_contrast(
        y=y, sr=SR, n_fft=config.n_fft, hop_length=config.hop_length, fmin=200.0, n_bands=6
    )
    theirs = REGISTRY["arousal.contrast"].finish(contrast)
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5)
