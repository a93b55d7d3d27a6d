"""The shared intermediates of one clip, each computed at most once.

Every feature function names the intermediates it needs as keyword arguments (``S``, ``C``,
``onset_env`` …); the extractor hands it the attribute of the same name from an
:class:`Analysis`, which computes it on first use and keeps it. So a clip's STFT, CQT and
onset envelope are computed once, however many features read them.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

from .config import AnalysisConfig

__all__ = ["Analysis"]


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
        """Autocorrelation tempogram [shape=(win_length, n_frames)], from :attr:`onset_env`."""
        import librosa

        c = self.config
        return librosa.feature.tempogram(
            onset_envelope=self.onset_env,
            sr=self.sr,
            hop_length=c.hop_length,
            win_length=c.tempogram_win_length,
        )

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
