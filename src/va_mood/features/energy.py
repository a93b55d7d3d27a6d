"""Energy and motion: loudness, noisiness, spectral contrast, tempo and onsets.

Each group measures how much sound there is and how it moves: frame level, zero crossings,
peak-to-valley contrast per octave, what the tempogram says about the pulse, and how often
new events start. Their family name, ``arousal``, is the article's: it gave them to the
arousal head. Which head reads which group is the configuration's choice.
"""

from __future__ import annotations

import numpy as np

from .analysis import AnalysisConfig
from .registry import feature

__all__ = [
    "rms",
    "zcr",
    "contrast",
    "tempogram",
    "tempo_lags",
    "tempo_summary",
    "onset",
    "TEMPO_BANDS",
]


@feature("arousal", "rms", stats=("mean", "std", "p10", "p90", "delta_mean"))
def rms(*, S: np.ndarray) -> np.ndarray:  # noqa: N803
    """Frame level in dB: the RMS of each STFT frame.

    Parameters
    ----------
    S : np.ndarray [shape=(1 + n_fft // 2, n_frames)]
        Magnitude STFT.

    Returns
    -------
    np.ndarray [shape=(n_frames,)]
        Level in dB, floored at -100 dB.
    """
    power = (S**2).sum(axis=0) * 2 / max(1, (S.shape[0] - 1) * 2) ** 2
    return 10.0 * np.log10(np.maximum(power, 1e-10))


ZCR_THRESHOLD = 1e-10
"""Samples this close to 0 count as 0 (librosa's ``zero_crossings`` default)."""


@feature("arousal", "zcr", stats=("mean", "std", "p10", "p90"))
def zcr(*, y: np.ndarray, config: AnalysisConfig) -> np.ndarray:
    """Zero-crossing rate per frame: noisiness and brightness of the signal.

    ``librosa.feature.zero_crossing_rate(y, frame_length=n_fft, hop_length=hop_length)[0]``,
    to the bit, but the crossings are found once for the signal and counted per frame from
    their running sum, instead of once per overlapping frame.

    Parameters
    ----------
    y : np.ndarray [shape=(n_samples,)]
        Mono signal.
    config : AnalysisConfig
        The analysis settings (frame length ``n_fft``, ``hop_length``).

    Returns
    -------
    np.ndarray [shape=(n_frames,)]
        Sign changes between consecutive samples of each centred frame, per sample.
    """
    n_fft, hop = config.n_fft, config.hop_length
    y = np.pad(y, n_fft // 2, mode="edge")  # librosa's centred frames
    threshold = np.asarray(ZCR_THRESHOLD, dtype=y.dtype)  # librosa's, at the signal's precision
    negative = np.signbit(y) & (np.abs(y) > threshold)  # smaller magnitudes count as +0
    running = np.concatenate([[0], np.cumsum(negative[1:] != negative[:-1])])
    starts = np.arange(1 + (len(y) - n_fft) // hop) * hop
    # a frame counts the crossings between its own consecutive samples
    return (running[starts + n_fft - 1] - running[starts]) / n_fft


CONTRAST_FMIN = 200.0
CONTRAST_BANDS = 6


@feature("arousal", "contrast", dims=tuple(f"b{i}" for i in range(CONTRAST_BANDS + 1)))
def contrast(*, S: np.ndarray, sr: int, config: AnalysisConfig) -> np.ndarray:  # noqa: N803
    """Spectral contrast: the peak against the valley of each octave band, in dB.

    Parameters
    ----------
    S : np.ndarray [shape=(1 + n_fft // 2, n_frames)]
        Magnitude STFT.
    sr, config : int, AnalysisConfig
        Sample rate and analysis settings (``n_fft``), for the frequency of each bin.

    Returns
    -------
    np.ndarray [shape=(7, n_frames)]
        Contrast in the band below :data:`CONTRAST_FMIN`, the five octaves above it and the
        rest of the spectrum (``librosa.feature.spectral_contrast``). At low sample rates
        the bands above Nyquist do not exist: their rows are zero.

    References
    ----------
    .. [1] D.-N. Jiang, L. Lu, H.-J. Zhang, J.-H. Tao and L.-H. Cai, "Music type
           classification by spectral contrast feature", Proc. IEEE ICME, 2002.
    """
    import librosa

    n_bands = CONTRAST_BANDS
    while n_bands > 0 and CONTRAST_FMIN * 2 ** (n_bands - 1) >= sr / 2:
        n_bands -= 1  # librosa needs every band's lower edge below Nyquist
    out = np.zeros((CONTRAST_BANDS + 1, S.shape[1]))
    if n_bands >= 1:
        out[: n_bands + 1] = librosa.feature.spectral_contrast(
            S=S, sr=sr, n_fft=config.n_fft, fmin=CONTRAST_FMIN, n_bands=n_bands
        )
    return out


TEMPO_BANDS = (30, 45, 60, 80, 100, 120, 140, 170, 210, 300)
"""Edges, in BPM, of the bands the tempo-lag profile is pooled into."""


@feature(
    "arousal",
    "tempogram",
    stats=None,
    dims=tuple(f"lag_{lo}_{hi}" for lo, hi in zip(TEMPO_BANDS[:-1], TEMPO_BANDS[1:], strict=True))
    + ("tempo_log2", "peak_strength", "pulse_clarity", "stability", "tempo_std", "strength_std"),
)
def tempogram(*, tempogram: np.ndarray, sr: int, config: AnalysisConfig) -> np.ndarray:
    """What the tempogram says about the pulse over time, not its plain mean.

    Parameters
    ----------
    tempogram : np.ndarray [shape=(win_length, n_frames)]
        Autocorrelation tempogram (:func:`va_mood.features.analysis.tempogram`).
    sr : int
        Sample rate.
    config : AnalysisConfig
        The analysis settings (``hop_length``, for the BPM of each lag).

    Returns
    -------
    np.ndarray [shape=(15,)]
        As :func:`tempo_summary`; zeros when no lag falls within :data:`TEMPO_BANDS`.
    """
    T, bpm = tempo_lags(tempogram, sr, config)  # noqa: N806
    if T.size == 0:
        return np.zeros(len(TEMPO_BANDS) - 1 + 6)
    return tempo_summary(T.mean(axis=1), bpm[np.argmax(T, axis=0)], T.max(axis=0), bpm)


def tempo_lags(
    tempogram: np.ndarray, sr: int, config: AnalysisConfig
) -> tuple[np.ndarray, np.ndarray]:
    """The tempogram rows whose lag lies in the :data:`TEMPO_BANDS` range, and their BPM.

    Parameters
    ----------
    tempogram : np.ndarray [shape=(win_length, n_frames)]
        Autocorrelation tempogram, lag 0 first.
    sr : int
        Sample rate.
    config : AnalysisConfig
        The analysis settings (``hop_length``).

    Returns
    -------
    T : np.ndarray [shape=(n_lags, n_frames)]
        The rows kept.
    bpm : np.ndarray [shape=(n_lags,)]
        The tempo of each, slowest last.
    """
    lags = np.arange(1, tempogram.shape[0])
    bpm = 60.0 * sr / (config.hop_length * lags)
    keep = (bpm >= TEMPO_BANDS[0]) & (bpm <= TEMPO_BANDS[-1])
    return tempogram[1:][keep], bpm[keep]


def tempo_summary(
    profile: np.ndarray, frame_tempo: np.ndarray, frame_strength: np.ndarray, bpm: np.ndarray
) -> np.ndarray:
    """The tempogram group's values from a tempo-lag profile and each frame's peak.

    Split from :func:`tempogram` so that a long recording analysed in blocks can pass the
    profile and peaks it gathered (:mod:`va_mood.extraction.long_files`).

    Parameters
    ----------
    profile : np.ndarray [shape=(n_lags,)]
        Mean autocorrelation of each lag over frames.
    frame_tempo, frame_strength : np.ndarray [shape=(n_frames,)]
        Each frame's peak tempo (BPM) and peak strength.
    bpm : np.ndarray [shape=(n_lags,)]
        The tempo of each lag.

    Returns
    -------
    np.ndarray [shape=(15,)]
        The profile pooled into the nine bands of :data:`TEMPO_BANDS`; the dominant tempo
        (log2 BPM) and its strength; pulse clarity (peak over median of the profile);
        stability (share of frames whose own peak lies within 5 % of the dominant tempo, or
        an octave of it); the spread of the per-frame tempo (octaves) and of the per-frame
        peak strength.
    """
    bands = [
        profile[(bpm >= lo) & (bpm < hi)].mean() if np.any((bpm >= lo) & (bpm < hi)) else 0.0
        for lo, hi in zip(TEMPO_BANDS[:-1], TEMPO_BANDS[1:], strict=True)
    ]
    peak = int(np.argmax(profile))
    tempo = bpm[peak]
    octave_error = np.abs(np.log2(frame_tempo / tempo))
    stable = np.minimum(octave_error, np.abs(octave_error - 1.0)) < np.log2(1.05)
    return np.array(
        [
            *bands,
            np.log2(tempo),
            profile[peak],
            profile[peak] - np.median(profile),
            stable.mean(),
            np.log2(frame_tempo).std(),
            frame_strength.std(),
        ]
    )


@feature("arousal", "onset", stats=("mean", "std", "p90"))
def onset(*, onset_env: np.ndarray) -> np.ndarray:
    """Onset strength: how much and how often new sound events start.

    Parameters
    ----------
    onset_env : np.ndarray [shape=(n_frames,)]
        Onset strength envelope
        (:attr:`~va_mood.features.analysis.Analysis.onset_env`).

    Returns
    -------
    np.ndarray [shape=(n_frames,)]
        The envelope as it is.
    """
    return onset_env
