"""SHA-256 digests of files: how shipped weights and model bundles are checked.

A file is read a megabyte at a time, so a large one is hashed in constant memory.
"""

from __future__ import annotations

import hashlib
import os

__all__ = ["sha256_of"]


def sha256_of(path: str | os.PathLike) -> str:
    """The SHA-256 of a file's bytes.

    Parameters
    ----------
    path : str or os.PathLike
        The file to hash.

    Returns
    -------
    str
        The digest as 64 lowercase hexadecimal digits.

    Raises
    ------
    OSError
        When the file cannot be read.
    """
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
