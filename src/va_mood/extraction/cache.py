"""The feature cache: values keyed by a hash of each file's bytes, in append-only segments.

A row is keyed by a hash of the file's bytes, so a renamed file is not extracted again and an
edited one is; features of another decoder (:data:`va_mood.audio.decode.DECODER`) are kept in
another folder, so a change of decoder extracts every file again. A run adds Parquet
*segments* and never rewrites one, so runs sharing a cache, on one machine or on a network
folder, lose nothing and need no lock (SQLite's locking, the other candidate, is unreliable
on network file systems).
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from time import time_ns
from typing import TYPE_CHECKING

import numpy as np

from ..audio.decode import DECODER
from ..audio.discover import split_excerpt
from ..features.analysis import AnalysisConfig
from ..features.registry import REGISTRY, columns_for
from ..util.atomic import write_with

if TYPE_CHECKING:
    import pyarrow.parquet as pq

__all__ = ["file_key", "FeatureCache", "GROUP_VERSIONS_KEY", "MAX_SEGMENTS", "ROW_GROUP"]

GROUP_VERSIONS_KEY = b"va_mood.group_versions"
"""Parquet metadata key holding the extractor version of each group in a cache segment."""
MAX_SEGMENTS = 32
"""A cache folder with more segments than this is compacted into one when it is read."""
ROW_GROUP = 256
"""Rows per Parquet row group of a segment: the least a lookup of one file reads."""


def file_key(path: str | os.PathLike) -> str:
    """A short hash of a file's bytes: the cache key of its features.

    Parameters
    ----------
    path : str or os.PathLike
        An audio file, or an excerpt of one (:func:`va_mood.audio.discover.excerpt`).

    Returns
    -------
    str
        32 hexadecimal digits of a BLAKE2b hash, followed for an excerpt by its time range
        (``#t=12.000,18.000``).

    Raises
    ------
    OSError
        When the file cannot be read.
    """
    path, start, end = split_excerpt(path)
    digest = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest() if end is None else f"{digest.hexdigest()}#t={start:.3f},{end:.3f}"


@dataclass(frozen=True)
class _Rows:
    """Rows of feature values: ``values[i, j]`` is column ``columns[j]`` of file ``keys[i]``
    (NaN where not extracted)."""

    keys: list[str]
    columns: list[str]
    values: np.ndarray

    @classmethod
    def empty(cls) -> _Rows:
        """No rows, no columns."""
        return cls([], [], np.empty((0, 0)))


class FeatureCache:
    """Feature values of one analysis setting, kept in ``folder/<analysis fingerprint>-<decoder>/``.

    One row per file (keyed by :func:`file_key`), one column per feature column of every
    group extracted so far; a row holds NaN for the groups not yet extracted for its file
    (extracted values are always finite). Each :meth:`save` adds a segment; reading merges
    them, a later segment's values first. A reader that finds more than :data:`MAX_SEGMENTS`
    merges them into a new one and deletes only those it merged, so a segment another run
    adds meanwhile is kept. A segment records each group's extractor version: the columns of
    a group whose extractor changed are ignored, so only that group is extracted again. The
    one file an older va_mood wrote is read as one more segment.

    Parameters
    ----------
    folder : str or os.PathLike
        The cache's folder, with one subfolder per analysis setting and decoder.
    config : AnalysisConfig
        The analysis setting; its fingerprint and :data:`~va_mood.audio.decode.DECODER` name
        the subfolder (not the fingerprint alone: a model's feature fingerprint stays the same
        whatever decodes its audio).
    keys : collection of str or None
        The files this run will look up: only their rows are read, each segment's keys first
        and then the row groups (of :data:`ROW_GROUP` rows) that hold them; :meth:`read` adds
        more. ``None`` reads every row.
    """

    def __init__(
        self,
        folder: str | os.PathLike,
        config: AnalysisConfig,
        keys: Collection[str] | None = None,
    ) -> None:
        self.fingerprint = config.fingerprint(())
        self.folder = Path(folder) / f"{self.fingerprint}-{DECODER}"
        self.legacy = Path(folder) / f"{self.folder.name}.parquet"
        """The one-file cache of va_mood before segments: read, never written (that va_mood
        decoded with libsndfile and named its cache by the fingerprint alone, so its file is
        not this one, and is not read)."""
        self.new: dict[str, dict[str, float]] = {}
        self._written: list[Path] = []
        self._saved: set[str] = set()
        """The segments this run wrote and the keys they hold (merged into one by
        :meth:`close`)."""
        self._use(_Rows.empty())
        segments = self._segments()
        if keys is None or len(segments) > MAX_SEGMENTS:  # compacting needs every row
            merged, read = _merge(segments, None)
            self._use(merged)
            if len(read) > MAX_SEGMENTS:
                self._compact(read)
        else:
            self.read(keys)

    def read(self, keys: Collection[str]) -> None:
        """Read the rows of ``keys`` that are not read yet.

        A run names its files a batch at a time, so that its progress moves while it hashes
        them.

        Parameters
        ----------
        keys : collection of str
            :func:`file_key` of the files.
        """
        wanted = set(keys) - self._row.keys()
        if wanted:
            merged, _ = _merge(self._segments(), wanted)
            self._use(_in_registry_order(_overlay([self._table, merged])))

    def _segments(self) -> list[Path]:
        """Every segment, oldest first (the legacy file before all)."""
        found = sorted(self.folder.glob("*.parquet")) if self.folder.is_dir() else []
        return [self.legacy, *found] if self.legacy.is_file() else found

    def _compact(self, read: list[Path]) -> None:
        """Merge the segments ``read`` into one new segment, then delete them (only them)."""
        self._write_segment(self._table)
        for path in read:
            path.unlink(missing_ok=True)

    def _use(self, rows: _Rows) -> None:
        """Make ``rows`` the cache's table, indexed by key and by group."""
        self._table = rows
        self._row = {key: i for i, key in enumerate(rows.keys)}
        column = {c: j for j, c in enumerate(rows.columns)}
        self._columns = {
            g: np.array([column[c] for c in group.columns])
            for g, group in REGISTRY.items()
            if all(c in column for c in group.columns)
        }

    def lookup(self, key: str, groups: Sequence[str]) -> tuple[np.ndarray | None, list[str]]:
        """The cached values of ``groups`` for one file.

        Parameters
        ----------
        key : str
            The file's :func:`file_key`.
        groups : sequence of str
            Feature group keys.

        Returns
        -------
        values : np.ndarray [shape=(len(columns_for(groups)),)] or None
            The values, in column order; None unless every group is cached.
        missing : list of str
            The groups that are not cached, in the order of ``groups``.
        """
        fresh = self.new.get(key, {})
        i = self._row.get(key)
        parts, missing = [], []
        for g in groups:
            columns = REGISTRY[g].columns
            if columns[0] in fresh:
                parts.append(np.array([fresh[c] for c in columns]))
                continue
            if i is not None and g in self._columns:
                values = self._table.values[i, self._columns[g]]
                if not np.isnan(values).any():
                    parts.append(values)
                    continue
            missing.append(g)
        return (None if missing else np.concatenate(parts)), missing

    def put(self, key: str, groups: Sequence[str], values: np.ndarray) -> None:
        """Record the values of ``groups`` for one file; :meth:`save` writes them.

        Parameters
        ----------
        key, groups : str, sequence of str
            As :meth:`lookup` takes them.
        values : np.ndarray [shape=(len(columns_for(groups)),)]
            Their values, in column order.
        """
        self.new.setdefault(key, {}).update(zip(columns_for(groups), values, strict=True))

    @property
    def rows(self) -> int:
        """Files read with at least one cached group, or put since."""
        return len(self._row.keys() | self.new.keys())

    def save(self) -> None:
        """Add what :meth:`put` recorded since the last save as a new segment, atomically.

        Nothing is written when nothing is new.

        Raises
        ------
        OutputError
            When the segment cannot be written (a full disk, no permission).
        """
        if not self.new:
            return
        keys = list(self.new)
        columns = columns_for(_groups_of({c for row in self.new.values() for c in row}))
        values = np.array([[row.get(c, np.nan) for c in columns] for row in self.new.values()])
        fresh = _Rows(keys, columns, values.reshape(len(keys), len(columns)))
        self._written.append(self._write_segment(fresh))
        self._saved.update(keys)
        merged = _overlay([self._table, fresh])
        self.new = {}
        self._use(_in_registry_order(merged))

    def close(self) -> None:
        """:meth:`save`, then merge the segments this run wrote into one.

        So the cache gains one segment per run, not one per checkpoint; other runs' segments
        are left alone.

        Raises
        ------
        OutputError
            When a segment cannot be written.
        """
        self.save()
        if len(self._written) < 2:
            return
        take = [self._row[key] for key in self._table.keys if key in self._saved]
        rows = _Rows(
            [self._table.keys[i] for i in take], self._table.columns, self._table.values[take]
        )
        merged = self._write_segment(rows)
        for path in self._written:
            path.unlink(missing_ok=True)
        self._written = [merged]

    def _write_segment(self, rows: _Rows) -> Path:
        """Write ``rows`` as a segment of its own, named so that no other run picks it."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        versions = {g: REGISTRY[g].version for g in _groups_of(rows.columns)}
        arrow = pa.table(
            {"key": pa.array(rows.keys, pa.string())}
            | {c: rows.values[:, j] for j, c in enumerate(rows.columns)}
        )
        arrow = arrow.replace_schema_metadata({GROUP_VERSIONS_KEY: json.dumps(versions).encode()})
        name = f"{time_ns():020d}-{os.getpid()}-{uuid.uuid4().hex[:8]}.parquet"
        path = self.folder / name
        write_with(
            path,
            lambda tmp: pq.write_table(
                arrow, tmp, row_group_size=ROW_GROUP, write_statistics=["key"]
            ),
        )
        return path


def _read_segment(path: Path, wanted: set[str] | None) -> _Rows | None:
    """The rows of ``wanted`` keys (None: all) of one segment, in the columns of unchanged
    extractors; None if unreadable (a damaged segment's files are extracted again)."""
    import pyarrow.parquet as pq

    try:
        file = pq.ParquetFile(path)
        schema = file.schema_arrow
        meta = schema.metadata or {}
        versions = json.loads(meta.get(GROUP_VERSIONS_KEY, b"{}"))
        key = _key_column(schema.names, meta)
        names = set(schema.names)
        columns = [
            c
            for g, v in versions.items()
            if g in REGISTRY and REGISTRY[g].version == v
            for c in REGISTRY[g].columns
            if c in names
        ]
        if wanted is None:
            table = file.read(columns=[key, *columns])
        else:
            table = file.read_row_groups(
                _groups_holding(file, key, wanted), columns=[key, *columns]
            )
        keys = [str(k) for k in table.column(key).to_pylist()]
        take = [i for i, k in enumerate(keys) if wanted is None or k in wanted]
        values = np.empty((len(take), len(columns)))
        for j, c in enumerate(columns):
            values[:, j] = table.column(c).to_numpy()[take]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return _Rows([keys[i] for i in take], columns, values)


def _key_column(names: list[str], meta: dict[bytes, bytes]) -> str:
    """The column of a segment holding the keys: ``key``, or the index pandas stored."""
    if "key" in names:
        return "key"
    index = json.loads(meta.get(b"pandas", b"{}")).get("index_columns", [])
    if index and isinstance(index[0], str):
        return index[0]
    raise KeyError("no key column")


def _groups_holding(file: pq.ParquetFile, key: str, wanted: set[str]) -> list[int]:
    """The row groups of ``file`` that hold any key of ``wanted`` (read: the keys only)."""
    keys = file.read(columns=[key]).column(0).to_pylist()
    rows = [i for i, k in enumerate(keys) if k in wanted]
    ends = np.cumsum([file.metadata.row_group(g).num_rows for g in range(file.num_row_groups)])
    return np.unique(np.searchsorted(ends, rows, side="right")).tolist()


def _merge(paths: list[Path], wanted: set[str] | None) -> tuple[_Rows, list[Path]]:
    """The segments at ``paths`` merged (a later segment's values first), and the paths that
    were read."""
    parts = {path: _read_segment(path, wanted) for path in paths}
    read = [path for path, part in parts.items() if part is not None]
    return _in_registry_order(_overlay([parts[path] for path in read])), read


def _overlay(parts: list[_Rows]) -> _Rows:
    """``parts`` (oldest first) as one: every key and column of any part, a later part's
    values over an earlier one's where it has them."""
    keys = list(dict.fromkeys(k for part in parts for k in part.keys))
    columns = list(dict.fromkeys(c for part in parts for c in part.columns))
    row = {k: i for i, k in enumerate(keys)}
    column = {c: j for j, c in enumerate(columns)}
    values = np.full((len(keys), len(columns)), np.nan)
    for part in parts:
        rows = np.array([row[k] for k in part.keys], dtype=int)
        cols = np.array([column[c] for c in part.columns], dtype=int)
        block = part.values.reshape(len(rows), len(cols))
        current = values[np.ix_(rows, cols)]
        values[np.ix_(rows, cols)] = np.where(np.isnan(block), current, block)
    return _Rows(keys, columns, values)


def _in_registry_order(rows: _Rows) -> _Rows:
    """``rows`` with only the columns of whole registered groups, in registry order."""
    columns = columns_for(_groups_of(rows.columns))
    where = {c: j for j, c in enumerate(rows.columns)}
    take = np.array([where[c] for c in columns], dtype=int)
    return _Rows(
        rows.keys, columns, rows.values[:, take] if len(rows.keys) else np.empty((0, len(columns)))
    )


def _groups_of(columns: Collection[str]) -> list[str]:
    """The registered groups all of whose columns are among ``columns``, in registry order."""
    present = set(columns)
    return [g for g, group in REGISTRY.items() if all(c in present for c in group.columns)]
