"""The shared intermediates of one clip, each computed at most once.

Every feature function names the intermediates it needs as keyword arguments (``S``, ``C``,
``onset_env`` …); the extractor hands it the attribute of the same name from an
:class:`Analysis`, which computes it on first use and keeps it. So a clip's STFT, CQT and
onset envelope are computed once, however many features read them.
"""

from __future__ import annotations

from functools import cache, cached_property

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .config import AnalysisConfig

__all__ = ["Analysis", "tempogram"]

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


def _memoise_cqt_filters() -> None:
    """Build each CQT filter bank once per process, not on every ``librosa.cqt`` call.

    librosa builds the Fourier transforms of its wavelet filters again for every octave of
    every call (about half of the CQT's time on a 30-second clip at 22.05 kHz). They depend
    only on the settings, so they are kept here, keyed by librosa's own arguments, and each
    call gets a copy (librosa rescales the basis in place). The CQT is the one librosa
    computes, to the bit. A librosa without that private helper is simply left alone.
    """
    from librosa.core import constantq

    build = vars(constantq).get("__vqt_filter_fft")  # private: may vanish in a new librosa
    if build is None or getattr(build, "va_mood_memoised", False):
        return

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
        return basis.copy(), n_fft, np.array(lengths, copy=True)

    memoised.va_mood_memoised = True
    setattr(constantq, "__vqt_filter_fft", memoised)


@cache
def _hann(n: int) -> np.ndarray:
    """librosa's tempogram window: periodic Hann, float32 (``get_window('hann', n)``)."""
    import scipy.signal

    window = scipy.signal.get_window("hann", n, fftbins=True).astype(np.float32)
    window.setflags(write=False)
    return window


def tempogram(onset_envelope: np.ndarray, *, win_length: int) -> np.ndarray:
    """``librosa.feature.tempogram(onset_envelope=..., win_length=...)`` to float32 rounding,
    in half the time [shape=(win_length, n_frames), dtype=float32].

    The autocorrelation of each Hann-windowed, centred stretch of the envelope (padded by
    linear ramps to 0), each frame scaled to a peak of 1 (frames of zeros left as they are).
    librosa computes in float64 along the strided frame axis; this in float32, along
    contiguous frames.
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
    """Lazily computed, shared representations of one mono signal ``y`` at rate ``sr``."""

    def __init__(self, y: np.ndarray, sr: int, config: AnalysisConfig) -> None:
        self.y = y
        self.sr = sr
        self.config = config

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
        (see :func:`va_mood.harmony.spectral_peaks`).
        """
        from .harmony import spectral_peaks

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
        _memoise_cqt_filters()
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
        [shape=(200, n_frames)], each frame carrying its 3 s patch's output
        (see :func:`va_mood.musicnn.frame_series`)."""
        from .musicnn import frame_series

        n_frames = 1 + len(self.y) // self.config.hop_length  # as the centred STFT
        return frame_series(self.y, self.sr, n_frames, self.config.hop_length)
