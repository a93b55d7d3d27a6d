"""Long recordings in blocks: bounded memory, the same clip statistics, progress told.

A whole-clip analysis of an hour of audio would hold every intermediate of every frame at
once, so a file longer than :data:`LONG_FILE_SECONDS` is decoded as a stream and analysed in
blocks of :data:`BLOCK_SECONDS`, keeping from each only what the clip statistics need (see
:func:`extract_blocks`): block and whole-file statistics agree within :data:`TOLERANCE`, and
beyond :data:`ANALYSED_SECONDS` evenly spaced blocks stand for the whole."""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice
from types import SimpleNamespace
from typing import Any

import numpy as np

from ..audio.decode import MAX_DURATION, MIN_DURATION, duration, stream
from ..audio.loudness import LoudnessMeter, normalising_gain
from ..errors import ParameterError
from ..features.analysis import MAX_AMPLITUDE, Analysis, AnalysisConfig
from ..features.energy import tempo_lags, tempo_summary
from ..features.registry import REGISTRY, columns_for
from .segments import window_bounds

__all__ = [
    "LONG_FILE_SECONDS", "LONG_FILE_SAMPLES", "BLOCK_SECONDS", "ANALYSED_SECONDS", "COMPACT",
    "TOLERANCE", "SAMPLED_PER_BLOCK", "BLOCK_REDUCERS", "FileProgress", "context_frames",
    "extract_blocks", "extract_long", "extract_long_windows", "extract_block_windows",
    "loudness_gain",
]  # fmt: skip

LONG_FILE_SECONDS = 600.0
"""Files longer than this are extracted in blocks (:func:`extract_long`)."""
LONG_FILE_SAMPLES = int(LONG_FILE_SECONDS * 48_000)
"""Files with more samples per channel at their own rate than this (10 minutes at 48 kHz)
are extracted in blocks too, so a high-rate recording is never decoded whole."""
BLOCK_SECONDS = 60.0
"""Length of one block of a long recording."""
ANALYSED_SECONDS = 3 * 3600.0
"""Of a longer recording (read when ``longest`` allows) :func:`extract_long` analyses every
k-th block, this long in all, so that memory and time stay those of a recording this long."""
ANALYSIS_COST = 20.0
"""A second of audio analysed as a second of it measured costs this many, in progress."""
FileProgress = Callable[[float], None]
"""Called now and then while one long file is extracted, with the share of it done (0 to 1)."""
Kept = dict[str, list[np.ndarray]]
"""What is kept of each block, by group or intermediate: a list of arrays, one per block."""
CQT_CONTEXT_SECONDS = 2.0
"""Audio beyond each side of a block, at least, so its CQT frames see their full filters."""
COMPACT = ("chroma", "tonnetz", "onset_env", "C")
"""Intermediates small enough to keep for a whole recording (at most n_bins x frames)."""
TOLERANCE = {"rtol": 1e-3, "atol": 0.05}
"""Block against whole-file statistics: ``|block - whole| <= atol + rtol * |whole|``
(numpy's ``isclose``, as the tests check it); the values are dB, log2 and shares."""
SAMPLED_PER_BLOCK = frozenset(k for k, g in REGISTRY.items() if "musicnn" in g.inputs)
"""Groups whose block statistics sample each block, not the whole file, and so are not held
to :data:`TOLERANCE`: those reading the tagger's output (see :func:`extract_blocks`)."""
SAMPLED_SERIES_STEP = 16
"""Every this many frames of a :data:`SAMPLED_PER_BLOCK` group's series are kept: the tagger's
output changes once per 3 s patch, so every frame would repeat the same values."""


def context_frames(config: AnalysisConfig, sr: int) -> int:
    """Frames of audio a block needs on each side so that its own frames come out exact.

    A tempogram frame reads half a window of onset frames on each side, an onset frame the
    mel frames three and two before it, an STFT frame ``n_fft / 2`` samples on each side; the
    CQT's long low filters need :data:`CQT_CONTEXT_SECONDS`.

    Parameters
    ----------
    config, sr : AnalysisConfig, int
        The analysis settings, and the sample rate.

    Returns
    -------
    int
        Analysis frames of context on each side.
    """
    stft = math.ceil(config.n_fft / config.hop_length)
    cqt = math.ceil(CQT_CONTEXT_SECONDS * sr / config.hop_length)
    return max(config.tempogram_win_length // 2 + 2 * stft + 4, cqt)


def _tempo_partial(block: Analysis) -> tuple[np.ndarray, int, np.ndarray, np.ndarray, np.ndarray]:
    """The tempogram's lag sums, frame count, frame peaks (tempo, strength) and lag BPM."""
    T, bpm = tempo_lags(block.tempogram, block.sr, block.config)  # noqa: N806
    if T.size == 0:
        return np.zeros(0), 0, np.zeros(0), np.zeros(0), bpm
    return T.sum(axis=1), T.shape[1], bpm[np.argmax(T, axis=0)], T.max(axis=0), bpm


def _tempo_finish(parts: list[tuple]) -> np.ndarray:
    """The tempogram group's values from the partials of :func:`_tempo_partial`."""
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
                f"{key} summarises whole-clip {sorted(data - set(COMPACT))} and cannot be extracted"
                " in blocks; register a reducer in va_mood.extraction.long_files.BLOCK_REDUCERS"
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
    every: int = 1,
) -> np.ndarray:
    """Named features of one long signal, given as consecutive chunks, analysed in blocks.

    Parameters
    ----------
    chunks : iterable of np.ndarray [shape=(n,)]
        The mono signal at ``sr`` in consecutive pieces of any length
        (e.g. :func:`va_mood.audio.decode.stream`).
    sr : int
        Its sample rate.
    config, groups : AnalysisConfig, sequence of str
        The analysis settings, and the feature group keys.
    block_seconds : float
        Length of the blocks analysed at a time; memory grows with it.
    gain : float, optional
        The factor that brings the whole signal to ``config.loudness`` (see
        :func:`loudness_gain`). Without it the chunks are measured first, which keeps them
        all in memory: a caller that streams a file measures it in a pass of its own.
    every : int
        Analyse the first block of every ``every``: a sample of a very long signal.

    Returns
    -------
    np.ndarray [shape=(len(columns_for(groups)),)]
        As :func:`va_mood.features.clip.extract_clip` gives for the whole signal, within
        :data:`TOLERANCE`.

    Raises
    ------
    ParameterError
        For an unknown group, a clip-level group on a big intermediate without a
        :data:`BLOCK_REDUCERS` entry, or a signal under :data:`~va_mood.audio.decode.MIN_DURATION`.

    Notes
    -----
    Each block is analysed with :func:`context_frames` of audio on both sides, so its frames
    see the samples they would see in the whole clip. Kept from it are the per-frame output
    of the groups that read big intermediates (``y``, ``S``, ``mel_db``, ``peaks`` …), the
    :data:`COMPACT` intermediates, on which the other groups run once at the end, and the
    partials of :data:`BLOCK_REDUCERS`. CQT frames differ slightly at block joins (librosa
    resamples each block for its lower octaves), and a streamed signal by soxr's rounding:
    hence :data:`TOLERANCE`. The tagger samples :data:`~va_mood.features.musicnn.MAX_PATCHES`
    patches per block, not per file, so its groups (:data:`SAMPLED_PER_BLOCK`) are estimates
    from more of the recording, not held to :data:`TOLERANCE`.

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
    blocks = islice(_analysed_blocks(chunks, sr, config, block_seconds, gain), 0, None, every)
    series, clip, partials = _gather(blocks, sr, config, groups)  # a skipped block costs nothing
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
    """Named features of each window of one long signal, in blocks, as :func:`extract_blocks`.

    Parameters
    ----------
    chunks, sr, config, groups, gain, block_seconds
        As for :func:`extract_blocks`; ``gain`` is required.
    bounds : sequence of (float, float)
        ``(start, end)`` of each window, in seconds.

    Returns
    -------
    np.ndarray [shape=(len(bounds), len(columns_for(groups)))]
        As :func:`va_mood.extraction.segments.extract_windows` gives from a whole-clip
        analysis, within :data:`TOLERANCE` (the tagger's groups excepted).
    """
    columns_for(groups)
    fps = sr / config.hop_length
    frames = [(int(round(a * fps)), int(round(b * fps))) for a, b in bounds]
    blocks = _analysed_blocks(chunks, sr, config, block_seconds, gain)
    series, clip, partials = _gather(blocks, sr, config, groups, frames)
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
    blocks: Iterable[tuple[Analysis, slice, int]],
    sr: int,
    config: AnalysisConfig,
    groups: Sequence[str],
    frames: Sequence[tuple[int, int]] | None = None,
) -> tuple[Kept, SimpleNamespace, dict[str, list[list[tuple]]]]:
    """Keep of each analysed block (:func:`_analysed_blocks`) what the statistics need: series,
    compact intermediates (as one clip), and partials for the clip or per window ``frames``."""
    per_block, _, reduced, keep = _plan(groups)
    series: Kept = {g: [] for g in per_block}
    compact: Kept = {name: [] for name in keep}
    windows = [(0, None)] if frames is None else frames
    partials: dict[str, list[list[tuple]]] = {g: [[] for _ in windows] for g in reduced}
    for block, kept, f0 in blocks:
        _collect(block, kept, series, compact, aligned=frames is not None, f0=f0)
        for key, per_window in partials.items():
            for w, (start, stop) in enumerate(windows):
                end = f0 + kept.stop - kept.start
                lo, hi = max(start, f0), end if stop is None else min(stop, end)
                if lo < hi:
                    local = slice(kept.start + lo - f0, kept.start + hi - f0)
                    per_window[w].append(_partial(key, block, local))
    clip = SimpleNamespace(
        sr=sr, config=config, **{k: np.concatenate(v, axis=-1) for k, v in compact.items()}
    )
    return series, clip, partials


def _analysed_blocks(
    chunks: Iterable[np.ndarray], sr: int, config: AnalysisConfig, block_seconds: float, gain: float
) -> Iterator[tuple[Analysis, slice, int]]:
    """Each block's :class:`Analysis` (with :func:`context_frames` on both sides), the slice of
    its own frames in it and the first one's clip frame; ``chunks`` read as needed, by ``gain``."""
    hop = config.hop_length
    length = max(1, round(block_seconds * sr / hop))
    ctx = context_frames(config, sr)
    pieces = (_sanitised(piece, gain) for piece in chunks)
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


def _sanitised(piece: np.ndarray, gain: float) -> np.ndarray:
    """A chunk as float32 samples times ``gain``, NaN and inf as 0, clipped to ±MAX_AMPLITUDE."""
    piece = np.asarray(piece, dtype=np.float32).ravel() * np.float32(gain)
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
    block: Analysis, kept: slice, series: Kept, compact: Kept, *, aligned: bool = False, f0: int = 0
) -> None:
    """Keep from one block only what the clip statistics need (see :func:`extract_blocks`);
    the :data:`SAMPLED_PER_BLOCK` series only every :data:`SAMPLED_SERIES_STEP`-th frame."""
    # ``aligned``: the frames kept are the clip frames that are multiples of the step (``f0``
    # being the block's first clip frame), so that a window finds its frames by index.
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
    progress: FileProgress | None = None,
    analysed: float | None = ANALYSED_SECONDS,
) -> np.ndarray:
    """Decode and extract a long recording in blocks, in bounded memory: streamed twice when
    ``config.loudness`` is set, to measure it, then to analyse it.

    Parameters
    ----------
    path, longest : str or os.PathLike, float or None
        The audio file, and the longest recording accepted in seconds (``None``: no limit).
    config, groups, block_seconds
        As for :func:`extract_blocks`.
    progress : callable, optional
        Told the share of the file's work done now and then (:data:`FileProgress`).
    analysed : float or None
        Seconds of a longer recording analysed, in evenly spaced blocks; ``None``: all of it.

    Returns
    -------
    np.ndarray [shape=(len(columns_for(groups)),)]

    Raises
    ------
    AudioError, ParameterError
        As :func:`va_mood.audio.decode.stream` and :func:`extract_blocks` raise them.
    """
    measure = config.loudness is not None
    gain, _, chunks, every = _passes(path, config, longest, progress, measure, analysed)
    return extract_blocks(
        chunks, config.sr, config=config, groups=groups, block_seconds=block_seconds, gain=gain,
        every=every,
    )  # fmt: skip


def extract_long_windows(
    path: str | os.PathLike,
    *,
    config: AnalysisConfig,
    groups: Sequence[str],
    segment: float,
    hop: float | None = None,
    block_seconds: float = BLOCK_SECONDS,
    longest: float | None = MAX_DURATION,
    progress: FileProgress | None = None,
) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """Decode a long recording and extract each window of it in blocks, as :func:`extract_long`.

    Parameters
    ----------
    path, config, groups, block_seconds, longest, progress
        As for :func:`extract_long`.
    segment, hop : float
        The windows, as :func:`va_mood.extraction.segments.window_bounds` takes them.

    Returns
    -------
    features, bounds : np.ndarray [shape=(n_windows, n_features)], list of (float, float)
        As :func:`extract_block_windows` gives, and ``(start, end)`` of each window in seconds.

    Raises
    ------
    AudioError, ParameterError
        As :func:`extract_long` raises them, or for windows that are not positive.
    """
    gain, n_samples, chunks, _ = _passes(path, config, longest, progress, True, analysed=None)
    bounds = window_bounds(n_samples / config.sr, segment=segment, hop=hop)
    features = extract_block_windows(
        chunks, config.sr, config=config, groups=groups, bounds=bounds, gain=gain,
        block_seconds=block_seconds,
    )  # fmt: skip
    return features, bounds


def _passes(
    path: str | os.PathLike,
    config: AnalysisConfig,
    longest: float | None,
    progress: FileProgress | None,
    measure: bool,
    analysed: float | None,
) -> tuple[float, int, Iterator[np.ndarray], int]:
    """The gain and length in samples of ``path`` (from a measuring pass if ``measure``, else
    1 and 0), the stream of the analysing pass, and every how many blocks one is analysed for
    ``analysed`` seconds; ``progress`` is told how far through both passes the streams are."""
    seconds = min(duration(path), config.max_duration or math.inf)
    every = 1 if analysed is None else max(1, math.ceil(seconds / analysed))
    read = [0]  # samples of the last pass so far

    def chunks(start: float, share: float) -> Iterator[np.ndarray]:
        read[0] = 0
        for piece in stream(path, sr=config.sr, max_duration=config.max_duration, longest=longest):
            read[0] += len(piece)
            if progress is not None and seconds > 0:
                progress(start + share * min(1.0, read[0] / (seconds * config.sr)))
            yield piece

    first, gain = 1 / (1 + ANALYSIS_COST / every) if measure else 0.0, 1.0
    if measure:
        measuring = chunks(0.0, first)
        gain = loudness_gain(measuring, config.sr, config)
        for _ in measuring:  # what is left: all of it when there is no loudness to measure
            pass
    return gain, read[0], chunks(first, 1.0 - first), every


def loudness_gain(chunks: Iterable[np.ndarray], sr: int, config: AnalysisConfig) -> float:
    """The factor that brings the signal in ``chunks`` to ``config.loudness``, measured as
    :func:`va_mood.features.analysis.analysis_of` measures a whole clip.

    Parameters
    ----------
    chunks, sr, config
        As for :func:`extract_blocks`.

    Returns
    -------
    float
        The amplitude factor; 1 when ``config.loudness`` is ``None``.
    """
    if config.loudness is None:
        return 1.0
    meter = LoudnessMeter(sr)
    for chunk in chunks:
        meter.add(np.nan_to_num(np.asarray(chunk, dtype=np.float32), posinf=0.0, neginf=0.0))
    return normalising_gain(meter.integrated(), config.loudness)
