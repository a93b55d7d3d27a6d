"""Timbre: the spectral envelope (MFCC) and the spectrum's shape.

What an instrument or a mix sounds like apart from its pitch and loudness: dark or bright,
smooth or noisy.
"""

from __future__ import annotations

import numpy as np

from .analysis import AnalysisConfig
from .registry import feature

__all__ = ["mfcc", "spectral"]


@feature("timbre", "mfcc", dims=20)
def mfcc(*, mel_db: np.ndarray, config: AnalysisConfig) -> np.ndarray:
    """Mel-frequency cepstral coefficients: the spectral envelope, i.e. timbre.

    The first ``n_mfcc`` coefficients of the orthonormal DCT-II of the log-power mel
    spectrogram, over mel bands.

    Parameters
    ----------
    mel_db : np.ndarray [shape=(n_mels, n_frames)]
        Log-power mel spectrogram.
    config : AnalysisConfig
        The analysis settings (``n_mfcc``).

    Returns
    -------
    np.ndarray [shape=(n_mfcc, n_frames)]
    """
    import scipy.fft

    return scipy.fft.dct(mel_db, axis=0, type=2, norm="ortho")[: config.n_mfcc]


@feature("timbre", "spectral", dims=("centroid", "bandwidth", "rolloff", "flatness"))
def spectral(*, S: np.ndarray, sr: int, config: AnalysisConfig) -> np.ndarray:  # noqa: N803
    """Spectral centroid, bandwidth, roll-off and flatness per frame.

    Centroid and bandwidth come from the power spectrum's moments (one matrix product, in
    float64: the bandwidth is a difference of two of them); flatness is
    ``librosa.feature.spectral_flatness(S=S)``, to the bit.

    Parameters
    ----------
    S, sr, config : np.ndarray, int, AnalysisConfig
        The magnitude STFT [shape=(1 + n_fft // 2, n_frames)], its sample rate and the
        analysis settings (``n_fft``), as :class:`~va_mood.features.analysis.Analysis` holds
        them.

    Returns
    -------
    np.ndarray [shape=(4, n_frames)]
        Centroid, bandwidth and 85 % roll-off frequency, each as ``log2(1 + Hz)``, and
        flatness (geometric over arithmetic mean of the power spectrum).
    """
    import librosa

    freq = librosa.fft_frequencies(sr=sr, n_fft=config.n_fft)
    power = S**2
    moments = np.stack([np.ones_like(freq), freq, freq**2]) @ power.astype(np.float64)
    total = moments[0] + 1e-12
    centroid = moments[1] / total
    bandwidth = np.sqrt(np.maximum(moments[2] / total - centroid**2, 0.0))
    # roll-off: the first bin whose running power reaches 85 % (bin 0 where none does), as
    # the count of bins below, from a running sum row by row
    threshold, running = 0.85 * total, np.zeros(S.shape[1], dtype=power.dtype)
    rolloff = np.zeros(S.shape[1], dtype=np.intp)
    for row in power:
        running += row
        rolloff += running < threshold
    rolloff[rolloff == len(power)] = 0
    floored = np.maximum(power, 1e-10)  # librosa's amin
    flatness = np.exp(np.log(floored).mean(axis=0)) / floored.mean(axis=0)
    return np.stack(
        [np.log2(centroid + 1.0), np.log2(bandwidth + 1.0), np.log2(freq[rolloff] + 1.0), flatness]
    )
