"""Decode audio files (mp3, wav, ogg, flac) to mono float32 at one configured rate.

Every feature is computed at one sample rate from one channel, so each file is downmixed and
resampled here. Files come from users' libraries, so a broken, truncated or hostile file is
refused with an :class:`~va_mood.errors.AudioError` that says what is wrong, and a header that
claims an implausible rate, channel count or length is refused before anything is decoded.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import AudioError
from .discover import broken_link

__all__ = [
    "excerpt",
    "split_excerpt",
    "MIN_DURATION",
    "load",
    "stream",
    "duration",
    "MIN_RATE",
    "MAX_RATE",
    "MAX_CHANNELS",
    "MAX_DURATION",
    "native_samples",
]

MIN_DURATION = 0.5
"""Shortest clip, in seconds, that gives meaningful features."""
TRUNCATED_SHARE = 0.9
"""A file that decodes to less than this share of the length its header declares is truncated."""
MIN_RATE = 4000
"""Lowest sample rate (Hz) accepted from a file's header: below it there is no music to hear,
and a faked low rate makes a small file read as days of audio."""
MAX_RATE = 768_000
"""Highest sample rate (Hz) accepted from a file's header: the highest any audio codec uses."""
MAX_CHANNELS = 64
"""Most channels accepted from a file's header (libsndfile itself allows 1024)."""
MAX_DURATION = 3 * 3600.0
"""Longest recording, in seconds, read unless the caller allows more (``--max-duration``):
a header that claims more is refused before decoding."""
MAX_COMPRESSION = 20_000
"""The most a compressed file's declared 16-bit samples may outnumber its bytes; real codecs
stay far below (digital silence in FLAC comes nearest)."""
CHUNK_SAMPLES = 1 << 22
"""Samples (frames x channels) decoded at a time, so a file of many channels at a high rate
never needs more than one chunk of memory beyond its mono signal."""
_BYTES_PER_SAMPLE = {
    "PCM_S8": 1, "PCM_U8": 1, "ULAW": 1, "ALAW": 1, "PCM_16": 2, "PCM_24": 3, "PCM_32": 4,
    "FLOAT": 4, "DOUBLE": 8,
}  # fmt: skip
_UNCOMPRESSED = frozenset({"WAV", "WAVEX", "W64", "RF64", "AIFF", "AU"})
"""Containers whose samples are stored as they are (FLAC also names its subtype PCM_*)."""
_UNKNOWN_LENGTH = 2**62
"""libsndfile's frame counts at or above this mean "not known" (a stream)."""


@contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Silence what the C decoders (mpg123) print on file descriptor 2 while they run."""
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def _reason(exc: Exception) -> str:
    """libsndfile's message, reworded where it misleads (it calls unknown data 'not a file')."""
    text = str(exc)
    if "not a regular file" in text or "Format not recognised" in text:
        return "not a recognised audio format, or corrupt data"
    return text.split(":")[-1].strip() or type(exc).__name__


def _downmix(data: np.ndarray) -> np.ndarray:
    """The mean of the channels [shape=(n, channels)], as ``data.mean(axis=1)`` but without
    numpy's slow reduction over a short axis for mono and stereo."""
    if data.shape[1] == 1:
        return data[:, 0]
    if data.shape[1] == 2:
        return (data[:, 0] + data[:, 1]) / 2
    return data.mean(axis=1)


def _checked(path: str | os.PathLike) -> Path:
    """``path`` as a Path, if it names a readable, non-empty file; else an AudioError."""
    path = Path(path)
    if not path.exists():
        reason = broken_link(path) if path.is_symlink() else "no such file"
        raise AudioError(f"{path}: {reason}")
    if path.is_dir():
        raise AudioError(f"{path}: is a folder, not an audio file")
    if not os.access(path, os.R_OK):
        raise AudioError(f"{path}: permission denied")
    if path.stat().st_size == 0:
        raise AudioError(f"{path}: empty file (0 bytes)")
    return path


_EXCERPT = re.compile(r"^(?P<path>.+)#t=(?P<start>\d+(?:\.\d+)?),(?P<end>\d+(?:\.\d+)?)$")


def excerpt(path: str | os.PathLike, start: float, end: float) -> str:
    """Name seconds ``start`` to ``end`` of ``path`` as one path-like string.

    The name is written as a Media Fragments URI writes a time range
    (``song.mp3#t=12.000,18.000``): :func:`load` decodes only that stretch, and the feature
    cache keys it by the file's content and the range, so an excerpt goes wherever a file
    does.

    Parameters
    ----------
    path : str or os.PathLike
        The audio file.
    start, end : float
        The excerpt's bounds, in seconds from the start of the file.

    Returns
    -------
    str
        ``f"{path}#t={start:.3f},{end:.3f}"``.

    See Also
    --------
    split_excerpt

    References
    ----------
    .. [1] W3C, "Media Fragments URI 1.0 (basic)", Recommendation, 2012.
    """
    return f"{path}#t={start:.3f},{end:.3f}"


def split_excerpt(path: str | os.PathLike) -> tuple[str, float, float | None]:
    """Split a name made by :func:`excerpt` into its file and time range.

    Parameters
    ----------
    path : str or os.PathLike
        An excerpt's name, or a plain path.

    Returns
    -------
    file : str
        The audio file.
    start : float
        Seconds from the start of the file (0.0 for a plain path).
    end : float or None
        Seconds from the start of the file; None for a plain path, or for an existing file
        whose own name happens to look like an excerpt.
    """
    text = str(path)
    match = _EXCERPT.match(text)
    if match is None or os.path.exists(text):
        return text, 0.0, None
    return match["path"], float(match["start"]), float(match["end"])


def load(
    path: str | os.PathLike,
    *,
    sr: int = 22050,
    max_duration: float | None = None,
    longest: float | None = MAX_DURATION,
) -> tuple[np.ndarray, int]:
    """Decode ``path`` to a mono signal at ``sr`` Hz.

    The channels are averaged and the signal resampled with soxr (high quality) when the
    file's rate differs from ``sr``.

    Parameters
    ----------
    path : str or os.PathLike
        An mp3, wav, ogg or flac file of any sample rate and channel count, or an excerpt of
        one (:func:`excerpt`).
    sr : int
        Target sample rate.
    max_duration : float or None
        Read at most this many seconds from the start (of the excerpt, for an excerpt).
    longest : float or None
        Refuse a recording longer than this many seconds (None: no limit), from its header
        before decoding where the header says.

    Returns
    -------
    y : np.ndarray [shape=(n_samples,), dtype=float32]
        The mono signal.
    sr : int
        Its sample rate, as requested.

    Raises
    ------
    AudioError
        When the file is missing, unreadable, not audio, non-finite, shorter than
        :data:`MIN_DURATION` or longer than ``longest``, or its header is implausible (sample
        rate outside :data:`MIN_RATE`..:data:`MAX_RATE`, over :data:`MAX_CHANNELS` channels,
        more audio than the file's size can hold).

    Examples
    --------
    >>> y, sr = load("data/examples/macleod_hustle.mp3", sr=22050)  # doctest: +SKIP
    """
    import soundfile as sf
    import soxr

    path, start, end = split_excerpt(path)
    if end is not None:
        max_duration = min(end - start, max_duration or np.inf)
    path = _checked(path)
    try:
        with _quiet_stderr(), sf.SoundFile(os.fsencode(path)) as fh:
            _check_header(path, fh, longest, max_duration)
            native_sr = fh.samplerate
            declared = max(0, fh.frames - int(start * native_sr))
            if start:
                fh.seek(min(int(start * native_sr), fh.frames))
            frames = -1 if max_duration is None else int(max_duration * native_sr)
            y = _read_mono(path, fh, frames, longest)
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        raise AudioError(f"{path}: cannot decode audio ({_reason(exc)})") from None
    if y.size == 0:
        raise AudioError(f"{path}: holds no audio samples")
    expected = declared if frames < 0 else min(frames, declared)
    if 0 < expected < _UNKNOWN_LENGTH and len(y) < TRUNCATED_SHARE * expected:
        raise AudioError(
            f"{path}: truncated: decodes to {len(y) / native_sr:.1f} s of the "
            f"{declared / native_sr:.1f} s its header declares"
        )
    if not np.all(np.isfinite(y)):
        raise AudioError(f"{path}: holds non-finite samples (NaN or inf)")
    if native_sr != sr:
        y = soxr.resample(y, native_sr, sr, quality="HQ").astype(np.float32)
    if len(y) < MIN_DURATION * sr:
        raise AudioError(f"{path}: too short: {len(y) / sr:.2f} s, minimum is {MIN_DURATION} s")
    return np.ascontiguousarray(y, dtype=np.float32), sr


def _length(seconds: float) -> str:
    """A duration for a person: seconds, minutes or hours."""
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 60:.1f} min" if seconds >= 60 else f"{seconds:.1f} s"


def _too_long(path: Path, seconds: float, longest: float) -> AudioError:
    """The error for a recording of ``seconds`` over the limit of ``longest``."""
    return AudioError(
        f"{path}: {_length(seconds)} long, over the limit of {_length(longest)} "
        "(--max-duration raises it)"
    )


def _check_header(path: Path, fh: Any, longest: float | None, reading: float | None = None) -> None:
    """Refuse, before decoding, a header whose rate, channels or length is implausible, more
    than the file's size holds, or (of the ``reading`` seconds read) longer than ``longest``."""
    rate, channels, frames = fh.samplerate, fh.channels, fh.frames
    if not MIN_RATE <= rate <= MAX_RATE:
        raise AudioError(
            f"{path}: header declares a sample rate of {rate} Hz; audio files use "
            f"{MIN_RATE} to {MAX_RATE} Hz"
        )
    if not 1 <= channels <= MAX_CHANNELS:
        raise AudioError(
            f"{path}: header declares {channels} channels; at most {MAX_CHANNELS} are read"
        )
    if not 0 <= frames < _UNKNOWN_LENGTH:
        return  # unknown length: the decoding loop enforces ``longest``
    seconds = frames / rate
    if longest is not None and min(seconds, reading or np.inf) > longest:
        raise _too_long(path, seconds, longest)
    size = path.stat().st_size
    per_sample = _BYTES_PER_SAMPLE.get(fh.subtype) if fh.format in _UNCOMPRESSED else None
    capacity = size / per_sample if per_sample else size * MAX_COMPRESSION / 2
    if frames * channels > capacity:
        raise AudioError(
            f"{path}: header declares {_length(seconds)} of {channels}-channel audio, more "
            f"than its {size} bytes can hold"
        )


def _read_mono(path: Path, fh: Any, frames: int, longest: float | None) -> np.ndarray:
    """Up to ``frames`` frames (-1: all) of ``fh``, downmixed a chunk of :data:`CHUNK_SAMPLES`
    at a time so memory holds the mono signal and one chunk; refused past ``longest``."""
    step = max(1, CHUNK_SAMPLES // fh.channels)
    limit = None if longest is None else int(longest * fh.samplerate) + 1
    parts: list[np.ndarray] = []
    read = 0
    while frames < 0 or read < frames:
        n = step if frames < 0 else min(step, frames - read)
        data = fh.read(frames=n, dtype="float32", always_2d=True)
        if len(data):
            parts.append(_downmix(data))
            read += len(data)
        if len(data) < n:
            break
        if limit is not None and read > limit:
            raise _too_long(path, read / fh.samplerate, longest)
    return np.concatenate(parts) if parts else np.zeros(0, np.float32)


def duration(path: str | os.PathLike) -> float:
    """Seconds of audio the header of ``path`` declares, without decoding it.

    Parameters
    ----------
    path : str or os.PathLike
        An audio file, or an excerpt of one (:func:`excerpt`).

    Returns
    -------
    float
        The declared length (an excerpt's own length); 0.0 when the header cannot be read or
        does not say.

    See Also
    --------
    native_samples
    """
    path, start, end = split_excerpt(path)
    if end is not None:
        return end - start
    frames, rate = _declared(path)
    return frames / rate if frames else 0.0


def native_samples(path: str | os.PathLike) -> int:
    """Samples per channel, at the file's own rate, that the header of ``path`` declares.

    What decoding the file whole would hold in memory, as float32, before resampling: a
    high-rate file can be short and still too large to decode at once.

    Parameters
    ----------
    path : str or os.PathLike
        As :func:`duration` takes it.

    Returns
    -------
    int
        The declared count (an excerpt's share of it); 0 when unknown.

    See Also
    --------
    duration
    """
    path, start, end = split_excerpt(path)
    frames, rate = _declared(path)
    return frames if end is None else min(frames, int((end - start) * rate))


def _declared(path: str) -> tuple[int, int]:
    """``(frames, sample rate)`` from the header of ``path``; ``(0, 1)`` when unknown."""
    import soundfile as sf

    try:
        with _quiet_stderr():
            info = sf.info(os.fsencode(path))
    except Exception:  # noqa: BLE001 - decoding will name the problem
        return 0, 1
    if 0 < info.frames < _UNKNOWN_LENGTH and info.samplerate > 0:
        return int(info.frames), int(info.samplerate)
    return 0, 1


def stream(
    path: str | os.PathLike,
    *,
    sr: int = 22050,
    max_duration: float | None = None,
    chunk_seconds: float = 10.0,
    longest: float | None = MAX_DURATION,
) -> Iterator[np.ndarray]:
    """Decode ``path`` piece by piece to mono float32 chunks at ``sr`` Hz.

    The streaming counterpart of :func:`load` for long recordings: memory holds one chunk at
    a time, of at most :data:`CHUNK_SAMPLES` samples of all channels. The chunks joined equal
    :func:`load`'s signal up to the stream resampler's rounding, and the same problems raise
    the same :class:`AudioError` (a truncated file only once its end is reached).

    Parameters
    ----------
    path, sr, max_duration, longest
        As for :func:`load`; ``path`` names a file, not an excerpt.
    chunk_seconds : float
        Seconds of the file decoded at a time, at most.

    Yields
    ------
    np.ndarray [shape=(n_samples,), dtype=float32]
    """
    import soundfile as sf
    import soxr

    path = _checked(path)
    try:
        with _quiet_stderr():
            fh = sf.SoundFile(os.fsencode(path))
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        raise AudioError(f"{path}: cannot decode audio ({_reason(exc)})") from None
    with fh:
        _check_header(path, fh, longest, max_duration)
        native_sr, declared = fh.samplerate, fh.frames
        limit = None if max_duration is None else int(max_duration * native_sr)
        longest_frames = None if longest is None else int(longest * native_sr) + 1
        step = max(1, min(int(chunk_seconds * native_sr), CHUNK_SAMPLES // fh.channels))
        resampler = (
            None
            if native_sr == sr
            else soxr.ResampleStream(native_sr, sr, 1, dtype="float32", quality="HQ")
        )
        read = produced = 0
        while True:
            n = step if limit is None else min(step, limit - read)
            try:
                with _quiet_stderr():
                    data = fh.read(frames=n, dtype="float32", always_2d=True) if n > 0 else None
            except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
                raise AudioError(f"{path}: cannot decode audio ({_reason(exc)})") from None
            last = data is None or len(data) < n
            y = np.zeros(0, np.float32) if data is None else _downmix(data)
            read += len(y)
            if longest_frames is not None and read > longest_frames:
                raise _too_long(path, read / native_sr, longest)
            if not np.all(np.isfinite(y)):
                raise AudioError(f"{path}: holds non-finite samples (NaN or inf)")
            if resampler is not None:
                y = resampler.resample_chunk(y, last=last)
            produced += len(y)
            if len(y):
                yield np.ascontiguousarray(y, dtype=np.float32)
            if last:
                break
    if read == 0:
        raise AudioError(f"{path}: holds no audio samples")
    expected = declared if limit is None else min(limit, declared)
    if 0 < expected < _UNKNOWN_LENGTH and read < TRUNCATED_SHARE * expected:
        raise AudioError(
            f"{path}: truncated: decodes to {read / native_sr:.1f} s of the "
            f"{declared / native_sr:.1f} s its header declares"
        )
    if produced < MIN_DURATION * sr:
        raise AudioError(f"{path}: too short: {produced / sr:.2f} s, minimum is {MIN_DURATION} s")
