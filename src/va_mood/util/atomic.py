"""Atomic file writes: a reader sees the old file or the new one, never half of one.

Each write goes to a temporary file beside its target and is moved over it with
:func:`os.replace` only once it is complete, so an interrupted run, a full disk or a reader in
another process never finds a truncated cache segment, feature table or model file.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import OutputError

__all__ = ["atomic_path", "write_text", "write_with"]


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it over ``path`` if the block succeeds.

    The folder is created if missing, and the file gets the permissions the umask gives a new
    file. Whatever happens, no temporary file is left behind.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write.

    Yields
    ------
    tmp : Path
        The temporary file to write to, in the folder of ``path``.

    Raises
    ------
    OutputError
        When the file system fails (no space, no permission, a folder named ``path``); the
        message names ``path``.

    See Also
    --------
    write_text, write_with
    """
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"{path}: is a folder; give a file name to write")
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
        tmp = Path(name)
        yield tmp
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except OSError as exc:
        if isinstance(exc, OutputError):
            raise
        raise OutputError(f"{path}: cannot write ({exc.strerror or exc})") from None
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)


def write_text(path: str | os.PathLike, text: str, *, errors: str = "strict") -> None:
    """Write ``text`` to ``path`` atomically, as UTF-8.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write.
    text : str
        Its new contents.
    errors : str
        How characters UTF-8 cannot encode are handled, as in :meth:`str.encode`
        (``"surrogateescape"`` writes file names that are not UTF-8 byte for byte).

    Raises
    ------
    OutputError
        When the file cannot be written (see :func:`atomic_path`).
    """
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8", errors=errors)


def write_with(path: str | os.PathLike, writer: Callable[[Path], None]) -> None:
    """Call ``writer(tmp_path)`` and move the result to ``path`` atomically.

    For libraries that write files themselves (Parquet, NumPy, matplotlib): ``writer`` writes
    the whole file to the temporary path it is given.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write.
    writer : callable
        ``writer(tmp_path)`` writes the file's contents to ``tmp_path``.

    Raises
    ------
    OutputError
        When the file cannot be written (see :func:`atomic_path`).
    """
    with atomic_path(path) as tmp:
        writer(tmp)
