"""Files to a named feature table: decoding, extraction, a content-keyed cache, worker processes.

A row is keyed by a hash of the file's bytes, so a renamed file is not extracted again and an
edited one is. The cache is one Parquet file per analysis setting, with the columns of every
feature group extracted so far (and each group's extractor version): a configuration with
other groups extracts only the groups a file lacks. It is rewritten atomically every
``checkpoint`` files, so an interrupted run loses at most that many clips and the next run
goes on from there.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._atomic import write_with
from ._malloc import keep_freed_memory
from ._threads import one_thread
from .audio import duration, load
from .blocks import LONG_FILE_SECONDS, extract_long
from .config import AnalysisConfig
from .errors import ParameterError, VaMoodError
from .features import REGISTRY, columns_for, extract_clip
from .segments import extract_windows

__all__ = [
    "file_key",
    "extract_files",
    "n_jobs",
    "keep_freed_memory",
    "FeatureCache",
    "FINGERPRINT_KEY",
    "BACKENDS",
]

BACKENDS = ("process", "dask")
"""Where extraction runs: a local process pool, or a Dask (distributed) cluster."""

FINGERPRINT_KEY = b"va_mood.fingerprint"
"""Parquet metadata key holding the feature fingerprint of a feature table."""
GROUP_VERSIONS_KEY = b"va_mood.group_versions"
"""Parquet metadata key holding the extractor version of each group in a feature cache."""

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
    """Feature values of one analysis setting, kept in ``folder/<analysis fingerprint>.parquet``.

    One row per file (keyed by :func:`file_key`), one column per feature column of every
    group extracted so far; a row holds NaN for the groups not yet extracted for its file
    (extracted values are always finite). The Parquet metadata records each group's
    version: the columns of a group whose extractor changed are dropped when the cache is
    read, so only that group is extracted again.
    """

    def __init__(self, folder: str | os.PathLike, config: AnalysisConfig) -> None:
        self.fingerprint = config.fingerprint(())
        self.path = Path(folder) / f"{self.fingerprint}.parquet"
        self.new: dict[str, dict[str, float]] = {}
        table = pd.DataFrame(dtype=np.float64)
        if self.path.exists():
            try:
                import pyarrow.parquet as pq

                meta = pq.read_schema(self.path).metadata or {}
                versions = json.loads(meta.get(GROUP_VERSIONS_KEY, b"{}"))
                table = pd.read_parquet(self.path)
                valid = [
                    c
                    for g, v in versions.items()
                    if g in REGISTRY and REGISTRY[g].version == v
                    for c in REGISTRY[g].columns
                ]
                table = table[[c for c in valid if c in table.columns]].astype(np.float64)
            except (OSError, ValueError, KeyError, TypeError):
                table = pd.DataFrame(dtype=np.float64)  # an unreadable cache is rebuilt
        self._use(table)

    def _use(self, table: pd.DataFrame) -> None:
        self.table = table
        self._values = table.to_numpy(dtype=np.float64)
        self._row = {key: i for i, key in enumerate(table.index)}
        column = {c: j for j, c in enumerate(table.columns)}
        self._columns = {
            g: np.array([column[c] for c in group.columns])
            for g, group in REGISTRY.items()
            if all(c in column for c in group.columns)
        }

    def lookup(self, key: str, groups: Sequence[str]) -> tuple[np.ndarray | None, list[str]]:
        """The cached values of ``groups`` for file ``key`` (None unless all are cached), and
        the groups that are not."""
        fresh = self.new.get(key, {})
        i = self._row.get(key)
        parts, missing = [], []
        for g in groups:
            columns = REGISTRY[g].columns
            if columns[0] in fresh:
                parts.append(np.array([fresh[c] for c in columns]))
                continue
            if i is not None and g in self._columns:
                values = self._values[i, self._columns[g]]
                if not np.isnan(values).any():
                    parts.append(values)
                    continue
            missing.append(g)
        return (None if missing else np.concatenate(parts)), missing

    def put(self, key: str, groups: Sequence[str], values: np.ndarray) -> None:
        """Record the values of ``groups`` for file ``key`` (written by :meth:`save`)."""
        self.new.setdefault(key, {}).update(zip(columns_for(groups), values, strict=True))

    @property
    def rows(self) -> int:
        """Files with at least one cached group."""
        return len(self._row.keys() | self.new.keys())

    def save(self) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        if self.new:
            fresh = pd.DataFrame.from_dict(self.new, orient="index", dtype=np.float64)
            table = fresh.combine_first(self.table) if len(self.table) else fresh
            table = table[[c for c in columns_for(_groups_of(table.columns))]]
        else:
            table = self.table
        table.index.name = "key"
        versions = {g: REGISTRY[g].version for g in _groups_of(table.columns)}
        arrow = pa.Table.from_pandas(table)
        arrow = arrow.replace_schema_metadata(
            {**(arrow.schema.metadata or {}), GROUP_VERSIONS_KEY: json.dumps(versions).encode()}
        )
        write_with(self.path, lambda tmp: pq.write_table(arrow, tmp))
        self.new = {}
        self._use(table)


def _groups_of(columns: Sequence[str]) -> list[str]:
    """The registered groups all of whose columns are among ``columns``, in registry order."""
    present = set(columns)
    return [g for g, group in REGISTRY.items() if all(c in present for c in group.columns)]


def _extract_path(
    path: str,
    config: AnalysisConfig,
    groups: Sequence[str],
    windows: tuple[float, float | None] | None = None,
    long_file: float | None = LONG_FILE_SECONDS,
) -> tuple[str, Any, str | None]:
    """Decode and extract one file; errors come back as messages, never as exceptions.

    The values are one feature row, or with ``windows = (segment, hop)`` a pair of
    (feature matrix, window bounds). A file longer than ``long_file`` seconds is decoded
    and analysed in blocks (:func:`va_mood.blocks.extract_long`), in bounded memory.
    """
    try:
        if windows is None and long_file is not None:
            seconds = duration(path)
            if config.max_duration is not None:
                seconds = min(seconds, config.max_duration)
            if seconds > long_file:
                return path, extract_long(path, config=config, groups=groups), None
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


def _extract_pinned(*args: Any) -> tuple[str, Any, str | None]:
    """:func:`_extract_path` with one BLAS/OpenMP thread (a task on a Dask worker)."""
    with one_thread():
        return _extract_path(*args)


def _init_worker() -> None:
    """One BLAS/OpenMP/numba thread per worker process, so workers do not fight over cores;
    freed memory kept for the next clip.

    A forked worker inherits the one-thread limit its parent holds while it starts the pool
    (see :func:`va_mood._threads.one_thread` for why it must not set it again); a worker
    started another way sets it here.
    """
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        os.environ[name] = "1"  # for libraries the worker has not loaded yet
    one_thread()  # for the worker's life: not entered, so never restored
    keep_freed_memory()


def _longest_first(todo: list[tuple[str, list[str]]]) -> list[tuple[str, list[str]]]:
    """``todo`` with the largest files first (a missing one last), so that the workers do not
    end waiting on one long file handed out last: the rows do not depend on the order."""

    def size(item: tuple[str, list[str]]) -> int:
        try:
            return os.path.getsize(item[0])
        except OSError:
            return -1

    return sorted(todo, key=size, reverse=True)


def n_jobs(jobs: int | None) -> int:
    """Worker processes for ``jobs``: ``None`` or ``0`` (or less) means one per CPU core.

    Examples
    --------
    >>> n_jobs(3)
    3
    >>> n_jobs(None) == (os.cpu_count() or 1)
    True
    """
    return jobs if jobs is not None and jobs > 0 else os.cpu_count() or 1


def _on_dask(
    scheduler: Any,
    todo: list[tuple[str, list[str]]],
    config: AnalysisConfig,
    windows: tuple[float, float | None] | None,
    long_file: float | None,
) -> Iterator[tuple[str, Any, str | None]]:
    """Extract ``(path, groups)`` pairs on a Dask cluster, yielding results as they complete."""
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise ParameterError(
            "the dask backend needs dask.distributed: pip install 'va-mood[dask]'"
        ) from None
    client = scheduler if isinstance(scheduler, Client) else None
    try:
        if client is None:
            try:
                client = Client(scheduler, timeout="30s")
            except OSError as exc:
                raise ParameterError(
                    f"cannot reach the Dask scheduler at {scheduler!r} ({exc})"
                ) from None
        futures = [
            client.submit(_extract_pinned, p, config, list(g), windows, long_file, pure=False)
            for p, g in todo
        ]
        for future in as_completed(futures):
            yield future.result()
            future.release()
    finally:
        if client is not None and client is not scheduler:
            client.close()


def extract_files(
    paths: Sequence[str | os.PathLike],
    *,
    config: AnalysisConfig,
    groups: Sequence[str],
    jobs: int | None = None,
    cache_dir: str | os.PathLike | None = None,
    progress: Progress | None = None,
    checkpoint: int = 50,
    segment: float | None = None,
    hop: float | None = None,
    backend: str = "process",
    scheduler: Any = None,
    long_file: float | None = LONG_FILE_SECONDS,
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Extract the named feature groups for many files, or for windows of them.

    ``jobs`` worker processes extract files in parallel (``None`` or ``0``: one per CPU
    core), each limited to one BLAS/numba thread; the result is the same as with one job.
    With ``backend="dask"`` the files are extracted on the Dask cluster whose scheduler is at
    ``scheduler`` (an address such as ``"tcp://10.0.0.5:8786"``, or a
    ``distributed.Client``); ``jobs`` is then ignored and the cache is written here as usual.
    The workers must have va_mood installed and be able to read ``paths``.

    With ``segment`` (seconds), each file gives one row per window of that length starting
    every ``hop`` seconds (see :func:`va_mood.segments.window_bounds`); windowed features are
    not cached. Otherwise a file longer than ``long_file`` seconds (default 10 minutes;
    ``None``: never) is extracted in blocks, in bounded memory (:mod:`va_mood.blocks`).

    Returns
    -------
    features : pd.DataFrame [shape=(n_rows, n_features)]
        Indexed by path (as given), or by (path, start, end) with ``segment``; columns as
        :func:`va_mood.features.columns_for`.
    errors : dict
        ``{path: one-line message}`` for each file that could not be used, in the order of
        ``paths`` (however many jobs).
    """
    if backend not in BACKENDS:
        raise ParameterError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if backend == "dask" and scheduler is None:
        raise ParameterError("the dask backend needs a scheduler address")
    groups = list(groups)
    columns = columns_for(groups)
    paths = [str(p) for p in paths]
    cache = None
    windows = None if segment is None else (segment, hop)
    if cache_dir is not None and windows is None:
        cache = FeatureCache(cache_dir, config)
    rows: dict[str, np.ndarray] = {}
    errors: dict[str, str] = {}
    keys: dict[str, str] = {}
    todo: list[tuple[str, list[str]]] = []  # (path, the groups to extract)
    for path in paths:
        if cache is not None:
            try:
                keys[path] = file_key(path)
            except OSError:
                todo.append((path, groups))  # decoding will name the problem
                continue
            values, missing = cache.lookup(keys[path], groups)
            if values is not None:
                rows[path] = values
                if progress:
                    progress(path, None)
                continue
            todo.append((path, missing))
        else:
            todo.append((path, groups))
    wanted = dict(todo)

    def record(result: tuple[str, Any, str | None], done: int) -> None:
        path, values, error = result
        if error is not None:
            errors[path] = error
        elif cache is not None and path in keys:
            cache.put(keys[path], wanted[path], values)
            rows[path] = cache.lookup(keys[path], groups)[0]
            if done % checkpoint == 0:
                cache.save()
        else:
            rows[path] = values
        if progress:
            progress(path, error)

    jobs = n_jobs(jobs)
    if backend == "dask" and todo:
        tasks = _on_dask(scheduler, todo, config, windows, long_file)
        for done, result in enumerate(tasks, 1):
            record(result, done)
    elif jobs <= 1 or len(todo) <= 1:
        with one_thread():  # as in each worker, so any --jobs gives the same values
            for done, (path, todo_groups) in enumerate(todo, 1):
                record(_extract_path(path, config, todo_groups, windows, long_file), done)
    else:
        with (
            one_thread(),  # held while the workers are forked, so they inherit it
            ProcessPoolExecutor(max_workers=min(jobs, len(todo)), initializer=_init_worker) as pool,
        ):
            futures = [
                pool.submit(_extract_path, path, config, todo_groups, windows, long_file)
                for path, todo_groups in _longest_first(todo)
            ]
            try:  # recorded (and checkpointed) as they finish, whatever the order
                for done, future in enumerate(as_completed(futures), 1):
                    record(future.result(), done)
            finally:  # interrupted: the files not started yet are not extracted
                for future in futures:
                    future.cancel()
    if cache is not None and todo:
        cache.save()
    errors = {p: errors[p] for p in dict.fromkeys(paths) if p in errors}  # in the input's order
    ordered = [p for p in paths if p in rows]
    if windows is None:
        index = pd.Index(ordered, name="path")
        return pd.DataFrame([rows[p] for p in ordered], index=index, columns=columns), errors
    tuples = [(p, a, b) for p in ordered for a, b in rows[p][1]]
    index = pd.MultiIndex.from_tuples(tuples, names=["path", "start", "end"])
    matrix = np.vstack([rows[p][0] for p in ordered]) if ordered else np.empty((0, len(columns)))
    return pd.DataFrame(matrix, index=index, columns=columns), errors
