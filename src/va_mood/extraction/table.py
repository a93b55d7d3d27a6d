"""Feature tables on disk: Parquet files of named features, tied to the settings that made them.

``va-mood extract`` writes one (a ``path`` column, then one column per feature); ``tune`` and
``train`` read it back with ``--features``. The table's Parquet metadata holds the feature
fingerprint (:func:`va_mood.features.registry.feature_fingerprint`) of the analysis settings and
feature groups it was made with, and reading it refuses a table made with other ones.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from ..errors import LabelsError, ParameterError
from ..features.analysis import AnalysisConfig
from ..features.registry import REGISTRY
from ..util.atomic import write_with

__all__ = ["FINGERPRINT_KEY", "write_feature_table", "read_feature_table", "align_features"]

FINGERPRINT_KEY = b"va_mood.fingerprint"
"""Parquet metadata key holding the feature fingerprint of a feature table."""


def write_feature_table(
    table: pd.DataFrame,
    path: str | os.PathLike,
    *,
    config: AnalysisConfig,
    groups: tuple[str, ...],
) -> None:
    """Write ``table`` (indexed by path) atomically as Parquet, with its feature fingerprint."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = table.reset_index(drop=True)
    rows.insert(0, "path", [_utf8(p) for p in table.index])
    arrow = pa.Table.from_pandas(rows)
    fingerprint = config.fingerprint(groups).encode()
    metadata = {**(arrow.schema.metadata or {}), FINGERPRINT_KEY: fingerprint}
    write_with(path, lambda tmp: pq.write_table(arrow.replace_schema_metadata(metadata), tmp))


def _utf8(path: object) -> str:
    """A path as Parquet can hold it: UTF-8, with bytes that are not UTF-8 as ``\\xNN``."""
    return str(path).encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def read_feature_table(
    path: str | os.PathLike, *, config: AnalysisConfig, groups: tuple[str, ...]
) -> pd.DataFrame:
    """A feature table written by :func:`write_feature_table`, checked against the settings.

    The table may hold more groups than ``groups``; its fingerprint must be the one these
    analysis settings and today's extractor versions give its own groups. Raises
    :class:`~va_mood.errors.ParameterError` for an unreadable file, a table made with other
    settings or feature versions (or without a fingerprint), or one that lacks a group.
    """
    import pyarrow.parquet as pq

    try:
        metadata = pq.read_schema(path).metadata or {}
        table = pd.read_parquet(path)
    except (OSError, ValueError) as exc:
        raise ParameterError(f"{path}: not a readable Parquet feature table ({exc})") from None
    present = set(table.columns)
    held = tuple(g for g, group in REGISTRY.items() if set(group.columns) <= present)
    found = metadata.get(FINGERPRINT_KEY, b"").decode()
    if found != config.fingerprint(held):
        raise ParameterError(
            f"{path}: made with other analysis settings or feature versions (fingerprint "
            f"{found or 'none'}, expected {config.fingerprint(held)}); extract it again with "
            "`va-mood extract`"
        )
    missing = [g for g in groups if g not in held]
    if missing:
        raise ParameterError(f"{path}: the table lacks the feature group(s) {missing}")
    return table


def align_features(
    table: pd.DataFrame, labels: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Join a feature table written by ``va-mood extract`` to labels.

    A row belongs to the label whose id is the file stem of its ``path`` (``audio/123.mp3`` is
    id ``123``). Returns ``(features, labels, problems)`` on a shared index, with one message
    per labelled id without features and for the count of feature rows without labels.
    """
    if "path" not in table.columns:
        raise LabelsError(f"a feature table needs a 'path' column, got {list(table.columns)[:5]}")
    ids = table["path"].map(lambda p: Path(str(p)).stem)
    duplicated = ids[ids.duplicated()]
    if len(duplicated):
        raise LabelsError(f"feature rows share file stems {sorted(set(duplicated))[:5]}")
    features = table.drop(columns="path").set_axis(pd.Index(ids, name="id"))
    missing = labels.index.difference(features.index)
    problems = [f"no features for labelled id {i!r}" for i in missing]
    extra = features.index.difference(labels.index)
    if len(extra):
        problems.append(f"{len(extra)} feature row(s) without labels ignored")
    keep = labels.index[labels.index.isin(features.index)]
    if keep.empty:
        raise LabelsError("no labelled id has a row in the feature table (ids are file stems)")
    return features.loc[keep], labels.loc[keep], problems
