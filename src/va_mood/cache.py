"""The feature cache: values keyed by a hash of each file's bytes, in append-only segments.

A row is keyed by a hash of the file's bytes, so a renamed file is not extracted again and an
edited one is. Each analysis setting has a folder of Parquet *segments*; a run adds a new
segment at each checkpoint with the rows it extracted since the last one, and never rewrites
a segment; reading merges them all. So two runs sharing one cache, on one machine or on a
network folder, lose nothing: no file is ever written by two runs, and nothing needs a lock
(SQLite's locking, the other candidate, is unreliable on network file systems). When a folder
holds many segments, a reader merges them into one new segment and then deletes only those it
merged, so a segment another run adds meanwhile is kept. A segment records each group's
extractor version: the columns of a group whose extractor changed are ignored, so only that
group is extracted again. The single file an older va_mood wrote is read as one more segment
and merged away at the next compaction.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import Sequence
from pathlib import Path
from time import time_ns

import numpy as np
import pandas as pd

from ._atomic import write_with
from .analysis import AnalysisConfig
from .audio import split_excerpt
from .registry import REGISTRY, columns_for

__all__ = ["file_key", "FeatureCache", "GROUP_VERSIONS_KEY", "MAX_SEGMENTS"]

GROUP_VERSIONS_KEY = b"va_mood.group_versions"
"""Parquet metadata key holding the extractor version of each group in a cache segment."""
MAX_SEGMENTS = 32
"""A cache folder with more segments than this is compacted into one when it is read."""


def file_key(path: str | os.PathLike) -> str:
    """A short hash of a file's bytes: the cache key of its features (with the time range,
    for an excerpt of it)."""
    path, start, end = split_excerpt(path)
    digest = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest() if end is None else f"{digest.hexdigest()}#t={start:.3f},{end:.3f}"


class FeatureCache:
    """Feature values of one analysis setting, kept in ``folder/<analysis fingerprint>/``.

    One row per file (keyed by :func:`file_key`), one column per feature column of every
    group extracted so far; a row holds NaN for the groups not yet extracted for its file
    (extracted values are always finite). Reading merges every segment of the folder (see
    the module docstring); :meth:`save` adds one.
    """

    def __init__(self, folder: str | os.PathLike, config: AnalysisConfig) -> None:
        self.fingerprint = config.fingerprint(())
        self.folder = Path(folder) / self.fingerprint
        self.legacy = Path(folder) / f"{self.fingerprint}.parquet"
        """The one-file cache of va_mood before segments: read, never written."""
        self.new: dict[str, dict[str, float]] = {}
        merged, read = _merge(self._segments())
        self._use(merged)
        if len(read) > MAX_SEGMENTS:
            self._compact(read)

    def _segments(self) -> list[Path]:
        """Every segment, oldest first (the legacy file before all)."""
        found = sorted(self.folder.glob("*.parquet")) if self.folder.is_dir() else []
        return [self.legacy, *found] if self.legacy.is_file() else found

    def _compact(self, read: list[Path]) -> None:
        """Merge the segments ``read`` into one new segment, then delete them (only them)."""
        self._write_segment(self.table)
        for path in read:
            path.unlink(missing_ok=True)

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
        """Add what :meth:`put` recorded since the last save to the cache, as a new segment
        written atomically (nothing is written when nothing is new)."""
        if not self.new:
            return
        fresh = pd.DataFrame.from_dict(self.new, orient="index", dtype=np.float64)
        fresh = fresh[columns_for(_groups_of(fresh.columns))]
        self._write_segment(fresh)
        table = _overlay([self.table, fresh]) if len(self.table) else fresh
        self.new = {}
        self._use(table[columns_for(_groups_of(table.columns))])

    def _write_segment(self, table: pd.DataFrame) -> None:
        """Write ``table`` as a segment of its own, named so that no other run picks it."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = table.copy()
        table.index.name = "key"
        versions = {g: REGISTRY[g].version for g in _groups_of(table.columns)}
        arrow = pa.Table.from_pandas(table)
        arrow = arrow.replace_schema_metadata(
            {**(arrow.schema.metadata or {}), GROUP_VERSIONS_KEY: json.dumps(versions).encode()}
        )
        name = f"{time_ns():020d}-{os.getpid()}-{uuid.uuid4().hex[:8]}.parquet"
        write_with(self.folder / name, lambda tmp: pq.write_table(arrow, tmp))


def _read_segment(path: Path) -> pd.DataFrame | None:
    """One segment's columns whose groups' extractors are unchanged; None if unreadable (a
    damaged segment is left out, so its files are extracted again)."""
    import pyarrow.parquet as pq

    try:
        meta = pq.read_schema(path).metadata or {}
        versions = json.loads(meta.get(GROUP_VERSIONS_KEY, b"{}"))
        table = pd.read_parquet(path)
        if "key" in table.columns:  # written without pandas' metadata
            table = table.set_index("key")
        table.index = table.index.astype(str)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    valid = [
        c
        for g, v in versions.items()
        if g in REGISTRY and REGISTRY[g].version == v
        for c in REGISTRY[g].columns
    ]
    return table[[c for c in valid if c in table.columns]].astype(np.float64)


def _merge(paths: list[Path]) -> tuple[pd.DataFrame, list[Path]]:
    """The segments at ``paths`` merged (a later segment's values first), and the paths that
    were read."""
    parts = {path: _read_segment(path) for path in paths}
    read = [path for path, part in parts.items() if part is not None]
    table = _overlay([parts[path] for path in read])
    if len(table.columns):
        table = table[columns_for(_groups_of(table.columns))]
    return table, read


def _overlay(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """``parts`` (oldest first) as one table: every key and column of any part, a later
    part's values over an earlier one's where it has them (``combine_first``, in NumPy: the
    cache of a large library is read at every start)."""
    if not parts:
        return pd.DataFrame(dtype=np.float64)
    keys = pd.Index(list(dict.fromkeys(k for part in parts for k in part.index)), dtype=object)
    columns = pd.Index(list(dict.fromkeys(c for part in parts for c in part.columns)))
    values = np.full((len(keys), len(columns)), np.nan)
    for part in parts:
        rows, cols = keys.get_indexer(part.index), columns.get_indexer(part.columns)
        block = part.to_numpy(dtype=np.float64)
        current = values[np.ix_(rows, cols)]
        values[np.ix_(rows, cols)] = np.where(np.isnan(block), current, block)
    return pd.DataFrame(values, index=keys, columns=columns)


def _groups_of(columns: Sequence[str]) -> list[str]:
    """The registered groups all of whose columns are among ``columns``, in registry order."""
    present = set(columns)
    return [g for g, group in REGISTRY.items() if all(c in present for c in group.columns)]
