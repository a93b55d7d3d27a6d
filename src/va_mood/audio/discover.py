"""Which files to analyse: files, folders searched recursively, glob patterns, and excerpts.

The command line takes whatever a user types (a song, a music library, ``*.flac``); this
module turns it into one sorted list of files, and says which arguments named nothing usable
instead of failing on them. An excerpt of a file is named like a file
(``song.mp3#t=12.000,18.000``), so that it goes wherever a file does.
"""

from __future__ import annotations

import errno
import glob
import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path

from ..errors import AudioError

__all__ = [
    "AUDIO_EXTENSIONS", "find_audio", "broken_link", "readable_file", "excerpt", "split_excerpt",
]  # fmt: skip

AUDIO_EXTENSIONS = (
    ".mp3", ".m4a", ".aac", ".flac", ".wav", ".wave", ".ogg", ".oga", ".opus",
    ".aif", ".aiff", ".aifc", ".wma", ".wv", ".mka",
)  # fmt: skip
"""The file name endings a folder search takes for audio (compared without case): the
endings music libraries use for the formats :func:`va_mood.audio.decode.load` reads. Video
containers (.mp4, .mkv, .webm) are left to be named: their sound decodes, but a folder
search of a library should not sweep up its films."""


def find_audio(
    paths: Iterable[str | os.PathLike], *, on_warning: Callable[[str], None] | None = None
) -> tuple[list[Path], dict[str, str]]:
    """Expand files, folders (recursively) and glob patterns into audio files.

    Files named explicitly are kept whatever their extension, so that decoding can say what
    is wrong with them; a folder search takes the files ending in :data:`AUDIO_EXTENSIONS`.
    Folders are searched through symbolic links, each folder once.

    Parameters
    ----------
    paths : iterable of str or os.PathLike
        Files, folders and glob patterns (``**`` matches folders recursively).
    on_warning : callable, optional
        Called with one line for each thing a folder search skips: a folder named like an
        audio file, a dangling link, a link loop, a folder that cannot be listed.

    Returns
    -------
    files : list of Path
        The audio files, in the order of ``paths``, each folder's and pattern's sorted, each
        file once.
    problems : dict
        ``{argument: message}`` for each argument that named nothing usable (a folder
        without audio, a pattern that matched nothing).
    """
    warn = on_warning or (lambda message: None)
    files: list[Path] = []
    problems: dict[str, str] = {}
    for raw in paths:
        raw = str(raw)
        path = Path(raw)
        if path.is_dir():
            found = _folder_audio(path, warn)
            if not found:
                problems[raw] = f"{path}: folder holds no audio files"
            files.extend(found)
        elif path.exists() or path.is_symlink() or not glob.has_magic(raw):
            files.append(path)
        else:
            matched = sorted(Path(p) for p in glob.glob(raw, recursive=True) if Path(p).is_file())
            if not matched:
                problems[raw] = f"{raw}: pattern matched no files"
            files.extend(matched)
    return list(dict.fromkeys(files)), problems


def _folder_audio(folder: Path, warn: Callable[[str], None]) -> list[Path]:
    """The audio files under ``folder``, sorted; links followed, each folder searched once."""
    found: list[Path] = []
    seen: set[tuple[int, int]] = set()
    stack = [folder]
    while stack:
        current = stack.pop()
        st = current.stat()
        if (st.st_dev, st.st_ino) in seen:
            warn(f"{current}: symbolic link loop (a folder inside itself), skipped")
            continue
        seen.add((st.st_dev, st.st_ino))
        try:
            entries = sorted(os.scandir(current), key=lambda e: e.name)
        except OSError as exc:
            warn(f"{current}: cannot list the folder ({exc.strerror}), skipped")
            continue
        for entry in entries:
            path = Path(entry.path)
            audio_name = path.suffix.lower() in AUDIO_EXTENSIONS
            if entry.is_symlink() and not path.exists():
                warn(f"{path}: {broken_link(path)}, skipped")
            elif entry.is_dir():
                if audio_name:
                    warn(f"{path}: a folder named like an audio file; searched as a folder")
                stack.append(path)
            elif audio_name and entry.is_file():
                found.append(path)
    return sorted(found)


def readable_file(path: str | os.PathLike) -> Path:
    """``path`` as a Path, if it names a file that can be read and holds something.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    Path

    Raises
    ------
    AudioError
        Naming ``path`` and why: no such file, a dangling link or a link loop, a folder,
        permission denied, an empty file.
    """
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


def broken_link(path: Path) -> str:
    """Why the symbolic link ``path`` leads nowhere: a loop, or a missing target.

    Parameters
    ----------
    path : Path
        A symbolic link whose target does not exist.

    Returns
    -------
    str
        ``"symbolic link loop"``, or ``"dangling symbolic link (to <target>, which does not
        exist)"``.
    """
    try:
        path.stat()
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "symbolic link loop"
    try:
        target = os.readlink(path)
    except OSError:
        target = "?"
    return f"dangling symbolic link (to {target}, which does not exist)"


_EXCERPT = re.compile(r"^(?P<path>.+)#t=(?P<start>\d+(?:\.\d+)?),(?P<end>\d+(?:\.\d+)?)$")


def excerpt(path: str | os.PathLike, start: float, end: float) -> str:
    """Name seconds ``start`` to ``end`` of ``path`` as one path-like string.

    The name is written as a Media Fragments URI writes a time range
    (``song.mp3#t=12.000,18.000``): :func:`va_mood.audio.decode.load` decodes only that
    stretch, and the feature cache keys it by the file's content and the range, so an
    excerpt goes wherever a file does.

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
