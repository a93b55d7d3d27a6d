"""How a clip is analysed, and its shared intermediates, each computed at most once.

Every feature function names the intermediates it needs as keyword arguments (``S``, ``C``,
``onset_env`` …) and is handed the attribute of the same name of an :class:`Analysis`, which
computes it on first use and keeps it. So a clip's STFT, CQT and onset envelope are computed
once, however many features read them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache, cached_property

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..audio.decode import MIN_DURATION
from ..audio.loudness import FADE_SECONDS, TARGET_LUFS, LoudnessMeter, normalising_gain
from ..errors import ParameterError
from .registry import feature_fingerprint

__all__ = [
    "AnalysisConfig",
    "Analysis",
    "analysis_of",
    "tempogram",
    "spectral_peaks",
    "memoised_cqt_filters",
    "MAX_AMPLITUDE",
]


@dataclass(frozen=True)
class AnalysisConfig:
    """How audio is decoded and analysed: the settings every feature depends on.

    Their :meth:`fingerprint` keys the feature cache and ties models to their features.

    Parameters
    ----------
    sr : int
        Sample rate every file is decoded to.
    n_fft, hop_length : int
        STFT window and hop, in samples; the hop is every series' frame step.
    n_bins, bins_per_octave, fmin : int, int, float
        The constant-Q transform's bins, bins per octave and lowest frequency (C1 by default).
    tempogram_win_length : int
        Onset frames per tempogram window.
    n_mels, n_mfcc : int
        Mel bands, and the MFCCs kept.
    max_duration : float or None
        Seconds read from the start of each file; ``None`` reads it all.
    loudness : float or None
        Integrated loudness (LUFS) every clip is brought to before analysis, so that no
        feature depends on the playback level (:mod:`va_mood.audio.loudness`); ``None``
        analyses it as decoded.
    fade_gate : float or None
        A whole clip's edges quieter than this many LU below its integrated loudness (a fade
        in or out, at most :data:`va_mood.audio.loudness.FADE_SECONDS` per end) are left out
        of its analysis, so that a clip and an excerpt of its middle are summarised alike;
        ``None`` keeps them. Windows of a clip (``--segment``) and recordings analysed in
        blocks (:mod:`va_mood.extraction.long_files`) keep them.
    """

    sr: int = 22050
    n_fft: int = 2048
    hop_length: int = 512
    n_bins: int = 84
    bins_per_octave: int = 12
    fmin: float = 32.70319566257483  # C1
    tempogram_win_length: int = 384
    n_mels: int = 128
    n_mfcc: int = 20
    max_duration: float | None = None
    loudness: float | None = TARGET_LUFS
    fade_gate: float | None = None

    def fingerprint(self, groups: tuple[str, ...]) -> str:
        """A short hash of these settings and the groups' extractor versions.

        A setting added later is left out at the value that means "as before"
        (:data:`AS_BEFORE`), so the caches and models made before it stay valid.

        Parameters
        ----------
        groups : tuple of str
            Feature group keys; ``()`` for the settings alone (the feature cache's key).

        Returns
        -------
        str
            As :func:`va_mood.features.registry.feature_fingerprint` gives it.
        """
        settings = dataclasses.asdict(self)
        for name, value in AS_BEFORE.items():
            if settings[name] == value:
                del settings[name]
        return feature_fingerprint(settings, groups)


AS_BEFORE = {"fade_gate": None}
"""Analysis settings added after models were made, with the value that analyses as before."""


MAX_AMPLITUDE = 1e3
"""Samples are clipped to ±this (decoded audio lies within ±1), so no power overflows."""


def analysis_of(y: np.ndarray, sr: int, config: AnalysisConfig, *, whole: bool = True) -> Analysis:
    """The shared :class:`Analysis` of a clip, after checking and sanitising its samples.

    NaN and infinite samples become 0; a ``whole`` clip loses its faded edges
    (``config.fade_gate``); the clip is brought to ``config.loudness``, measured over the
    whole clip so that its windows keep their loudness relative to it; samples are clipped
    to ±:data:`MAX_AMPLITUDE`.

    Parameters
    ----------
    y : np.ndarray [shape=(n_samples,)]
        The mono clip.
    sr : int
        Its sample rate.
    config : AnalysisConfig
        The analysis settings.
    whole : bool
        Whether the clip is analysed as a whole; ``False`` keeps every sample in its place,
        for an analysis that windows are sliced from.

    Returns
    -------
    Analysis

    Raises
    ------
    ParameterError
        When the clip is shorter than :data:`va_mood.audio.decode.MIN_DURATION`.
    """
    y = np.asarray(y, dtype=np.float32).ravel()
    if len(y) < MIN_DURATION * sr:
        raise ParameterError(
            f"too short: {len(y)} samples ({len(y) / sr:.2f} s), minimum is {MIN_DURATION} s"
        )
    y = np.nan_to_num(y, nan=0.0, posinf=0.0, neginf=0.0)
    gate = config.fade_gate if whole else None
    gain = 1.0
    if gate is not None or config.loudness is not None:  # measured only when used
        meter = LoudnessMeter(sr)
        meter.add(y)
        if gate is not None:
            start, stop = meter.unfaded(gate, FADE_SECONDS)
            y = y[start:stop]
        if config.loudness is not None:
            gain = normalising_gain(meter.integrated(), config.loudness)
            y = y * np.float32(gain)
    return Analysis(np.clip(y, -MAX_AMPLITUDE, MAX_AMPLITUDE), sr, config, gain)


CQT_FILTER_BANKS = 64
"""CQT filter banks kept per process (seven per analysis setting, one per octave)."""
_filter_banks: dict[tuple, tuple] = {}


def _key(value: object) -> object:
    """A hashable, exact stand-in for a filter-bank argument (arrays by their bytes)."""
    if isinstance(value, np.ndarray):
        return ("ndarray", value.dtype.str, value.shape, value.tobytes())
    if isinstance(value, list | tuple):
        return tuple(_key(v) for v in value)
    hash(value)  # a TypeError here means: do not memoise this call
    return value


def _memoised(build):  # noqa: ANN001, ANN202 - wraps librosa's private builder as it is
    """``build`` (librosa's CQT filter-bank builder) keeping each bank it builds."""

    def memoised(*args, **kwargs):
        try:
            key = _key((args, tuple(sorted(kwargs.items()))))
        except TypeError:
            return build(*args, **kwargs)
        if key not in _filter_banks:
            if len(_filter_banks) >= CQT_FILTER_BANKS:
                _filter_banks.clear()
            _filter_banks[key] = build(*args, **kwargs)
        basis, n_fft, lengths = _filter_banks[key]
        return basis.copy(), n_fft, np.array(lengths, copy=True)  # librosa rescales in place

    return memoised


@contextmanager
def memoised_cqt_filters() -> Iterator[bool]:
    """While inside, librosa builds each CQT filter bank once instead of on every call.

    librosa builds the Fourier transforms of its wavelet filters again for every octave of
    every ``librosa.cqt`` call, though they depend only on the settings. This opt-in keeps
    them (at most :data:`CQT_FILTER_BANKS`), keyed by librosa's own arguments, and hands each
    call a copy, so the CQT is the one librosa computes, to the bit. It replaces a private
    librosa helper for the duration of the block and puts the original back on exit; batch
    extraction (:mod:`va_mood.extraction.batch`) uses it, and an application's own librosa
    calls outside the block are untouched.

    Yields
    ------
    bool
        Whether the filter banks are kept (a librosa without that helper is left alone).
    """
    from librosa.core import constantq

    name = "__vqt_filter_fft"  # private: may vanish in a new librosa
    build = vars(constantq).get(name)
    if build is None or getattr(build, "va_mood_memoised", False):
        yield build is not None
        return
    memoised = _memoised(build)
    memoised.va_mood_memoised = True
    setattr(constantq, name, memoised)
    try:
        yield True
    finally:
        setattr(constantq, name, build)


@cache
def _hann(n: int) -> np.ndarray:
    """librosa's tempogram window: periodic Hann, float32 (``get_window('hann', n)``)."""
    import scipy.signal

    window = scipy.signal.get_window("hann", n, fftbins=True).astype(np.float32)
    window.setflags(write=False)
    return window


def tempogram(onset_envelope: np.ndarray, *, win_length: int) -> np.ndarray:
    """Autocorrelation tempogram: ``librosa.feature.tempogram`` to float32 rounding.

    The autocorrelation of each Hann-windowed, centred stretch of the envelope (padded by
    linear ramps to 0), each frame scaled to a peak of 1 (frames of zeros left as they are).
    librosa computes in float64 along the strided frame axis; this in float32, along
    contiguous frames.

    Parameters
    ----------
    onset_envelope : np.ndarray [shape=(n_frames,)]
        Onset strength per frame.
    win_length : int
        Onset frames per window: the lags measured.

    Returns
    -------
    np.ndarray [shape=(win_length, n_frames), dtype=float32]
        Autocorrelation by lag (rows, lag 0 first) and frame.
    """
    import scipy.fft

    n, half = len(onset_envelope), win_length // 2
    padded = np.pad(onset_envelope.astype(np.float32), half, mode="linear_ramp", end_values=0)
    frames = sliding_window_view(padded, win_length)[:n] * _hann(win_length)
    n_fft = scipy.fft.next_fast_len(2 * win_length - 1, real=True)
    spectrum = scipy.fft.rfft(frames, n=n_fft, axis=-1)
    power = spectrum.real**2 + spectrum.imag**2
    autocorrelation = scipy.fft.irfft(power, n=n_fft, axis=-1)[:, :win_length]
    peak = np.abs(autocorrelation).max(axis=-1, keepdims=True)
    peak[peak < np.finfo(peak.dtype).tiny] = 1.0  # as librosa.util.normalize
    return (autocorrelation / peak).T


class Analysis:
    """Lazily computed, shared representations of one mono signal.

    Each property is computed on first use and kept; feature extractors read them by name.
    Every series has its frames on the last axis, so a window of the clip is a slice of them.

    Parameters
    ----------
    y : np.ndarray [shape=(n_samples,)]
        The signal, as :func:`analysis_of` prepares it.
    sr : int
        Its sample rate.
    config : AnalysisConfig
        The analysis settings.
    gain : float
        The factor loudness normalisation multiplied the decoded signal by (1 without it):
        what a group that needs the file's own level divides out.
    """

    def __init__(self, y: np.ndarray, sr: int, config: AnalysisConfig, gain: float = 1.0) -> None:
        self.y = y
        self.sr = sr
        self.config = config
        self.gain = gain

    @cached_property
    def S(self) -> np.ndarray:  # noqa: N802 - librosa's name for a magnitude spectrogram
        """Magnitude STFT [shape=(1 + n_fft // 2, n_frames)]."""
        import librosa

        c = self.config
        return np.abs(librosa.stft(self.y, n_fft=c.n_fft, hop_length=c.hop_length))

    @cached_property
    def peaks(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The strongest spectral peaks of each :attr:`S` frame, shared by the harmony groups.

        ``(freq, amp, total)``: peak frequencies and magnitudes [shape=(n_peaks, n_frames)]
        and each frame's power in the peak band [shape=(n_frames,)]
        (see :func:`spectral_peaks`).
        """
        return spectral_peaks(self.S, self.sr, self.config.n_fft)

    @cached_property
    def mel_db(self) -> np.ndarray:
        """Log-power mel spectrogram [shape=(n_mels, n_frames)], from :attr:`S`."""
        import librosa

        mel = librosa.feature.melspectrogram(S=self.S**2, sr=self.sr, n_mels=self.config.n_mels)
        return librosa.power_to_db(mel, ref=1.0, top_db=None)

    @cached_property
    def onset_env(self) -> np.ndarray:
        """Onset strength envelope [shape=(n_frames,)], from :attr:`mel_db`."""
        import librosa

        return librosa.onset.onset_strength(
            S=self.mel_db, sr=self.sr, hop_length=self.config.hop_length
        )

    @cached_property
    def tempogram(self) -> np.ndarray:
        """Autocorrelation tempogram [shape=(win_length, n_frames)], from :attr:`onset_env`
        (see :func:`tempogram`)."""
        return tempogram(self.onset_env, win_length=self.config.tempogram_win_length)

    @cached_property
    def C(self) -> np.ndarray:  # noqa: N802 - librosa's name for a constant-Q spectrogram
        """Magnitude constant-Q transform [shape=(n_bins, n_frames)]."""
        import librosa

        c = self.config
        return np.abs(
            librosa.cqt(
                self.y,
                sr=self.sr,
                hop_length=c.hop_length,
                fmin=c.fmin,
                n_bins=c.n_bins,
                bins_per_octave=c.bins_per_octave,
            )
        )

    @cached_property
    def chroma(self) -> np.ndarray:
        """Chromagram [shape=(12, n_frames)] from :attr:`C`, pitch class C first."""
        import librosa

        return librosa.feature.chroma_cqt(
            C=self.C, sr=self.sr, bins_per_octave=self.config.bins_per_octave, fmin=self.config.fmin
        )

    @cached_property
    def tonnetz(self) -> np.ndarray:
        """Tonal centroid features [shape=(6, n_frames)] from :attr:`chroma`."""
        import librosa

        return np.nan_to_num(librosa.feature.tonnetz(chroma=self.chroma, sr=self.sr))

    @cached_property
    def musicnn(self) -> tuple[np.ndarray, np.ndarray]:
        """musicnn's tag probabilities [shape=(50, n_frames)] and penultimate layer
        [shape=(200, n_frames)], each frame carrying its patch's output
        (see :func:`va_mood.features.musicnn.frame_series`)."""
        from .musicnn import frame_series

        n_frames = 1 + len(self.y) // self.config.hop_length  # as the centred STFT
        return frame_series(self.y, self.sr, n_frames, self.config.hop_length)


N_PEAKS = 16
"""Spectral peaks per frame that roughness and tonalness look at."""
PEAK_BAND = (50.0, 5000.0)
"""Frequency range, in Hz, of the peaks considered."""
_EPS = 1e-10


def spectral_peaks(S: np.ndarray, sr: int, n_fft: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # noqa: N803
    """The :data:`N_PEAKS` strongest local maxima of each STFT frame within :data:`PEAK_BAND`.

    A peak's frequency is refined by parabolic interpolation between its neighbouring bins.

    Parameters
    ----------
    S : np.ndarray [shape=(1 + n_fft // 2, n_frames)]
        Magnitude STFT.
    sr : int
        Sample rate.
    n_fft : int
        The STFT's window length.

    Returns
    -------
    freq : np.ndarray [shape=(n_peaks, n_frames)]
        Peak frequencies, in Hz.
    amp : np.ndarray [shape=(n_peaks, n_frames)]
        Peak magnitudes (0 where a frame has fewer peaks).
    total : np.ndarray [shape=(n_frames,)]
        Each frame's power in the band.
    """
    lo = max(1, int(PEAK_BAND[0] * n_fft / sr))
    hi = min(S.shape[0] - 1, int(PEAK_BAND[1] * n_fft / sr))
    band = S[lo - 1 : hi + 1]
    mid = band[1:-1]
    is_peak = (mid > band[:-2]) & (mid >= band[2:])
    peaks = np.where(is_peak, mid, 0.0)
    k = min(N_PEAKS, peaks.shape[0])
    idx = np.argpartition(-peaks, k - 1, axis=0)[:k]
    amp = np.take_along_axis(peaks, idx, axis=0)
    # parabolic interpolation of the peak position between neighbouring bins
    left = np.take_along_axis(band[:-2], idx, axis=0)
    right = np.take_along_axis(band[2:], idx, axis=0)
    denom = left - 2 * amp + right
    shift = np.where(np.abs(denom) > _EPS, 0.5 * (left - right) / np.where(denom == 0, 1, denom), 0)
    freq = (idx + lo + np.clip(shift, -0.5, 0.5)) * sr / n_fft
    return freq, amp, (mid**2).sum(axis=0)
