"""Emotion over time: features for windows of a clip, and a summary of their moods.

A clip's shared intermediates (STFT, CQT, onset envelope …) are computed once for the whole
clip; each window then reads a slice of them through a :class:`WindowView`, so windowed
features cost a summary per window, not new transforms. Every intermediate of
:class:`~va_mood.features.analysis.Analysis` has its frames on its last axis, which is what
makes slicing it correct.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ParameterError
from ..features.analysis import Analysis, AnalysisConfig, analysis_of
from ..features.registry import REGISTRY, columns_for
from ..vocabulary import MOODS

__all__ = ["WindowView", "window_bounds", "extract_windows", "summarise_timeline"]


class WindowView:
    """Frames ``[start, stop)`` of an :class:`Analysis`, looking like an Analysis itself.

    Every intermediate is computed once, on the whole clip, and sliced on access.

    Parameters
    ----------
    parent : Analysis
        The whole clip's analysis (made with ``whole=False``, so frames stay in place).
    start, stop : int
        The window's first frame and the frame after its last.
    """

    def __init__(self, parent: Analysis, start: int, stop: int) -> None:
        self._parent = parent
        self._start = start
        self._stop = stop
        self.sr = parent.sr
        self.config = parent.config
        self.gain = parent.gain
        hop = parent.config.hop_length
        self.y = parent.y[start * hop : stop * hop]

    def __getattr__(self, name: str) -> Any:
        """The parent's intermediate ``name``, sliced to the window's frames."""
        value = getattr(self._parent, name)  # computed once, on the whole clip
        if isinstance(value, tuple):  # several series of the same frames (e.g. ``peaks``)
            return tuple(v[..., self._start : self._stop] for v in value)
        return value[..., self._start : self._stop]


def window_bounds(
    duration: float, *, segment: float, hop: float | None = None
) -> list[tuple[float, float]]:
    """The windows over a clip: ``segment`` seconds every ``hop`` seconds.

    The last, shorter window is kept when it covers at least half a segment, so the end of a
    clip is not silently dropped; a clip shorter than one segment is one window.

    Parameters
    ----------
    duration : float
        The clip's length, in seconds.
    segment : float
        Window length, in seconds.
    hop : float or None
        Seconds between window starts; ``None``: ``segment`` (back to back).

    Returns
    -------
    list of (float, float)
        ``(start, end)`` of each window, in seconds, rounded to milliseconds.

    Raises
    ------
    ParameterError
        When ``segment`` or ``hop`` is not positive.

    Examples
    --------
    >>> window_bounds(12.0, segment=5.0)
    [(0.0, 5.0), (5.0, 10.0)]
    >>> window_bounds(13.0, segment=5.0)
    [(0.0, 5.0), (5.0, 10.0), (10.0, 13.0)]
    """
    hop = segment if hop is None else hop
    if segment <= 0 or hop <= 0:
        raise ParameterError(f"segment and hop must be positive, got {segment} and {hop}")
    bounds = []
    start = 0.0
    while start + segment <= duration + 1e-6:
        bounds.append((start, start + segment))
        start += hop
    covered = bounds[-1][1] if bounds else 0.0
    if not bounds:
        bounds.append((0.0, duration))
    elif covered < duration - 1e-6 and duration - start >= segment / 2:
        bounds.append((start, duration))
    return [(round(a, 3), round(b, 3)) for a, b in bounds]


def extract_windows(
    y: np.ndarray,
    sr: int,
    *,
    config: AnalysisConfig,
    groups: Sequence[str],
    segment: float,
    hop: float | None = None,
) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """Named features for each window of one clip, from one analysis of the whole clip.

    Parameters
    ----------
    y, sr, config, groups : np.ndarray, int, AnalysisConfig, sequence of str
        The clip, its sample rate, the analysis settings and the feature group keys, as
        :func:`va_mood.features.clip.extract_clip` takes them.
    segment, hop : float
        The windows, as :func:`window_bounds` takes them.

    Returns
    -------
    features : np.ndarray [shape=(n_windows, n_features)]
        Columns as :func:`va_mood.features.registry.columns_for` ``(groups)``.
    bounds : list of (float, float)
        ``(start, end)`` of each window, in seconds.

    Raises
    ------
    ParameterError
        For an unknown group, a clip shorter than
        :data:`va_mood.audio.decode.MIN_DURATION`, or windows that are not positive.
    """
    columns_for(groups)
    analysis = analysis_of(y, sr, config, whole=False)
    bounds = window_bounds(len(y) / sr, segment=segment, hop=hop)
    frames_per_second = sr / config.hop_length
    rows = []
    for start, end in bounds:
        view = WindowView(
            analysis, int(round(start * frames_per_second)), int(round(end * frames_per_second))
        )
        rows.append(np.concatenate([REGISTRY[g].compute(view) for g in groups]))
    return np.vstack(rows), bounds


def summarise_timeline(segments: pd.DataFrame) -> pd.DataFrame:
    """Per file: the share of time in each mood, the number of mood changes, the main mood.

    Where windows overlap, each second counts once, for the window that starts last.

    Parameters
    ----------
    segments : pd.DataFrame
        Columns ``path``, ``start``, ``end`` and ``mood``, as ``predict --segment`` writes.

    Returns
    -------
    pd.DataFrame [shape=(n_files, 4 + len(MOODS))]
        ``path``, ``n_segments``, ``share_<mood>`` for each mood of
        :data:`va_mood.vocabulary.MOODS`, ``mood_changes`` and ``main_mood``.
    """
    rows = []
    for path, windows in segments.groupby("path", sort=False):
        windows = windows.sort_values("start")
        # overlapping windows: each second counts once, for the window that starts last
        ends = np.minimum(windows["end"].to_numpy(), np.r_[windows["start"].to_numpy()[1:], np.inf])
        length = np.maximum(ends - windows["start"].to_numpy(), 0.0)
        total = max(length.sum(), 1e-9)
        moods = windows["mood"].to_numpy()
        row = {"path": path, "n_segments": len(windows)}
        for mood in MOODS.values():
            row[f"share_{mood.lower()}"] = float(length[moods == mood].sum() / total)
        row["mood_changes"] = int((moods[1:] != moods[:-1]).sum())
        row["main_mood"] = max(MOODS.values(), key=lambda m: row[f"share_{m.lower()}"])
        rows.append(row)
    return pd.DataFrame(rows)
