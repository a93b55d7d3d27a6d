"""Loudness as listeners hear it: ITU-R BS.1770-4 integrated loudness, and level normalisation.

The same music played louder or softer is the same music: before a clip is analysed its
decoded signal is brought to one integrated loudness (:data:`TARGET_LUFS` by default, see
:class:`va_mood.features.analysis.AnalysisConfig`), so no feature depends on the playback level
or the mastering gain, while everything relative within the clip (dynamics, crest factor,
loudness changes) is kept.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "TARGET_LUFS",
    "MAX_GAIN_DB",
    "LoudnessMeter",
    "k_weighting",
    "integrated_loudness",
    "FADE_SECONDS",
    "normalising_gain",
]

TARGET_LUFS = -14.0
"""Integrated loudness every clip is brought to before analysis: that of commercial masters
as streaming services play them, near what the pre-trained tagger heard in training."""

MAX_GAIN_DB = 60.0
"""The largest gain, up or down, normalisation applies (a near-silent file is not blown up
without bound)."""

FADE_SECONDS = 3.0
"""The most of a fade in or out :meth:`LoudnessMeter.unfaded` cuts at either end: longer than
most fades of the 30 s previews the shipped model learnt from (see docs/coordinates.md)."""

ABSOLUTE_GATE = -70.0
RELATIVE_GATE = -10.0
BLOCK_SECONDS = 0.4
STEP_SECONDS = 0.1  # 75 % overlap: a block is four consecutive steps
PER_BLOCK = round(BLOCK_SECONDS / STEP_SECONDS)
FADE_MIN_SECONDS = 0.5
"""A quiet edge shorter than this is not a fade: :meth:`LoudnessMeter.unfaded` keeps it."""


def _biquad(kind: str, f0: float, q: float, gain_db: float, sr: int) -> np.ndarray:
    """One RBJ audio-EQ-cookbook biquad (high shelf or high pass) as a second-order section
    ``[b0, b1, b2, 1, a1, a2]``."""
    big_a = 10 ** (gain_db / 40)
    w0 = 2 * math.pi * f0 / sr
    alpha = math.sin(w0) / (2 * q)
    cos = math.cos(w0)
    if kind == "high_shelf":
        root = 2 * math.sqrt(big_a) * alpha
        b = [
            big_a * ((big_a + 1) + (big_a - 1) * cos + root),
            -2 * big_a * ((big_a - 1) + (big_a + 1) * cos),
            big_a * ((big_a + 1) + (big_a - 1) * cos - root),
        ]
        a = [
            (big_a + 1) - (big_a - 1) * cos + root,
            2 * ((big_a - 1) - (big_a + 1) * cos),
            (big_a + 1) - (big_a - 1) * cos - root,
        ]
    else:  # high pass
        b = [(1 + cos) / 2, -(1 + cos), (1 + cos) / 2]
        a = [1 + alpha, -2 * cos, 1 - alpha]
    return np.array([*(np.array(b) / a[0]), 1.0, a[1] / a[0], a[2] / a[0]])


def k_weighting(sr: int) -> np.ndarray:
    """BS.1770's K-weighting filter, designed for any sample rate.

    A high shelf of +4 dB above about 1.5 kHz (the head's acoustic effect), then a high pass
    at 38 Hz, each an RBJ audio-EQ biquad with BS.1770's corner frequency and Q.

    Parameters
    ----------
    sr : int
        Sample rate of the signal to filter.

    Returns
    -------
    np.ndarray [shape=(2, 6)]
        Second-order sections, as :func:`scipy.signal.sosfilt` takes them.

    References
    ----------
    .. [1] ITU-R BS.1770-4, "Algorithms to measure audio programme loudness and true-peak
           audio level", 2015.
    .. [2] R. Bristow-Johnson, "Cookbook formulae for audio EQ biquad filter coefficients".
    """
    return np.stack(
        [
            _biquad("high_shelf", 1500.0, 1 / math.sqrt(2), 4.0, sr),
            _biquad("high_pass", 38.0, 0.5, 0.0, sr),
        ]
    )


class LoudnessMeter:
    """BS.1770-4 integrated loudness of a mono signal fed in consecutive chunks.

    The signal goes through the K-weighting filter (:func:`k_weighting`); its mean square
    power is taken over 400 ms blocks overlapping by 75 %; blocks below -70 LUFS are gated
    out, then blocks more than 10 LU below the mean of the rest; the loudness is
    ``-0.691 + 10 log10`` of the mean power of the blocks kept. A signal fed in chunks (a long
    recording, decoded as a stream) is measured exactly as a whole one, in memory of one
    value per 100 ms step.

    Parameters
    ----------
    sr : int
        Sample rate of the signal.

    See Also
    --------
    integrated_loudness : the same for a whole signal.

    References
    ----------
    .. [1] ITU-R BS.1770-4, "Algorithms to measure audio programme loudness and true-peak
           audio level", 2015.

    Examples
    --------
    >>> sr = 22050
    >>> tone = 0.1 * np.sin(2 * np.pi * 1000 * np.arange(5 * sr) / sr)
    >>> meter = LoudnessMeter(sr)
    >>> for chunk in np.array_split(tone, 7):
    ...     meter.add(chunk)
    >>> round(meter.integrated(), 1) == round(integrated_loudness(tone, sr), 1)
    True
    """

    def __init__(self, sr: int) -> None:
        import scipy.signal

        self.sr = sr
        self._sos = k_weighting(sr)
        self._state = scipy.signal.sosfilt_zi(self._sos) * 0.0
        self._step = max(1, round(STEP_SECONDS * sr))
        self._partial = np.zeros(0)  # filtered samples of the step not yet complete
        self._steps: list[np.ndarray] = []  # mean square of each complete step

    def add(self, y: np.ndarray) -> None:
        """Measure the next chunk of the signal.

        Parameters
        ----------
        y : np.ndarray [shape=(n_samples,)]
            The samples that follow those measured so far (any length, also empty).
        """
        import scipy.signal

        filtered, self._state = scipy.signal.sosfilt(
            self._sos, np.asarray(y, dtype=np.float64).ravel(), zi=self._state
        )
        samples = np.concatenate([self._partial, filtered])
        whole = len(samples) // self._step * self._step
        if whole:
            self._steps.append((samples[:whole] ** 2).reshape(-1, self._step).mean(axis=1))
        self._partial = samples[whole:]

    def _measured_steps(self) -> np.ndarray:
        """Mean square of each complete 100 ms step so far, K-weighted."""
        return np.concatenate(self._steps) if self._steps else np.zeros(0)

    def integrated(self) -> float:
        """Integrated loudness of the signal measured so far.

        Returns
        -------
        float
            LUFS; ``-inf`` for silence or a signal shorter than one 400 ms block.
        """
        steps = self._measured_steps()
        if len(steps) < PER_BLOCK:
            return float("-inf")
        blocks = np.lib.stride_tricks.sliding_window_view(steps, PER_BLOCK).mean(axis=1)
        with np.errstate(divide="ignore"):
            loudness = -0.691 + 10 * np.log10(blocks)
        kept = blocks[loudness > ABSOLUTE_GATE]
        if not len(kept):
            return float("-inf")
        relative = -0.691 + 10 * np.log10(kept.mean()) + RELATIVE_GATE
        with np.errstate(divide="ignore"):
            kept = kept[-0.691 + 10 * np.log10(kept) > relative]
        return float(-0.691 + 10 * np.log10(kept.mean()))

    def unfaded(self, gate: float, longest: float) -> tuple[int, int]:
        """The samples measured so far without their faded edges.

        A faded edge is the run of 100 ms steps at either end whose level lies more than
        ``gate`` LU below the integrated loudness (a fade in or out, a quiet lead-in). Left
        in, it would make a clip and an excerpt of its middle summarise differently.

        Parameters
        ----------
        gate : float
            LU below the integrated loudness under which a step at an edge is faded.
        longest : float
            The most, in seconds, cut at either end (at most a quarter of the signal per end
            is cut either way).

        Returns
        -------
        start, stop : int
            The samples ``[start, stop)`` to keep. An edge shorter than
            :data:`FADE_MIN_SECONDS` is kept (a pause between notes is not a fade), and
            everything is kept for silence and for a signal under a second.
        """
        steps = self._measured_steps()
        total = len(steps) * self._step + len(self._partial)
        loudness = self.integrated()
        if not math.isfinite(loudness) or total < self.sr:
            return 0, total
        with np.errstate(divide="ignore"):
            heard = np.flatnonzero(-0.691 + 10 * np.log10(steps) >= loudness - gate)
        limit = min(round(longest * self.sr), total // 4)
        start = min(int(heard[0]) * self._step, limit)
        after = (len(steps) - 1 - int(heard[-1])) * self._step  # quiet steps at the end
        end = min(after + len(self._partial), limit) if after else 0
        shortest = round(FADE_MIN_SECONDS * self.sr)
        return (start if start >= shortest else 0), total - (end if end >= shortest else 0)


def integrated_loudness(y: np.ndarray, sr: int) -> float:
    """BS.1770-4 integrated loudness of a mono signal.

    Parameters
    ----------
    y : np.ndarray [shape=(n_samples,)]
        The signal, of any length.
    sr : int
        Its sample rate, in Hz, as :class:`LoudnessMeter` takes it.

    Returns
    -------
    float
        Loudness in LUFS; ``-inf`` for silence or a signal shorter than 400 ms.

    See Also
    --------
    LoudnessMeter : the same for a signal given in chunks.
    normalising_gain : the factor that brings a signal to a target loudness.

    References
    ----------
    .. [1] ITU-R BS.1770-4, "Algorithms to measure audio programme loudness and true-peak
           audio level", 2015.
    """
    meter = LoudnessMeter(sr)
    meter.add(y)
    return meter.integrated()


def normalising_gain(loudness: float, target: float = TARGET_LUFS) -> float:
    """The factor that brings a signal of ``loudness`` LUFS to ``target`` LUFS.

    Parameters
    ----------
    loudness : float
        The signal's integrated loudness (:func:`integrated_loudness`).
    target : float
        The loudness wanted.

    Returns
    -------
    float
        The amplitude factor, its gain limited to ±:data:`MAX_GAIN_DB` dB; 1 for silence
        (``loudness`` not finite).

    Examples
    --------
    >>> normalising_gain(-20.0, target=-14.0)  # +6 dB
    1.9952623149688795
    """
    if not math.isfinite(loudness):
        return 1.0
    db = min(max(target - loudness, -MAX_GAIN_DB), MAX_GAIN_DB)
    return 10 ** (db / 20)
