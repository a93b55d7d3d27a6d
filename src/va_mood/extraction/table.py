"""Feature tables on disk: Parquet files of named features, tied to the settings that made them.

``va-mood extract`` writes one and ``tune`` and ``train`` read it back (``--features``), so a
corpus is analysed once for many experiments. The table's metadata holds the feature
fingerprint of the analysis settings and groups it was made with, and reading it refuses a
table made with other ones.
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
    """Write a feature table atomically as Parquet, with its feature fingerprint.

    Parameters
    ----------
    table : pd.DataFrame [shape=(n_files, n_features)]
        Features indexed by path, as :func:`va_mood.extraction.batch.extract_files` gives
        them; the index becomes a leading ``path`` column (bytes that are not UTF-8 as
        ``\\xNN``).
    path : str or os.PathLike
        The file to write.
    config : AnalysisConfig
        The analysis settings the features were made with.
    groups : tuple of str
        The feature groups they hold.

    Raises
    ------
    OutputError
        When the file cannot be written.
    """
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
    """Read a feature table written by :func:`write_feature_table`, checked against settings.

    The table may hold more groups than ``groups``; its fingerprint must be the one these
    analysis settings and today's extractor versions give its own groups.

    Parameters
    ----------
    path : str or os.PathLike
        The Parquet file.
    config : AnalysisConfig
        The analysis settings the features must have been made with.
    groups : tuple of str
        The feature groups the table must hold.

    Returns
    -------
    pd.DataFrame [shape=(n_files, 1 + n_features)]
        A ``path`` column, then the feature columns.

    Raises
    ------
    ParameterError
        For an unreadable file, a table made with other settings or feature versions (or
        without a fingerprint), or one that lacks a group.
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
    id ``123``).

    Parameters
    ----------
    table : pd.DataFrame
        A feature table with a ``path`` column (:func:`read_feature_table`).
    labels : pd.DataFrame
        Labels indexed by id.

    Returns
    -------
    features : pd.DataFrame [shape=(n_clips, n_features)]
        The rows of the labelled ids, indexed by id.
    labels : pd.DataFrame
        The labels of the same ids, in the same order.
    problems : list of str
        One message per labelled id without features, and one for the count of feature
        rows without labels.

    Raises
    ------
    LabelsError
        When the table has no ``path`` column, two rows share a file stem, or no labelled id
        has a row.
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
