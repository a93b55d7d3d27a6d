"""Long recordings in blocks: bounded memory, the same clip statistics.

A whole-clip :class:`~va_mood.features.analysis.Analysis` of an hour of audio would hold every
intermediate of every frame at once (the STFT alone has 1025 bins for each of its 155,000
frames at the default settings). A file longer than :data:`LONG_FILE_SECONDS` is
therefore decoded as a stream (:func:`va_mood.audio.decode.stream`) and analysed in blocks of
:data:`BLOCK_SECONDS`, each with :func:`context_frames` of audio on both sides, so every kept
frame of a block sees the same samples as it would in the whole clip. From each block only
small things are kept:

- the per-frame output of the frame-wise groups that read the big intermediates (``y``,
  ``S``, ``mel_db``, ``peaks`` …: RMS, ZCR, contrast, MFCC, spectral shape, dissonance,
  harmonicity), summarised over the whole series at the end as usual;
- the compact intermediates :data:`COMPACT` (chroma 12 x frames, tonnetz, onset envelope,
  the CQT magnitude), on which the remaining groups (key, local key, chords, harmonic change,
  chroma, CQT bands …) run once over the whole clip at the end;
- for the tempogram group, the running sum of the tempo-lag profile and each frame's peak
  (:data:`BLOCK_REDUCERS`).

STFT, onset-envelope and tempogram frames are computed from the same samples with the same
padding at the clip's ends as in the whole clip (equal up to float rounding); CQT frames
differ slightly at block joins (librosa resamples each block for its lower octaves) and the
decoded signal differs from :func:`va_mood.audio.decode.load` by soxr's stream rounding, so block
and whole-file statistics agree within :data:`TOLERANCE` (checked by the tests and by
``benchmarks/extract_speed.py --only compare``).

Windows of a long recording (``predict --segment``) go through the same blocks
(:func:`extract_long_windows`): a window's statistics are taken over its frames of the kept
series and compact intermediates, the tempogram's from partials over the window's frames of
each block, so memory stays that of a whole-file extraction.

The one exception is the pre-trained tagger's groups (:data:`SAMPLED_PER_BLOCK`): the tagger
runs on at most :data:`va_mood.features.musicnn.MAX_PATCHES` 3 s patches of each block (spread over
the
block), where a whole-file analysis spreads that many over the whole file. Their block
statistics are therefore estimates from more of the recording, not held to
:data:`TOLERANCE`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from types import SimpleNamespace
from typing import Any

import numpy as np

from ..audio.decode import MAX_DURATION, MIN_DURATION, stream
from ..audio.loudness import LoudnessMeter, normalising_gain
from ..errors import ParameterError
from ..features.analysis import MAX_AMPLITUDE, Analysis, AnalysisConfig
from ..features.energy import tempo_lags, tempo_summary
from ..features.registry import REGISTRY, columns_for
from .segments import window_bounds

__all__ = [
    "LONG_FILE_SECONDS",
    "LONG_FILE_SAMPLES",
    "BLOCK_SECONDS",
    "COMPACT",
    "TOLERANCE",
    "SAMPLED_PER_BLOCK",
    "BLOCK_REDUCERS",
    "context_frames",
    "extract_blocks",
    "extract_long",
    "extract_long_windows",
    "extract_block_windows",
    "loudness_gain",
]

LONG_FILE_SECONDS = 600.0
"""Files longer than this are extracted in blocks (:func:`extract_long`)."""
LONG_FILE_SAMPLES = int(LONG_FILE_SECONDS * 48_000)
"""Files with more samples per channel at their own rate than this (10 minutes at 48 kHz)
are extracted in blocks too, so a high-rate recording is never decoded whole."""
BLOCK_SECONDS = 60.0
"""Length of one block of a long recording."""
CQT_CONTEXT_SECONDS = 2.0
"""Audio beyond each side of a block, at least, so its CQT frames see their full filters."""
COMPACT = ("chroma", "tonnetz", "onset_env", "C")
"""Intermediates small enough to keep for a whole recording (at most n_bins x frames)."""
TOLERANCE = {"rtol": 1e-3, "atol": 0.05}
"""Block against whole-file statistics: ``|block - whole| <= atol + rtol * |whole|``
(numpy's ``isclose``); the values are dB, log2 and shares, so 0.05 is far below what any
model could notice."""
SAMPLED_PER_BLOCK = frozenset(k for k, g in REGISTRY.items() if "musicnn" in g.inputs)
"""Groups whose block statistics sample each block, not the whole file, and so are not held
to :data:`TOLERANCE`: those reading the tagger's output (see the module docstring)."""
SAMPLED_SERIES_STEP = 16
"""Every this many frames of a :data:`SAMPLED_PER_BLOCK` group's series are kept: the tagger's
output changes once per 3 s patch, so every frame of its 250 rows would hold the same values
many times over."""


def context_frames(config: AnalysisConfig, sr: int) -> int:
    """Frames of audio a block needs on each side so that its own frames come out exact.

    A tempogram frame reads half a window of onset frames on each side, an onset frame the
    mel frames three and two before it, an STFT frame ``n_fft / 2`` samples on each side.
    """
    stft = math.ceil(config.n_fft / config.hop_length)
    cqt = math.ceil(CQT_CONTEXT_SECONDS * sr / config.hop_length)
    return max(config.tempogram_win_length // 2 + 2 * stft + 4, cqt)


def _tempo_partial(block: Analysis) -> tuple[np.ndarray, int, np.ndarray, np.ndarray, np.ndarray]:
    T, bpm = tempo_lags(block.tempogram, block.sr, block.config)  # noqa: N806
    if T.size == 0:
        return np.zeros(0), 0, np.zeros(0), np.zeros(0), bpm
    return T.sum(axis=1), T.shape[1], bpm[np.argmax(T, axis=0)], T.max(axis=0), bpm


def _tempo_finish(parts: list[tuple]) -> np.ndarray:
    total = sum(p[1] for p in parts)
    if total == 0:
        return np.zeros(len(REGISTRY["arousal.tempogram"].columns))
    profile = sum(p[0] for p in parts if p[1]) / total
    frame_tempo = np.concatenate([p[2] for p in parts])
    strength = np.concatenate([p[3] for p in parts])
    return tempo_summary(profile, frame_tempo, strength, parts[0][4])


BLOCK_REDUCERS: dict[str, tuple[Callable[[Any], tuple], Callable[[list[tuple]], np.ndarray]]] = {
    "arousal.tempogram": (_tempo_partial, _tempo_finish),
}
"""Clip-level groups that read a big intermediate: ``(partial(block), finish(partials))``,
where ``block`` has the group's inputs for the kept frames of one block."""


def _plan(groups: Sequence[str]) -> tuple[list[str], list[str], list[str], set[str]]:
    """Split groups into frame-wise per-block ones, whole-clip ones on :data:`COMPACT`
    intermediates, and reduced ones; and the compact intermediates to keep."""
    per_block, whole, reduced, keep = [], [], [], set()
    for key in groups:
        group = REGISTRY[key]
        data = set(group.inputs) - {"sr", "config"}
        if key in BLOCK_REDUCERS:
            reduced.append(key)
        elif data <= set(COMPACT):
            whole.append(key)
            keep |= data
        elif group.stats is not None:
            per_block.append(key)
        else:
            raise ParameterError(
                f"{key} summarises whole-clip {sorted(data - set(COMPACT))} and cannot be "
                "extracted in blocks; register a reducer in "
                "va_mood.extraction.long_files.BLOCK_REDUCERS"
            )
    return per_block, whole, reduced, keep


def extract_blocks(
    chunks: Iterable[np.ndarray],
    sr: int,
    *,
    config: AnalysisConfig,
    groups: Sequence[str],
    block_seconds: float = BLOCK_SECONDS,
    gain: float | None = None,
) -> np.ndarray:
    """Named features of one long signal, given as consecutive chunks, analysed in blocks.

    Parameters
    ----------
    chunks : iterable of np.ndarray [shape=(n,)]
        The mono signal at ``sr`` in consecutive pieces of any length
        (e.g. :func:`va_mood.audio.decode.stream`).
    block_seconds : float
        Length of the blocks analysed at a time; memory grows with it, results barely change.
    gain : float, optional
        The factor that brings the whole signal to ``config.loudness`` (see
        :func:`loudness_gain`). Without it the chunks are measured first, which keeps them
        all in memory: a caller that streams a file measures it in a pass of its own.

    Returns
    -------
    np.ndarray [shape=(len(columns_for(groups)),)]
        As :func:`va_mood.features.clip.extract_clip` gives for the whole signal, within
        :data:`TOLERANCE`.

    Examples
    --------
    >>> y = np.random.default_rng(0).standard_normal(22050 * 20).astype(np.float32)
    >>> row = extract_blocks([y], 22050, config=AnalysisConfig(), groups=["arousal.rms"],
    ...                      block_seconds=5.0)
    >>> row.shape
    (5,)
    """
    columns_for(groups)
    if gain is None:
        chunks = list(chunks)
        gain = loudness_gain(chunks, sr, config)
    series, clip, partials = _gather(chunks, sr, config, groups, block_seconds, gain)
    values = {}
    for key in series:
        values[key] = REGISTRY[key].finish(np.concatenate(series[key], axis=1))
    for key in partials:
        values[key] = REGISTRY[key].finish(BLOCK_REDUCERS[key][1](partials[key][0]))
    for key in set(groups) - set(values):
        values[key] = REGISTRY[key].compute(clip)
    return np.concatenate([values[g] for g in groups])


def extract_block_windows(
    chunks: Iterable[np.ndarray],
    sr: int,
    *,
    config: AnalysisConfig,
    groups: Sequence[str],
    bounds: Sequence[tuple[float, float]],
    gain: float,
    block_seconds: float = BLOCK_SECONDS,
) -> np.ndarray:
    """Named features of each window ``bounds`` (seconds) of one long signal, analysed in
    blocks: the windowed counterpart of :func:`extract_blocks`, in the same bounded memory.

    A window's statistics are taken over its frames of the clip's series, as
    :func:`va_mood.extraction.segments.extract_windows` takes them from the whole-clip analysis,
    within
    :data:`TOLERANCE` (the tagger's groups excepted, see the module docstring).

    Returns
    -------
    np.ndarray [shape=(len(bounds), len(columns_for(groups)))]
    """
    columns_for(groups)
    fps = sr / config.hop_length
    frames = [(int(round(a * fps)), int(round(b * fps))) for a, b in bounds]
    series, clip, partials = _gather(chunks, sr, config, groups, block_seconds, gain, frames)
    series = {k: np.concatenate(v, axis=1) for k, v in series.items()}
    rows = []
    for w, (start, stop) in enumerate(frames):
        values = []
        for key in groups:
            if key in series:
                step = SAMPLED_SERIES_STEP if key in SAMPLED_PER_BLOCK else 1
                part = series[key][:, -(-start // step) : -(-stop // step)]
                values.append(REGISTRY[key].finish(part))
            elif key in partials:
                values.append(REGISTRY[key].finish(BLOCK_REDUCERS[key][1](partials[key][w])))
            else:
                view = SimpleNamespace(sr=sr, config=config, **_sliced(clip, start, stop))
                values.append(REGISTRY[key].compute(view))
        rows.append(np.concatenate(values))
    return np.vstack(rows)


def _sliced(clip: SimpleNamespace, start: int, stop: int) -> dict[str, np.ndarray]:
    """Frames ``[start, stop)`` of the compact intermediates kept for a whole clip."""
    return {k: v[..., start:stop] for k, v in vars(clip).items() if k not in ("sr", "config")}


def _gather(
    chunks: Iterable[np.ndarray],
    sr: int,
    config: AnalysisConfig,
    groups: Sequence[str],
    block_seconds: float,
    gain: float,
    frames: Sequence[tuple[int, int]] | None = None,
) -> tuple[dict[str, list[np.ndarray]], SimpleNamespace, dict[str, list[list[tuple]]]]:
    """Analyse the scaled chunks block by block and keep what the statistics need: the
    frame-wise groups' series, the compact intermediates (as one clip) and the reducers'
    partials, one list for the clip or, with ``frames`` (window frame ranges), per window."""
    per_block, _, reduced, keep = _plan(groups)
    series: dict[str, list[np.ndarray]] = {g: [] for g in per_block}
    compact: dict[str, list[np.ndarray]] = {name: [] for name in keep}
    windows = [(0, None)] if frames is None else frames
    partials: dict[str, list[list[tuple]]] = {g: [[] for _ in windows] for g in reduced}
    scaled = (np.asarray(chunk, dtype=np.float32) * np.float32(gain) for chunk in chunks)
    for block, kept, f0 in _analysed_blocks(scaled, sr, config, block_seconds, gain):
        _collect(block, kept, series, compact, aligned=frames is not None, f0=f0)
        for key, per_window in partials.items():
            for w, (start, stop) in enumerate(windows):
                lo = max(start, f0)
                hi = (
                    f0 + (kept.stop - kept.start)
                    if stop is None
                    else min(stop, f0 + kept.stop - kept.start)
                )
                if lo < hi:
                    local = slice(kept.start + lo - f0, kept.start + hi - f0)
                    per_window[w].append(_partial(key, block, local))
    clip = SimpleNamespace(
        sr=sr, config=config, **{k: np.concatenate(v, axis=-1) for k, v in compact.items()}
    )
    return series, clip, partials


def _analysed_blocks(
    chunks: Iterable[np.ndarray],
    sr: int,
    config: AnalysisConfig,
    block_seconds: float,
    gain: float = 1.0,
) -> Iterator[tuple[Analysis, slice, int]]:
    """Each block's :class:`Analysis` (its frames and :func:`context_frames` on both sides),
    the slice of the block's own frames in it and the clip frame the first of them is,
    reading ``chunks`` only as far as needed."""
    hop = config.hop_length
    length = max(1, round(block_seconds * sr / hop))
    ctx = context_frames(config, sr)
    pieces = (_sanitised(piece) for piece in chunks)
    buf, buf_start, eof, f0 = np.zeros(0, np.float32), 0, False, 0
    while True:
        s0, s1 = max(0, f0 - ctx) * hop, (f0 + length + ctx) * hop
        buf, eof = _read_until(pieces, buf, s1 - buf_start, eof)
        end = buf_start + len(buf)
        f1 = min(f0 + length, 1 + end // hop) if eof else f0 + length
        if f0 >= f1:
            return
        if eof and f0 == 0 and end < MIN_DURATION * sr:
            raise ParameterError(
                f"too short: {end} samples ({end / sr:.2f} s), minimum is {MIN_DURATION} s"
            )
        block = Analysis(buf[s0 - buf_start : min(s1, end) - buf_start], sr, config, gain)
        yield block, slice(f0 - s0 // hop, f0 - s0 // hop + f1 - f0), f0
        del block
        next_start = max(0, f1 - ctx) * hop
        buf, buf_start, f0 = buf[next_start - buf_start :].copy(), next_start, f1


def _sanitised(piece: np.ndarray) -> np.ndarray:
    """A chunk as float32 samples, NaN and infinities as 0, clipped to ±MAX_AMPLITUDE."""
    piece = np.asarray(piece, dtype=np.float32).ravel()
    return np.clip(np.nan_to_num(piece, posinf=0.0, neginf=0.0), -MAX_AMPLITUDE, MAX_AMPLITUDE)


def _read_until(
    pieces: Iterator[np.ndarray], buf: np.ndarray, size: int, eof: bool
) -> tuple[np.ndarray, bool]:
    """``buf`` extended from ``pieces`` to at least ``size`` samples (or to their end)."""
    more: list[np.ndarray] = []
    while not eof and len(buf) + sum(map(len, more)) < size:
        try:
            more.append(next(pieces))
        except StopIteration:
            eof = True
    return (np.concatenate([buf, *more]) if more else buf), eof


def _collect(
    block: Analysis,
    kept: slice,
    series: dict[str, list[np.ndarray]],
    compact: dict[str, list[np.ndarray]],
    *,
    aligned: bool = False,
    f0: int = 0,
) -> None:
    """Keep from one block only what the clip statistics need (see the module docstring).

    The :data:`SAMPLED_PER_BLOCK` series keep every :data:`SAMPLED_SERIES_STEP`-th frame;
    ``aligned``, those of the clip frames that are multiples of the step (``f0`` being the
    block's first clip frame), so that a window finds its frames by index."""
    for key, parts in series.items():
        step = SAMPLED_SERIES_STEP if key in SAMPLED_PER_BLOCK else 1
        phase = (-f0) % step if aligned else 0
        # a copy, so that the block's whole output (context frames too) is not kept alive
        raw = np.atleast_2d(REGISTRY[key].raw(block))[:, kept]
        parts.append(raw[:, phase::step].copy())
    for name, parts in compact.items():
        parts.append(getattr(block, name)[..., kept])


def _partial(key: str, block: Analysis, frames: slice) -> tuple:
    """A reducer's partial over ``frames`` of one block (indices into the block's frames)."""
    view = SimpleNamespace(sr=block.sr, config=block.config)
    for name in REGISTRY[key].inputs:
        if name not in ("sr", "config"):
            setattr(view, name, getattr(block, name)[..., frames])
    return BLOCK_REDUCERS[key][0](view)


def extract_long(
    path: str | os.PathLike,
    *,
    config: AnalysisConfig,
    groups: Sequence[str],
    block_seconds: float = BLOCK_SECONDS,
    longest: float | None = MAX_DURATION,
) -> np.ndarray:
    """Decode and extract a long recording in blocks (:func:`extract_blocks`), in memory
    bounded by the block length, not the recording's; one longer than ``longest`` seconds is
    refused (:func:`va_mood.audio.decode.stream`)."""

    def chunks() -> Iterator[np.ndarray]:
        return stream(path, sr=config.sr, max_duration=config.max_duration, longest=longest)

    gain = loudness_gain(chunks(), config.sr, config) if config.loudness is not None else 1.0
    return extract_blocks(
        chunks(), config.sr, config=config, groups=groups, block_seconds=block_seconds, gain=gain
    )


def extract_long_windows(
    path: str | os.PathLike,
    *,
    config: AnalysisConfig,
    groups: Sequence[str],
    segment: float,
    hop: float | None = None,
    block_seconds: float = BLOCK_SECONDS,
    longest: float | None = MAX_DURATION,
) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """Decode a long recording and extract each window of it (``segment`` seconds every
    ``hop``, as :func:`va_mood.extraction.segments.window_bounds`) in blocks, in the memory of
    :func:`extract_long`: the features [shape=(n_windows, n_features)] and the windows."""

    def chunks() -> Iterator[np.ndarray]:
        return stream(path, sr=config.sr, max_duration=config.max_duration, longest=longest)

    gain, n_samples = _measured(chunks(), config.sr, config)
    bounds = window_bounds(n_samples / config.sr, segment=segment, hop=hop)
    features = extract_block_windows(
        chunks(), config.sr, config=config, groups=groups, bounds=bounds, gain=gain,
        block_seconds=block_seconds,
    )  # fmt: skip
    return features, bounds


def loudness_gain(chunks: Iterable[np.ndarray], sr: int, config: AnalysisConfig) -> float:
    """The factor that brings the signal in ``chunks`` to ``config.loudness`` (1 without it),
    measured as :func:`va_mood.features.analysis.analysis_of` measures a whole clip."""
    if config.loudness is None:
        return 1.0
    return _measured(chunks, sr, config)[0]


def _measured(chunks: Iterable[np.ndarray], sr: int, config: AnalysisConfig) -> tuple[float, int]:
    """:func:`loudness_gain` of the signal in ``chunks``, and its length in samples."""
    meter = LoudnessMeter(sr) if config.loudness is not None else None
    n_samples = 0
    for chunk in chunks:
        n_samples += len(chunk)
        if meter is not None:
            meter.add(np.nan_to_num(np.asarray(chunk, dtype=np.float32), posinf=0.0, neginf=0.0))
    if meter is None:
        return 1.0, n_samples
    return normalising_gain(meter.integrated(), config.loudness), n_samples
