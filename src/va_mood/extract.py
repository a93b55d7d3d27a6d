"""Files to a named feature table: decoding, extraction, a content-keyed cache, worker processes.

A row is keyed by a hash of the file's bytes, so a renamed file is not extracted again and an
edited one is. The cache is one Parquet file per feature fingerprint (analysis settings +
groups + extractor version), rewritten atomically every ``checkpoint`` files, so an interrupted
run loses at most that many clips and the next run goes on from there.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._atomic import write_with
from .audio import load
from .config import AnalysisConfig
from .errors import VaMoodError
from .features import columns_for, extract_clip
from .segments import extract_windows

__all__ = ["file_key", "extract_files", "FeatureCache", "FINGERPRINT_KEY"]

FINGERPRINT_KEY = b"va_mood.fingerprint"
"""Parquet metadata key holding the feature fingerprint of a feature table."""

Progress = Callable[[str, str | None], None]
"""Called once per file with its path and its error message (None when it succeeded)."""


def file_key(path: str | os.PathLike) -> str:
    """A short hash of a file's bytes: the cache key of its features."""
    digest = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class FeatureCache:
    """Feature rows of one fingerprint, kept in ``folder/<fingerprint>.parquet``."""

    def __init__(self, folder: str | os.PathLike, fingerprint: str, columns: list[str]) -> None:
        self.path = Path(folder) / f"{fingerprint}.parquet"
        self.fingerprint = fingerprint
        self.columns = columns
        self.rows: dict[str, np.ndarray] = {}
        if self.path.exists():
            try:
                table = pd.read_parquet(self.path)
                if set(table.columns) == set(columns):
                    values = table[columns].to_numpy()
                    self.rows = dict(zip(table.index, values, strict=True))
            except (OSError, ValueError):
                self.rows = {}  # an unreadable cache is rebuilt, never trusted

    def save(self) -> None:
        table = pd.DataFrame(list(self.rows.values()), index=list(self.rows), columns=self.columns)
        table.index.name = "key"
        write_with(self.path, lambda tmp: table.to_parquet(tmp))


def _extract_path(
    path: str,
    config: AnalysisConfig,
    groups: Sequence[str],
    windows: tuple[float, float | None] | None = None,
) -> tuple[str, Any, str | None]:
    """Decode and extract one file; errors come back as messages, never as exceptions.

    The values are one feature row, or with ``windows = (segment, hop)`` a pair of
    (feature matrix, window bounds).
    """
    try:
        y, sr = load(path, sr=config.sr, max_duration=config.max_duration)
        if windows is not None:
            segment, hop = windows
            values = extract_windows(y, sr, config=config, groups=groups, segment=segment, hop=hop)
            return path, values, None
        return path, extract_clip(y, sr, config=config, groups=groups), None
    except VaMoodError as exc:
        return path, None, str(exc)
    except Exception as exc:  # noqa: BLE001 - one broken file must not end the batch
        return path, None, f"{path}: feature extraction failed ({type(exc).__name__}: {exc})"


def _init_worker() -> None:
    """One BLAS/OpenMP thread per worker process, so workers do not fight over cores."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)


def extract_files(
    paths: Sequence[str | os.PathLike],
    *,
    config: AnalysisConfig,
    groups: Sequence[str],
    jobs: int = 1,
    cache_dir: str | os.PathLike | None = None,
    progress: Progress | None = None,
    checkpoint: int = 50,
    segment: float | None = None,
    hop: float | None = None,
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Extract the named feature groups for many files, or for windows of them.

    With ``segment`` (seconds), each file gives one row per window of that length starting
    every ``hop`` seconds (see :func:`va_mood.segments.window_bounds`); windowed features are
    not cached.

    Returns
    -------
    features : pd.DataFrame [shape=(n_rows, n_features)]
        Indexed by path (as given), or by (path, start, end) with ``segment``; columns as
        :func:`va_mood.features.columns_for`.
    errors : dict
        ``{path: one-line message}`` for each file that could not be used.
    """
    groups = list(groups)
    columns = columns_for(groups)
    paths = [str(p) for p in paths]
    cache = None
    windows = None if segment is None else (segment, hop)
    if cache_dir is not None and windows is None:
        cache = FeatureCache(cache_dir, config.fingerprint(tuple(groups)), columns)
    rows: dict[str, np.ndarray] = {}
    errors: dict[str, str] = {}
    keys: dict[str, str] = {}
    todo = []
    for path in paths:
        if cache is not None:
            try:
                keys[path] = file_key(path)
            except OSError:
                todo.append(path)  # decoding will name the problem
                continue
            if keys[path] in cache.rows:
                rows[path] = cache.rows[keys[path]]
                if progress:
                    progress(path, None)
                continue
        todo.append(path)

    def record(result: tuple[str, Any, str | None], done: int) -> None:
        path, values, error = result
        if error is not None:
            errors[path] = error
        else:
            rows[path] = values
            if cache is not None and path in keys:
                cache.rows[keys[path]] = values
                if done % checkpoint == 0:
                    cache.save()
        if progress:
            progress(path, error)

    if jobs <= 1 or len(todo) <= 1:
        for done, path in enumerate(todo, 1):
            record(_extract_path(path, config, groups, windows), done)
    else:
        n = len(todo)
        with ProcessPoolExecutor(max_workers=jobs, initializer=_init_worker) as pool:
            results = pool.map(
                _extract_path, todo, [config] * n, [groups] * n, [windows] * n, chunksize=1
            )
            for done, result in enumerate(results, 1):
                record(result, done)
    if cache is not None and todo:
        cache.save()
    ordered = [p for p in paths if p in rows]
    if windows is None:
        index = pd.Index(ordered, name="path")
        return pd.DataFrame([rows[p] for p in ordered], index=index, columns=columns), errors
    tuples = [(p, a, b) for p in ordered for a, b in rows[p][1]]
    index = pd.MultiIndex.from_tuples(tuples, names=["path", "start", "end"])
    matrix = np.vstack([rows[p][0] for p in ordered]) if ordered else np.empty((0, len(columns)))
    return pd.DataFrame(matrix, index=index, columns=columns), errors
