"""Decode audio files (mp3, wav, ogg, flac) to mono float32 at one configured rate."""

from __future__ import annotations

import glob
import os
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from .errors import AudioError

__all__ = [
    "excerpt",
    "split_excerpt",
    "AUDIO_EXTENSIONS",
    "MIN_DURATION",
    "load",
    "stream",
    "duration",
    "find_audio",
]

AUDIO_EXTENSIONS = (".mp3", ".wav", ".ogg", ".oga", ".flac")
MIN_DURATION = 0.5
"""Shortest clip, in seconds, that gives meaningful features."""
TRUNCATED_SHARE = 0.9
"""A file that decodes to less than this share of the length its header declares is truncated."""


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
        raise AudioError(f"{path}: no such file")
    if path.is_dir():
        raise AudioError(f"{path}: is a folder, not an audio file")
    if not os.access(path, os.R_OK):
        raise AudioError(f"{path}: permission denied")
    if path.stat().st_size == 0:
        raise AudioError(f"{path}: empty file (0 bytes)")
    return path


_EXCERPT = re.compile(r"^(?P<path>.+)#t=(?P<start>\d+(?:\.\d+)?),(?P<end>\d+(?:\.\d+)?)$")


def excerpt(path: str | os.PathLike, start: float, end: float) -> str:
    """The name of seconds ``start`` to ``end`` of ``path``, as a Media Fragments URI writes a
    time range (``song.mp3#t=12.000,18.000``): :func:`load` decodes only that stretch, and the
    feature cache keys it by the file's content and the range."""
    return f"{path}#t={start:.3f},{end:.3f}"


def split_excerpt(path: str | os.PathLike) -> tuple[str, float, float | None]:
    """``(file, start, end)`` of a name made by :func:`excerpt`; ``(path, 0.0, None)`` for a
    plain path (or a file whose own name happens to look like an excerpt)."""
    text = str(path)
    match = _EXCERPT.match(text)
    if match is None or os.path.exists(text):
        return text, 0.0, None
    return match["path"], float(match["start"]), float(match["end"])


def load(
    path: str | os.PathLike, *, sr: int = 22050, max_duration: float | None = None
) -> tuple[np.ndarray, int]:
    """Decode ``path`` to a mono signal at ``sr`` Hz.

    Parameters
    ----------
    path : str or Path
        An mp3, wav, ogg or flac file of any sample rate and channel count, or an excerpt of
        one (:func:`excerpt`).
    sr : int
        Target sample rate; the file is resampled with soxr when it differs.
    max_duration : float or None
        Read at most this many seconds from the start.

    Returns
    -------
    y : np.ndarray [shape=(n,), dtype=float32]
    sr : int

    Raises
    ------
    AudioError
        When the file is missing, unreadable, not audio, non-finite or shorter than
        :data:`MIN_DURATION`.

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
        with _quiet_stderr(), sf.SoundFile(path) as fh:
            native_sr = fh.samplerate
            declared = max(0, fh.frames - int(start * native_sr))
            if start:
                fh.seek(min(int(start * native_sr), fh.frames))
            frames = -1 if max_duration is None else int(max_duration * native_sr)
            data = fh.read(frames=frames, dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        raise AudioError(f"{path}: cannot decode audio ({_reason(exc)})") from None
    if data.size == 0:
        raise AudioError(f"{path}: holds no audio samples")
    expected = declared if frames < 0 else min(frames, declared)
    if 0 < expected < 2**62 and len(data) < TRUNCATED_SHARE * expected:
        raise AudioError(
            f"{path}: truncated: decodes to {len(data) / native_sr:.1f} s of the "
            f"{declared / native_sr:.1f} s its header declares"
        )
    y = _downmix(data)
    if not np.all(np.isfinite(y)):
        raise AudioError(f"{path}: holds non-finite samples (NaN or inf)")
    if native_sr != sr:
        y = soxr.resample(y, native_sr, sr, quality="HQ").astype(np.float32)
    if len(y) < MIN_DURATION * sr:
        raise AudioError(f"{path}: too short: {len(y) / sr:.2f} s, minimum is {MIN_DURATION} s")
    return np.ascontiguousarray(y, dtype=np.float32), sr


def duration(path: str | os.PathLike) -> float:
    """Seconds of audio the header of ``path`` declares (an excerpt's length); 0.0 when it
    cannot be read."""
    import soundfile as sf

    path, start, end = split_excerpt(path)
    if end is not None:
        return end - start
    try:
        with _quiet_stderr():
            info = sf.info(str(path))
        return float(info.frames) / info.samplerate if 0 < info.frames < 2**62 else 0.0
    except Exception:  # noqa: BLE001 - decoding will name the problem
        return 0.0


def stream(
    path: str | os.PathLike,
    *,
    sr: int = 22050,
    max_duration: float | None = None,
    chunk_seconds: float = 10.0,
) -> Iterator[np.ndarray]:
    """Decode ``path`` piece by piece to mono float32 chunks at ``sr`` Hz.

    The streaming counterpart of :func:`load` for long recordings: memory holds one chunk of
    the file at a time (soundfile reads, soxr resamples as a stream). The concatenated
    chunks equal :func:`load`'s signal up to the resampler's rounding; the same problems
    raise the same :class:`AudioError` (a truncated file only once its end is reached).
    """
    import soundfile as sf
    import soxr

    path = _checked(path)
    try:
        with _quiet_stderr():
            fh = sf.SoundFile(path)
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        raise AudioError(f"{path}: cannot decode audio ({_reason(exc)})") from None
    with fh:
        native_sr, declared = fh.samplerate, fh.frames
        limit = None if max_duration is None else int(max_duration * native_sr)
        step = max(1, int(chunk_seconds * native_sr))
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
    if 0 < expected < 2**62 and read < TRUNCATED_SHARE * expected:
        raise AudioError(
            f"{path}: truncated: decodes to {read / native_sr:.1f} s of the "
            f"{declared / native_sr:.1f} s its header declares"
        )
    if produced < MIN_DURATION * sr:
        raise AudioError(f"{path}: too short: {produced / sr:.2f} s, minimum is {MIN_DURATION} s")


def find_audio(paths: Iterable[str | os.PathLike]) -> tuple[list[Path], dict[str, str]]:
    """Expand files, folders (recursively) and glob patterns into audio files.

    Returns the files, sorted and without repeats, and ``{argument: message}`` for
    each argument that named nothing usable (a folder without audio, a glob that matched
    nothing).
    Files named explicitly are kept whatever their extension, so that decoding can say
    what is wrong with them.
    """
    files: list[Path] = []
    problems: dict[str, str] = {}
    for raw in paths:
        raw = str(raw)
        path = Path(raw)
        if path.is_dir():
            found = sorted(
                p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_EXTENSIONS
            )
            if not found:
                problems[raw] = f"{path}: folder holds no audio files"
            files.extend(found)
        elif path.exists() or not glob.has_magic(raw):
            files.append(path)
        else:
            matched = sorted(Path(p) for p in glob.glob(raw, recursive=True) if Path(p).is_file())
            if not matched:
                problems[raw] = f"{raw}: pattern matched no files"
            files.extend(matched)
    return list(dict.fromkeys(files)), problems
