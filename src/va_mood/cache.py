"""The feature cache: values keyed by a hash of each file's bytes, in one Parquet file.

A row is keyed by a hash of the file's bytes, so a renamed file is not extracted again and an
edited one is. The cache is one Parquet file per analysis setting, with the columns of every
feature group extracted so far (and each group's extractor version): a configuration with
other groups extracts only the groups a file lacks.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ._atomic import write_with
from .analysis import AnalysisConfig
from .audio import split_excerpt
from .registry import REGISTRY, columns_for

__all__ = ["file_key", "FeatureCache", "GROUP_VERSIONS_KEY"]

GROUP_VERSIONS_KEY = b"va_mood.group_versions"
"""Parquet metadata key holding the extractor version of each group in a feature cache."""


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
        """Write the cache file atomically, with what :meth:`put` recorded since the last
        save."""
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
