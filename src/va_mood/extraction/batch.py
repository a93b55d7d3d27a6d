"""Files to a named feature table: decoding, extraction, the cache, worker processes.

A batch is planned (which files the cache already holds, which groups each other file lacks),
run (in this process, a local process pool, or on a Dask cluster) and assembled into one
table. The cache (:mod:`va_mood.extraction.cache`) gains a segment every ``checkpoint`` files,
so an interrupted run loses at most that many clips and the next run goes on from there.
"""

from __future__ import annotations

import functools
import multiprocessing
import os
import signal
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import closing, nullcontext, suppress
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..audio.decode import MAX_DURATION, duration, load, native_samples
from ..errors import ParameterError, VaMoodError, VaMoodWarning
from ..features.analysis import AnalysisConfig, memoised_cqt_filters
from ..features.clip import extract_clip
from ..features.registry import columns_for
from ..util.memory import keep_freed_memory
from ..util.processes import end_with_parent
from ..util.threads import n_jobs, one_thread
from .cache import FeatureCache, file_key
from .long_files import (
    LONG_FILE_SAMPLES,
    LONG_FILE_SECONDS,
    SAMPLED_PER_BLOCK,
    FileProgress,
    extract_long,
    extract_long_windows,
)
from .segments import extract_windows

__all__ = ["extract_files", "BACKENDS", "Progress", "Interrupted"]

BACKENDS = ("process", "dask")
"""Where extraction runs: a local process pool, or a Dask (distributed) cluster."""
PLAN_BATCH = 256
"""Files in the first batch hashed and looked up in the cache before the run reports them
(each next batch twice as many)."""

Progress = Callable[[str, str | None], None]
"""Called once per file with its path and its error message (None when it succeeded); its
``within(path, share)`` method, if any, now and then during a long file with the share done."""
PARTS_POLL_SECONDS = 0.5
"""How often the parent passes on what its workers say of the long files they extract."""

Windows = tuple[float, float | None] | None
"""``(segment, hop)`` seconds to extract windows of each file, or None for whole files."""

Result = tuple[str, Any, str | None]
"""What extracting one file gives: its path, its values (or None) and its error (or None)."""


def _extract_path(
    path: str,
    config: AnalysisConfig,
    groups: Sequence[str],
    windows: Windows = None,
    long_file: float | None = LONG_FILE_SECONDS,
    longest: float | None = MAX_DURATION,
    report: FileProgress | None = None,
) -> Result:
    """Decode and extract one file, in blocks if :func:`_is_long` (telling ``report``, or the
    parent of a worker, how far it is): a row, or (matrix, bounds) with ``windows``; errors
    come back as messages, never as exceptions."""
    if report is None and _parts is not None:
        report = functools.partial(_tell_parent, path)
    try:
        if long_file is not None and _is_long(path, config, long_file):
            if windows is None:
                values = extract_long(
                    path, config=config, groups=groups, longest=longest, progress=report
                )
            else:
                segment, hop = windows
                values = extract_long_windows(
                    path, config=config, groups=groups, segment=segment, hop=hop,
                    longest=longest, progress=report,
                )  # fmt: skip
            return path, values, None
        y, sr = load(path, sr=config.sr, max_duration=config.max_duration, longest=longest)
        if windows is not None:
            segment, hop = windows
            values = extract_windows(y, sr, config=config, groups=groups, segment=segment, hop=hop)
            return path, values, None
        return path, extract_clip(y, sr, config=config, groups=groups), None
    except VaMoodError as exc:
        return path, None, str(exc)
    except Exception as exc:  # noqa: BLE001 - one broken file must not end the batch
        return path, None, f"{path}: feature extraction failed ({type(exc).__name__}: {exc})"


def _is_long(path: str, config: AnalysisConfig, long_file: float) -> bool:
    """Whether ``path`` is to be extracted in blocks: longer than ``long_file`` seconds (as
    far as it is read), or too many samples at its own rate to decode whole."""
    seconds, samples = duration(path), native_samples(path)
    if config.max_duration is not None and seconds > config.max_duration:
        samples = int(samples * config.max_duration / seconds)
        seconds = config.max_duration
    return seconds > long_file or samples > LONG_FILE_SAMPLES


def _extract_pinned(*args: Any) -> Result:
    """:func:`_extract_path` with one BLAS/OpenMP thread (a task on a Dask worker)."""
    with one_thread(), memoised_cqt_filters():
        return _extract_path(*args)


_parts: Any = None
"""In a worker, the queue on which it tells its parent how far through a long file it is."""


def _tell_parent(path: str, share: float) -> None:
    """In a worker: tell the parent that ``share`` of the long file ``path`` is done."""
    _parts.put((path, share))


def _init_worker(parent: int, parts: Any = None) -> None:
    """Set up a worker process: it ends with its ``parent``; one BLAS/OpenMP/numba thread, so
    workers do not fight over cores; freed memory kept for the next clip; CQT filter banks
    built once; ``parts``, a queue for the progress within long files (or None)."""
    global _parts
    end_with_parent(parent)
    _parts = parts
    # A forked worker inherits the one-thread limit its parent holds while it starts the pool
    # (see va_mood.util.threads.one_thread for why it must not set it again); a worker
    # started another way sets it here.
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        os.environ[name] = "1"  # for libraries the worker has not loaded yet
    one_thread()  # for the worker's life: not entered, so never restored
    keep_freed_memory()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole process group:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # the parent alone decides, and stops us
    if hasattr(signal, "SIGHUP"):  # a closed terminal: the parent stops, or dies and so do we
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
    memoised_cqt_filters().__enter__()  # for the worker's life


def _longest_first(todo: list[tuple[str, list[str]]]) -> list[tuple[str, list[str]]]:
    """``todo`` with the largest files first (a missing one last), so that the workers do not
    end waiting on one long file handed out last: the rows do not depend on the order."""

    def size(item: tuple[str, list[str]]) -> int:
        with suppress(OSError):
            return os.path.getsize(item[0])
        return -1

    return sorted(todo, key=size, reverse=True)


def _on_dask(
    scheduler: Any,
    todo: list[tuple[str, list[str]]],
    config: AnalysisConfig,
    windows: Windows,
    long_file: float | None,
    longest: float | None,
) -> Iterator[Result]:
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
            client.submit(
                _extract_pinned, p, config, list(g), windows, long_file, longest, pure=False
            )
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
    longest: float | None = MAX_DURATION,
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Extract the named feature groups for many files, or for windows of them.

    Parameters
    ----------
    paths : sequence of str or os.PathLike
        Audio files, or excerpts of them (:func:`va_mood.audio.discover.excerpt`).
    config, groups : AnalysisConfig, sequence of str
        The analysis settings, and the feature group keys.
    jobs : int or None
        Worker processes, each with one BLAS/numba thread, giving the same result as one
        job; ``None`` or ``0``: one per CPU core.
    cache_dir : str or os.PathLike or None
        Folder of the feature cache (:class:`~va_mood.extraction.cache.FeatureCache`).
    progress : callable, optional
        Called once per file (:data:`Progress`).
    checkpoint : int
        Files between two writes of the cache: what an interrupted run can lose.
    segment, hop : float or None
        One row per window of ``segment`` seconds every ``hop`` seconds, not cached
        (:func:`va_mood.extraction.segments.window_bounds`); ``None``: whole files.
    backend, scheduler : {"process", "dask"}, str or distributed.Client
        A local process pool, or the Dask cluster at the scheduler address (or client)
        given, whose workers need va_mood and must be able to read ``paths``.
    long_file, longest : float or None
        Seconds beyond which a file is extracted in blocks, in bounded memory
        (:mod:`va_mood.extraction.long_files`), and refused, respectively; ``None``: never.

    Returns
    -------
    features : pd.DataFrame [shape=(n_rows, n_features)]
        Indexed by path (as given), or by (path, start, end) with ``segment``; columns as
        :func:`va_mood.features.registry.columns_for`.
    errors : dict
        ``{path: one-line message}`` for each file that could not be used, in path order.

    Raises
    ------
    ParameterError
        For an unknown ``backend``, or the dask backend without a ``scheduler``.
    """
    if backend not in BACKENDS:
        raise ParameterError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if backend == "dask" and scheduler is None:
        raise ParameterError("the dask backend needs a scheduler address")
    windows = None if segment is None else (segment, hop)
    batch = _Batch(list(groups), None, progress, checkpoint)
    paths = [str(p) for p in paths]
    if cache_dir is not None and windows is None:
        batch.open_cache(cache_dir, config)
    cache = batch.cache
    todo = batch.plan(paths)
    if backend == "dask" and todo:
        results = _on_dask(scheduler, todo, config, windows, long_file, longest)
    else:
        within = batch.within if hasattr(progress, "within") else None
        results = _run_local(todo, config, windows, long_file, longest, n_jobs(jobs), within)
    batch.run(results, paths, save=cache is not None and bool(todo), windowed=windows is not None)
    return batch.assemble(paths, windowed=windows is not None)


class Interrupted(KeyboardInterrupt):
    """:func:`extract_files` interrupted (Ctrl-C), with what it had finished.

    Parameters
    ----------
    features, errors : pd.DataFrame, dict
        What :func:`extract_files` returns, of the files finished.
    cache : str or None
        The feature cache folder that holds them, from which the same batch run again goes
        on; None when no cache was used or it could not be written.
    """

    def __init__(self, features: pd.DataFrame, errors: dict[str, str], cache: str | None):
        super().__init__(f"interrupted after {len(features)} file(s)")
        self.features, self.errors, self.cache = features, errors, cache


@dataclass
class _Batch:
    """One batch's bookkeeping: what the cache holds, what is left to do, what came back."""

    groups: list[str]
    cache: FeatureCache | None
    progress: Progress | None
    checkpoint: int
    rows: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)
    wanted: dict[str, list[str]] = field(default_factory=dict)

    def open_cache(self, folder: str | os.PathLike, config: AnalysisConfig) -> None:
        """Use the cache at ``folder``; :meth:`plan` reads the rows of the files it plans."""
        self.cache = FeatureCache(folder, config, keys=())

    def plan(self, paths: list[str]) -> list[tuple[str, list[str]]]:
        """The ``(path, groups to extract)`` pairs the cache cannot answer; the files it can
        are read and reported here, in batches of :data:`PLAN_BATCH` files and doubling."""
        todo = []
        start, size = 0, PLAN_BATCH
        while start < len(paths):
            batch = paths[start : start + size]
            start, size = start + size, size * 2
            if self.cache is not None:
                for path in batch:
                    with suppress(OSError):  # unreadable: decoding will name the problem
                        self.keys[path] = file_key(path)
                self.cache.read([self.keys[p] for p in batch if p in self.keys])
            for path in batch:
                missing = self._from_cache(path)
                if missing:
                    todo.append((path, missing))
                elif self.progress:
                    self.progress(path, None)
        self.wanted = dict(todo)
        return todo

    def _from_cache(self, path: str) -> list[str]:
        """The groups of ``path`` still to extract (none when the cache held them all)."""
        if self.cache is None or path not in self.keys:
            return self.groups
        values, missing = self.cache.lookup(self.keys[path], self.groups)
        if values is not None:
            self.rows[path] = values
        return missing

    def run(self, results: Iterator[Result], paths: list[str], *, save: bool, windowed: bool):
        """Record ``results``; interrupted, raise :class:`Interrupted` with what finished. The
        cache is written at the end (when ``save``), interrupted or not."""
        stopped = False
        try:  # interrupted: the workers stop, the files not started are dropped
            with closing(results):
                for done, result in enumerate(results, 1):
                    self.record(result, done)
        except KeyboardInterrupt:
            stopped = True
        finally:  # interrupted too: every finished file is kept for the next run
            if save:
                self.save_cache(last=True)
        if stopped:
            folder = None if self.cache is None else str(self.cache.folder)
            raise Interrupted(*self.assemble(paths, windowed=windowed), folder) from None

    def within(self, path: str, share: float) -> None:
        """Pass on how far through a long file its extraction is (not once it is done)."""
        if path not in self.rows and path not in self.errors:
            self.progress.within(path, share)  # type: ignore[union-attr]

    def record(self, result: Result, done: int) -> None:
        """Keep one file's result (in the cache too, saved every ``checkpoint`` files)."""
        path, values, error = result
        if error is not None:
            self.errors[path] = error
        elif self.cache is not None and path in self.keys:
            self.cache.put(self.keys[path], self.wanted[path], values)
            self.rows[path] = self.cache.lookup(self.keys[path], self.groups)[0]
            if done % self.checkpoint == 0:
                self.save_cache()
        else:
            self.rows[path] = values
        if self.progress:
            self.progress(path, error)

    def save_cache(self, *, last: bool = False) -> None:
        """Write the cache's new rows (the ``last`` time, as one segment for the batch); a
        cache that cannot be written is a :class:`VaMoodWarning`, and the batch stops caching."""
        if self.cache is None:
            return
        try:
            if last:
                self.cache.close()
            else:
                self.cache.save()
        except OSError as exc:
            warnings.warn(
                f"{self.cache.folder}: cannot write the feature cache "
                f"({getattr(exc, 'strerror', None) or exc}); the results are kept, not cached",
                VaMoodWarning,
                stacklevel=2,
            )
            self.cache = None

    def assemble(self, paths: list[str], *, windowed: bool) -> tuple[pd.DataFrame, dict[str, str]]:
        """The feature table in the order of ``paths``, and the errors in that order too."""
        columns = columns_for(self.groups)
        errors = {p: self.errors[p] for p in dict.fromkeys(paths) if p in self.errors}
        ordered = [p for p in paths if p in self.rows]
        if not windowed:  # paths as Python objects: a name need not be UTF-8 (surrogates)
            index = pd.Index(ordered, name="path", dtype=object)
            return pd.DataFrame(
                [self.rows[p] for p in ordered], index=index, columns=columns
            ), errors
        tuples = [(p, a, b) for p in ordered for a, b in self.rows[p][1]]
        index = pd.MultiIndex.from_arrays(
            [pd.Index([t[0] for t in tuples], dtype=object), *(
                np.array([t[k] for t in tuples], dtype=float) for k in (1, 2)
            )],
            names=["path", "start", "end"],
        )  # fmt: skip
        rows = [self.rows[p][0] for p in ordered]
        matrix = np.vstack(rows) if rows else np.empty((0, len(columns)))
        return pd.DataFrame(matrix, index=index, columns=columns), errors


def _run_local(
    todo: list[tuple[str, list[str]]],
    config: AnalysisConfig,
    windows: Windows,
    long_file: float | None,
    longest: float | None,
    jobs: int,
    within: Callable[[str, float], None] | None = None,
) -> Iterator[Result]:
    """Extract ``todo`` here (one job) or in a pool of ``jobs`` forked workers, yielding the
    results as they finish, and telling ``within`` how far through a long file each is;
    interrupted, the files not started yet are not extracted."""
    if not todo:  # all from the cache: not even the audio libraries are needed
        return
    if jobs <= 1 or len(todo) <= 1:
        with one_thread(), memoised_cqt_filters():  # as in each worker: the same values
            for path, groups in todo:
                report = None if within is None else functools.partial(within, path)
                yield _extract_path(path, config, groups, windows, long_file, longest, report)
        return
    _compiled(config, {g for _, groups in todo for g in groups})
    context = multiprocessing.get_context()
    parts = context.SimpleQueue() if within is not None else None
    with (
        closing(parts) if parts is not None else nullcontext(),  # its pipe closed after the pool
        one_thread(),  # held while the workers are forked: they inherit it
        ProcessPoolExecutor(
            min(jobs, len(todo)), context, _init_worker, (os.getpid(), parts)
        ) as pool,
    ):
        futures = [
            pool.submit(_extract_path, path, config, groups, windows, long_file, longest)
            for path, groups in _longest_first(todo)
        ]
        try:
            yield from _as_done(futures, parts, within)
        except BaseException:  # interrupted: stop the workers now, not after their files
            # (the pool then fails the files not done; cancelling them first would make its
            # manager thread fail on futures already cancelled)
            for worker in list((getattr(pool, "_processes", None) or {}).values()):
                worker.terminate()
            pool.shutdown(wait=False)
            raise


def _as_done(
    futures: list[Future], parts: Any, within: Callable[[str, float], None] | None
) -> Iterator[Result]:
    """The results of ``futures`` as they finish; in between, what the workers put on the
    ``parts`` queue passed on to ``within``."""
    pending = set(futures)
    while pending:
        timeout = None if parts is None else PARTS_POLL_SECONDS
        done, pending = wait(pending, timeout=timeout, return_when=FIRST_COMPLETED)
        while parts is not None and not parts.empty():
            within(*parts.get())  # type: ignore[misc]
        for future in done:
            yield future.result()


_COMPILED: set[str] = set()
"""The feature groups whose numba functions this process has compiled (:func:`_compiled`)."""


def _compiled(config: AnalysisConfig, groups: set[str]) -> None:
    """Compile here, before forking workers, the numba functions of ``groups`` (the tagger's
    use those of the others) by extracting a second of noise, once per process and group.

    Workers compiling one of librosa's disk-cached numba functions at once can leave a
    mismatched pair of cache files that crashes every later use (numba issue 10128); forked
    workers inherit what is compiled here, and others find a complete cache.
    """
    todo = sorted(groups - _COMPILED - SAMPLED_PER_BLOCK)
    if not todo:
        return
    noise = np.random.default_rng(0).standard_normal(config.sr).astype(np.float32) * 0.1
    with suppress(Exception):  # a failure here fails in the workers too, and is reported
        extract_clip(noise, config.sr, config=config, groups=todo)
    _COMPILED.update(todo)
