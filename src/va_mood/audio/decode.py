"""Decode audio files (mp3, m4a, flac, wav, ogg, opus, aiff, wma, ...) to mono float32 at one rate.

Every feature is computed at one sample rate from one channel, so each file is downmixed and
resampled here. One decoder reads every format: FFmpeg's libraries, as the PyAV wheel bundles
them. Files come from users' libraries, so a broken, truncated or hostile file is refused with
an :class:`~va_mood.errors.AudioError` that says what is wrong, and a header that claims an
implausible rate, channel count or length is refused before anything is decoded.
"""

from __future__ import annotations

import errno
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from ..errors import AudioError
from .discover import readable_file, split_excerpt

__all__ = [
    "load", "stream", "duration", "native_samples", "MIN_DURATION",
    "MIN_RATE", "MAX_RATE", "MAX_CHANNELS", "MAX_DURATION", "DECODER",
]  # fmt: skip

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
"""Most channels accepted from a file's header (FFmpeg itself reads more)."""
MAX_DURATION = 3 * 3600.0
"""Longest recording, in seconds, read unless the caller allows more (``--max-duration``):
a header that claims more is refused before decoding."""
MAX_COMPRESSION = 20_000
"""The most a compressed file's declared 16-bit samples may outnumber its bytes; real codecs
stay far below (digital silence in FLAC comes nearest)."""
CHUNK_SAMPLES = 1 << 22
"""Samples of the mono signal handed on at a time (a block of :func:`stream`); decoding holds
one codec frame of all channels beyond it, downmixed as soon as it is decoded."""
DECODER = "ffmpeg-1"
"""The decoder and its conversion to mono, as the feature cache tells them apart: features of
another decoder (va_mood read files with libsndfile before) are extracted again. Bump it when
a change here changes the samples a file gives."""
_CONTAINERS = ("mp3", "wav", "w64", "flac", "ogg", "mov", "aiff", "asf", "matroska", "aac", "wv")
"""The FFmpeg demuxers a file may open with: FFmpeg guesses the format from the content and
knows hundreds (images, video, playlists that open other files), so only these are allowed."""
_OPEN = {"format_whitelist": ",".join(_CONTAINERS), "protocol_whitelist": "file",
         "probesize": "32768", "max_size": "262144"}  # fmt: skip
"""FFmpeg's options: the allowed containers, local files only, stream parameters sought in the
first 32 KiB (they are in the header or the first frame), WAV read in packets of 256 KiB."""
_PCM = re.compile(r"pcm_(?:[suf](?P<bits>8|16|24|32|64)|alaw|mulaw)")
"""FFmpeg's names of the codecs that store samples as they are: their width bounds the length."""
_SAMPLES = {"u8": np.uint8, "s16": np.int16, "s32": np.int32, "s64": np.int64, "flt": np.float32,
            "dbl": np.float64}  # fmt: skip
"""FFmpeg's sample formats (planar ones end in "p"); integers are scaled to [-1, 1) as
libsndfile scales them."""
_RIFF_UNKNOWN = 0x7FFFF000
"""A WAV data chunk this large or larger is a placeholder of a recorder that could not seek back."""


class _Header(NamedTuple):
    """What a file's container says before decoding: its rate and channels, the samples per
    channel it declares (``frames``, 0 when it does not say), and the bytes a stored sample
    takes (``width``, 0 for a compressed codec)."""

    rate: int
    channels: int
    frames: int
    width: int


def _mono(frame: Any) -> np.ndarray:
    """A decoded frame as mono float32, whatever its sample format and channel layout: the
    mean of its channels, integers scaled to [-1, 1) as libsndfile scales them."""
    kind = frame.format.name
    dtype, n, channels = _SAMPLES[kind.removesuffix("p")], frame.samples, frame.layout.nb_channels
    if kind.endswith("p"):
        planes = [np.frombuffer(plane, dtype, n) for plane in frame.planes]
    else:
        packed = np.frombuffer(frame.planes[0], dtype, n * channels)
        planes = [packed[c::channels] for c in range(channels)]
    if dtype in (np.float32, np.float64):
        planes = [plane.astype(np.float32, copy=False) for plane in planes]
    else:  # u8 is offset by 128
        zero, bits = 128 * (dtype == np.uint8), 8 * np.dtype(dtype).itemsize
        scale = np.float32(2.0 ** (1 - bits))
        planes = [(plane.astype(np.float32) - zero) * scale for plane in planes]
    if len(planes) < 3:
        return planes[0] if len(planes) == 1 else (planes[0] + planes[1]) / 2
    return np.mean(planes, axis=0, dtype=np.float32)


def load(
    path: str | os.PathLike,
    *,
    sr: int = 22050,
    max_duration: float | None = None,
    longest: float | None = MAX_DURATION,
) -> tuple[np.ndarray, int]:
    """Decode ``path`` to a mono signal at ``sr`` Hz.

    The channels are averaged and the signal resampled with soxr (high quality) when the
    file's rate differs from ``sr``. An excerpt is decoded from the start of its file, so it
    holds exactly the samples the whole file's signal holds there.

    Parameters
    ----------
    path : str or os.PathLike
        An audio file of any format FFmpeg reads here (mp3, m4a with AAC or ALAC, flac, wav,
        ogg with Vorbis, Opus or FLAC, opus, aiff, wma, wv, mka), any sample rate and channel
        count, or an excerpt of one (:func:`~va_mood.audio.discover.excerpt`).
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
        When the file is missing, unreadable, not audio, truncated, non-finite, shorter than
        :data:`MIN_DURATION` or longer than ``longest``, or its header is implausible (sample
        rate outside :data:`MIN_RATE`..:data:`MAX_RATE`, over :data:`MAX_CHANNELS` channels,
        more audio than the file's size can hold).

    Examples
    --------
    >>> y, sr = load("data/examples/macleod_hustle.mp3", sr=22050)  # doctest: +SKIP
    """
    import soxr

    path, start, end = split_excerpt(path)
    if end is not None:
        max_duration = min(end - start, max_duration or np.inf)
    path = readable_file(path)
    container, audio = _open(path)
    with container:
        head = _header(path, container, audio)
        _check_header(path, head, longest, max_duration)
        skip = int(start * head.rate)
        limit = None if max_duration is None else int(max_duration * head.rate)
        frames = _frames(path, container, audio, head.rate)
        parts = list(_blocks(path, frames, head.rate, skip, limit, longest))
    y = np.concatenate(parts) if parts else np.zeros(0, np.float32)
    _check_length(path, len(y), head, skip, limit)
    if not np.all(np.isfinite(y)):
        raise AudioError(f"{path}: holds non-finite samples (NaN or inf)")
    if head.rate != sr:
        y = soxr.resample(y, head.rate, sr, quality="HQ").astype(np.float32)
    if len(y) < MIN_DURATION * sr:
        raise AudioError(f"{path}: too short: {len(y) / sr:.2f} s, minimum is {MIN_DURATION} s")
    return np.ascontiguousarray(y, dtype=np.float32), sr


def _open(path: Path) -> tuple[Any, Any]:
    """``path`` opened by FFmpeg (one of :data:`_CONTAINERS`, local files only), and its audio
    stream; an AudioError when it is no audio FFmpeg can decode."""
    import av

    try:  # "file:" so that a name such as "AC:DC.mp3" is not taken for a protocol
        container = av.open(f"file:{path}", container_options=_OPEN, metadata_errors="replace")
    except (av.error.FFmpegError, OSError, UnicodeError, ValueError) as exc:
        raise AudioError(f"{path}: cannot decode audio ({_reason(exc, opening=True)})") from None
    audio = container.streams.best("audio")
    if audio is None or audio.codec_context is None:
        container.close()
        why = "holds no audio stream" if audio is None else "no decoder for its audio codec"
        raise AudioError(f"{path}: cannot decode audio ({why})")
    audio.codec_context.thread_count = 1  # the batch runs a process per core
    return container, audio


def _reason(exc: Exception, opening: bool = False) -> str:
    """FFmpeg's message, reworded where it misleads: a format that is not allowed is refused
    as an invalid argument, and one FFmpeg does not know is 'invalid data'."""
    import av

    refused = opening and isinstance(exc, av.error.FFmpegError) and exc.errno == errno.EINVAL
    if refused or isinstance(exc, av.error.InvalidDataError):
        return "not a recognised audio format, or corrupt data"
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


def _header(path: Path, container: Any, audio: Any, estimates: bool = False) -> _Header:
    """What the container of ``path`` declares; a length FFmpeg estimates from the bit rate
    (mp3 without a frame count, raw AAC) only if ``estimates``."""
    codec = audio.codec_context
    rate, channels = int(codec.sample_rate or 0), int(codec.channels or 0)
    frames = 0
    if audio.duration and audio.time_base:
        frames = int(audio.duration * audio.time_base * rate)
    elif container.duration:
        frames = int(container.duration * rate // 1_000_000)
    kind = container.format.name
    if not estimates and (kind == "aac" or (kind == "mp3" and not _counts_frames(path))):
        frames = 0
    pcm = _PCM.fullmatch(codec.name.removesuffix("le").removesuffix("be"))
    width = (int(pcm["bits"]) // 8 if pcm["bits"] else 1) if pcm else 0
    if kind == "wav" and width:
        frames = max(frames, _riff_frames(path))
    return _Header(rate, channels, max(frames, 0), width)


def _counts_frames(path: Path) -> bool:
    """Whether an mp3 opens with a Xing, Info or VBRI frame, which counts its frames (without
    one, its length is a guess from the bit rate of its first frame)."""
    with open(path, "rb") as fh:
        head, start = fh.read(10), 0
        if head[:3] == b"ID3" and len(head) == 10:  # skip the ID3v2 tag: 4 x 7-bit size
            size = sum((b & 0x7F) << (7 * (3 - i)) for i, b in enumerate(head[6:10]))
            start = 10 + size + (10 if head[5] & 0x10 else 0)
        fh.seek(start)
        block = fh.read(4096)
    return any(tag in block for tag in (b"Xing", b"Info", b"VBRI"))


def _riff_frames(path: Path) -> int:
    """Frames the data chunk of a WAV file declares (0: unknown), even beyond the end of the
    file: FFmpeg reports only what the file holds, which hides a truncated file."""
    with open(path, "rb") as fh:
        if fh.read(12)[8:] != b"WAVE":
            return 0
        block = 0
        for _ in range(64):  # chunks before the data: fmt, fact, LIST, bext, junk
            head = fh.read(8)
            if len(head) < 8:
                return 0
            size = int.from_bytes(head[4:], "little")
            if head[:4] == b"data":
                return size // block if block and 0 < size < _RIFF_UNKNOWN else 0
            if head[:4] == b"fmt ":
                block = int.from_bytes(fh.read(16)[12:14], "little")
                size = max(0, size - 16)
            fh.seek(size + (size & 1), os.SEEK_CUR)
    return 0


def _span(seconds: float) -> str:
    """A duration for a person: seconds, minutes or hours."""
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 60:.1f} min" if seconds >= 60 else f"{seconds:.1f} s"


def _too_long(path: Path, seconds: float, longest: float) -> AudioError:
    """The error for a recording of ``seconds`` over the limit of ``longest``."""
    return AudioError(
        f"{path}: {_span(seconds)} long, over the limit of {_span(longest)} "
        "(--max-duration raises it)"
    )


def _truncated(path: Path, held: float, declared: float) -> AudioError:
    """The error for a file that holds ``held`` seconds of the ``declared``."""
    return AudioError(
        f"{path}: truncated: decodes to {_span(held)} of the {_span(declared)} its header declares"
    )


def _check_header(path: Path, head: _Header, longest: float | None, reading: float | None) -> None:
    """Refuse, before decoding, a header whose rate, channels or length is implausible, more
    than the file's size holds, or (of the ``reading`` seconds read) longer than ``longest``."""
    rate, channels, frames = head.rate, head.channels, head.frames
    if not MIN_RATE <= rate <= MAX_RATE:
        raise AudioError(
            f"{path}: header declares a sample rate of {rate} Hz; audio files use "
            f"{MIN_RATE} to {MAX_RATE} Hz"
        )
    if not 1 <= channels <= MAX_CHANNELS:
        raise AudioError(
            f"{path}: header declares {channels} channels; at most {MAX_CHANNELS} are read"
        )
    if not frames:
        return  # unknown length: the decoding loop enforces ``longest``
    size = path.stat().st_size
    if head.width:  # stored as they are: the size says how much there is, as a decoder finds
        held = size // (head.width * channels)
        if held < TRUNCATED_SHARE * min(frames, (reading or np.inf) * rate):
            raise _truncated(path, held / rate, frames / rate)
    seconds = frames / rate
    if longest is not None and min(seconds, reading or np.inf) > longest:
        raise _too_long(path, seconds, longest)
    if not head.width and frames * channels > size * MAX_COMPRESSION / 2:
        raise AudioError(
            f"{path}: header declares {_span(seconds)} of {channels}-channel audio, more "
            f"than its {size} bytes can hold"
        )


def _frames(path: Path, container: Any, audio: Any, rate: int) -> Iterator[np.ndarray]:
    """Each frame of ``audio`` decoded to mono float32. A damaged packet is skipped, as
    players skip it; a file none of whose packets decode is refused."""
    import av

    failed: Exception | None = None
    decoded = False
    try:
        for packet in container.demux(audio):
            try:
                frames = packet.decode()
            except av.error.InvalidDataError as exc:
                failed = exc
                continue
            for frame in frames:
                if frame.sample_rate != rate:
                    raise AudioError(
                        f"{path}: cannot decode audio (its sample rate changes from {rate} "
                        f"to {frame.sample_rate} Hz)"
                    )
                decoded = True
                yield _mono(frame)
    except av.error.FFmpegError as exc:
        raise AudioError(f"{path}: cannot decode audio ({_reason(exc)})") from None
    if failed is not None and not decoded:
        raise AudioError(f"{path}: cannot decode audio ({_reason(failed)})")


def _blocks(
    path: Path,
    frames: Iterator[np.ndarray],
    rate: int,
    skip: int,
    limit: int | None,
    longest: float | None = MAX_DURATION,
    step: int = CHUNK_SAMPLES,
) -> Iterator[np.ndarray]:
    """The signal of ``frames`` from sample ``skip`` on, at most ``limit`` samples (None: to
    the end), in blocks of ``step`` samples and a last one shorter (maybe empty), which says
    that the signal ends; refused once it is longer than ``longest`` seconds."""
    most = np.inf if longest is None else int(longest * rate) + 1
    wanted = np.inf if limit is None else limit
    pending: list[np.ndarray] = []
    held = done = 0
    for y in frames:
        if skip:
            y, skip = y[skip:], max(0, skip - len(y))
        y = y[: int(min(len(y), wanted - done - held))]
        pending.append(y)
        held += len(y)
        if done + held > most:
            raise _too_long(path, (done + held) / rate, longest)
        while held >= step:
            joined = np.concatenate(pending)
            yield joined[:step]
            pending, held, done = [joined[step:]], held - step, done + step
        if done + held >= wanted:
            break
    yield np.concatenate(pending) if pending else np.zeros(0, np.float32)


def _check_length(path: Path, n: int, head: _Header, skip: int, limit: int | None) -> None:
    """Refuse ``n`` decoded samples (from sample ``skip``, of ``limit`` wanted) that are none,
    or too few of what the header declares."""
    if n == 0:
        raise AudioError(f"{path}: holds no audio samples")
    declared = max(0, head.frames - skip)
    expected = declared if limit is None else min(limit, declared)
    if expected and n < TRUNCATED_SHARE * expected:
        raise _truncated(path, n / head.rate, declared / head.rate)


def duration(path: str | os.PathLike) -> float:
    """Seconds of audio the header of ``path`` declares, without decoding it.

    Parameters
    ----------
    path : str or os.PathLike
        An audio file, or an excerpt of one (:func:`~va_mood.audio.discover.excerpt`).

    Returns
    -------
    float
        The declared length (an excerpt's own length), or FFmpeg's estimate from the bit
        rate where the header does not say; 0.0 when the file cannot be opened.

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
    try:
        checked = readable_file(path)
        container, audio = _open(checked)
    except AudioError:
        return 0, 1
    with container:
        head = _header(checked, container, audio, estimates=True)
    return (head.frames, head.rate) if head.frames and head.rate > 0 else (0, 1)


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
    a time, of at most :data:`CHUNK_SAMPLES` samples. The chunks joined equal :func:`load`'s
    signal up to the stream resampler's rounding, and the same problems raise the same
    :class:`AudioError` (a truncated file only once its end is reached).

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
    import soxr

    path = readable_file(path)
    container, audio = _open(path)
    with container:
        head = _header(path, container, audio)
        _check_header(path, head, longest, max_duration)
        rate = head.rate
        limit = None if max_duration is None else int(max_duration * rate)
        step = max(1, min(int(chunk_seconds * rate), CHUNK_SAMPLES))
        resampler = (
            None if rate == sr else soxr.ResampleStream(rate, sr, 1, dtype="float32", quality="HQ")
        )
        read = produced = 0
        frames = _frames(path, container, audio, rate)
        for y in _blocks(path, frames, rate, 0, limit, longest, step):
            read += len(y)
            if not np.all(np.isfinite(y)):
                raise AudioError(f"{path}: holds non-finite samples (NaN or inf)")
            if resampler is not None:
                y = resampler.resample_chunk(y, last=len(y) < step)
            produced += len(y)
            if len(y):
                yield np.ascontiguousarray(y, dtype=np.float32)
    _check_length(path, read, head, 0, limit)
    if produced < MIN_DURATION * sr:
        raise AudioError(f"{path}: too short: {produced / sr:.2f} s, minimum is {MIN_DURATION} s")
