"""Playlists by mood from the predictions ``va-mood predict`` wrote (CSV or JSON).

The predictions are read here for every output that starts from the file: playlists, and the
page (:func:`read_page_table`, :func:`read_segments`). A playlist is the files of one mood (or
all), optionally only those predicted with at least a given confidence, optionally sorted by
valence or energy, written as an M3U8 file.

The *confidence* of a file's mood is ``valence_confidence * arousal_confidence``: the chance
that both heads put it on the right side of their axis, treating the two heads as independent
(for two binary heads it is the mood's own ``p_*`` column, see :mod:`va_mood.outputs.scales`).
Sorting and confidence do not depend on the scale the predictions were written on.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import ParameterError
from ..quadrant import parse_quadrant
from ..util.atomic import write_text
from ..vocabulary import MOODS
from .scales import path_from_text, path_text

__all__ = [
    "SORT_KEYS",
    "read_predictions",
    "predictions_scale",
    "read_on_plane",
    "read_page_table",
    "read_segments",
    "make_playlist",
    "m3u8_entries",
    "write_m3u8",
    "mood_confidence",
]

SORT_KEYS = ("valence", "energy", "arousal", "confidence")
"""What a playlist can be sorted by; ``-`` in front sorts descending. ``energy`` and
``arousal`` are the same axis (its name under the unit scale and the others)."""


def read_predictions(path: str | os.PathLike) -> pd.DataFrame:
    """Read the CSV or JSON that ``va-mood predict --format csv|json`` wrote.

    Quadrants are normalised (``Q1``..``Q4``, with the mood name beside them) and whole-file
    predictions keep one row per path, so every output reads the file the same way.

    Parameters
    ----------
    path : str or Path
        The predictions file. A path written as a ``file://`` URI (a name that is not
        UTF-8, :func:`~va_mood.outputs.scales.path_text`) is read back as the file's name;
        so is a raw byte that is not UTF-8 (files written before such names were encoded).

    Returns
    -------
    pd.DataFrame
        One row per file, columns as written (``path``, ``valence``, ``arousal`` or
        ``energy``, ``quadrant``, ``mood``, the confidences, ``p_*``), with ``arousal`` and
        ``arousal_confidence`` under those names whatever the scale; ``attrs["scale"]`` is
        the scale when the file says it (JSON) or shows it (``energy`` is the unit scale).

    Raises
    ------
    ParameterError
        When the file is missing, not CSV/JSON of predictions, or lacks ``path`` and a
        ``mood`` or ``quadrant`` column.

    Examples
    --------
    >>> table = read_predictions("predictions.csv")  # doctest: +SKIP
    """
    path = Path(path)
    if not path.is_file():
        raise ParameterError(f"{path}: no such predictions file")
    scale = None
    text = path.read_text(encoding="utf-8", errors="surrogateescape")  # names need not be UTF-8
    if path.suffix.lower() == ".json" or text.lstrip().startswith(("{", "[")):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ParameterError(f"{path}: not valid JSON ({exc})") from None
        if isinstance(data, dict):
            scale = data.get("scale")
            data = data.get("predictions")
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise ParameterError(
                f"{path}: expected the JSON of `va-mood predict --format json` "
                '({"predictions": [{...}, ...]})'
            )
        table = pd.DataFrame(data)
    else:
        try:
            table = pd.read_csv(
                path, dtype={"path": object}, encoding="utf-8", encoding_errors="surrogateescape"
            )
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
            raise ParameterError(f"{path}: not a readable CSV ({exc})") from None
    if "energy" in table.columns:
        scale = scale or "unit"
        table = table.rename(
            columns={"energy": "arousal", "energy_confidence": "arousal_confidence"}
        )
    missing = [c for c in ("path",) if c not in table.columns]
    if missing or not {"mood", "quadrant"} & set(table.columns):
        raise ParameterError(
            f"{path}: predictions need a 'path' column and a 'mood' or 'quadrant' column; "
            f"the file has {list(table.columns)}"
        )
    if "quadrant" in table.columns:
        table["quadrant"] = [parse_quadrant(q) for q in table["quadrant"]]
        table["mood"] = table["quadrant"].map(MOODS)
    else:
        table["quadrant"] = [parse_quadrant(m) for m in table["mood"]]
    paths = [path_from_text(str(p)) for p in table["path"]]  # file:// URIs: names not UTF-8
    table["path"] = pd.Series(paths, index=table.index, dtype=object)
    if "start" not in table.columns:  # whole-file predictions: one row per file
        table = table.drop_duplicates("path", keep="first").reset_index(drop=True)
    table.attrs["scale"] = scale
    return table


def mood_confidence(predictions: pd.DataFrame) -> np.ndarray:
    """The confidence of each row's mood: ``valence_confidence * arousal_confidence``.

    The chance that both heads put the file on the right side of their axis, treating the
    heads as independent.

    Parameters
    ----------
    predictions : pd.DataFrame
        With ``valence_confidence`` and ``arousal_confidence`` columns.

    Returns
    -------
    np.ndarray [shape=(n_rows,)]
        Confidences on [0, 1].

    Raises
    ------
    ParameterError
        When either confidence column is missing.
    """
    columns = ("valence_confidence", "arousal_confidence")
    missing = [c for c in columns if c not in predictions.columns]
    if missing:
        raise ParameterError(f"predictions lack {missing}; cannot filter by confidence")
    return predictions[columns[0]].to_numpy(dtype=float) * predictions[columns[1]].to_numpy(
        dtype=float
    )


def predictions_scale(table: pd.DataFrame) -> str:
    """The scale predictions were written on: as the file says, else as the values show.

    :func:`read_predictions` renames ``energy`` (the unit scale) back to ``arousal`` and
    records the scale when the file says it (JSON); a CSV on the plane or the 1..9 scale does
    not, and only 1..9 has values beyond 1.

    Parameters
    ----------
    table : pd.DataFrame
        From :func:`read_predictions`.

    Returns
    -------
    {"plane", "unit", "nine"}
    """
    from .scales import SCALES

    scale = table.attrs.get("scale")
    if scale in SCALES:
        return scale
    values = table[["valence", "arousal"]].abs().to_numpy(dtype=float)
    return "nine" if np.nanmax(values, initial=0.0) > 1 else "plane"


def read_on_plane(path: str | os.PathLike) -> pd.DataFrame:
    """Read predictions with valence and arousal brought back onto the -1..1 plane.

    Parameters
    ----------
    path : str or Path
        Predictions written on any ``--scale`` (:func:`predictions_scale` tells which).

    Returns
    -------
    pd.DataFrame
        As :func:`read_predictions` gives it, values on the plane.

    See Also
    --------
    va_mood.outputs.scales.from_scale : the mapping back onto the plane.
    """
    from .scales import from_scale

    table = read_predictions(path)
    scale = predictions_scale(table)
    return from_scale(table, scale) if scale != "plane" else table


def read_page_table(path: str | os.PathLike) -> tuple[pd.DataFrame, str]:
    """Read the predictions ``va-mood predict`` wrote (CSV or JSON, any scale) for the page.

    Parameters
    ----------
    path : str or Path
        The predictions file.

    Returns
    -------
    table : pd.DataFrame
        As :func:`read_predictions` gives it, valence and arousal as floats.
    scale : {"plane", "unit", "nine"}
        The scale the values are on (:func:`predictions_scale`).

    Raises
    ------
    ParameterError
        Naming ``path``, when it is not predictions, lacks numeric valence and arousal, or
        holds values outside its scale.
    """
    from .scales import unscale_values

    table = read_predictions(path)
    missing = [c for c in ("valence", "arousal") if c not in table.columns]
    if missing:
        raise ParameterError(f"{path}: predictions need valence and arousal, missing {missing}")
    for column in ("valence", "arousal"):
        values = pd.to_numeric(table[column], errors="coerce")
        if values.isna().any():
            raise ParameterError(f"{path}: {column} has a missing or non-numeric value")
        table[column] = values.astype(float)
    scale = predictions_scale(table)
    try:
        for column in ("valence", "arousal"):
            unscale_values(table[column].to_numpy(), scale)
    except ParameterError as exc:
        raise ParameterError(f"{path}: {exc}") from None
    return table, scale


def read_segments(path: str | os.PathLike, scale: str) -> pd.DataFrame:
    """Read segment predictions (``predict --segment`` output) to go with the songs' page.

    Parameters
    ----------
    path : str or Path
        The segment predictions file.
    scale : {"plane", "unit", "nine"}
        The songs' scale, which the segments must share.

    Returns
    -------
    pd.DataFrame
        One row per window, as :func:`read_page_table` reads it.

    Raises
    ------
    ParameterError
        Naming ``path``, when it holds no windows or is on another scale.
    """
    segments, their_scale = read_page_table(path)
    if "start" not in segments.columns or "end" not in segments.columns:
        raise ParameterError(f"{path}: holds no segments (start, end); see predict --segment")
    if their_scale != scale:
        raise ParameterError(
            f"{path}: segments on the {their_scale} scale, the songs on the {scale} scale; "
            "predict both with the same --scale"
        )
    return segments


def make_playlist(
    predictions: pd.DataFrame,
    *,
    mood: str | None = None,
    min_confidence: float | None = None,
    sort_by: str | None = None,
) -> list[str]:
    """The paths of a playlist chosen from predictions.

    Parameters
    ----------
    predictions : pd.DataFrame
        From :func:`read_predictions` (or ``predict_files(...).reset_index()``).
    mood : str or None
        A mood name (``Calm``) or quadrant (``Q4``), any case; ``None`` keeps every mood.
    min_confidence : float or None
        Keep files whose mood confidence (:func:`mood_confidence`) is at least this, 0..1.
    sort_by : str or None
        ``valence``, ``energy`` (= ``arousal``) or ``confidence``, ascending; prefix ``-`` for
        descending (``-energy``: most energetic first). ``None`` keeps the file's order.
        Ties keep the file's order.

    Returns
    -------
    list of str
        Paths as the predictions hold them.

    Raises
    ------
    ParameterError
        For an unknown mood or sort key, a confidence outside 0..1, or a missing column.

    Examples
    --------
    >>> table = pd.DataFrame({"path": ["a.mp3", "b.mp3", "c.mp3"], "mood": ["Calm", "Calm",
    ...     "Aggressive"], "valence": [0.2, 0.6, -0.5], "arousal": [-0.3, -0.1, 0.8]})
    >>> make_playlist(table, mood="calm", sort_by="-valence")
    ['b.mp3', 'a.mp3']
    """
    table = predictions
    if "path" not in table.columns:
        table = table.reset_index()
        table = table.rename(columns={table.columns[0]: "path"})
    if "energy" in table.columns:
        table = table.rename(
            columns={"energy": "arousal", "energy_confidence": "arousal_confidence"}
        )
    keep = np.ones(len(table), dtype=bool)
    if mood is not None:
        quadrant = parse_quadrant(mood)
        if "quadrant" in table.columns:
            keep &= (table["quadrant"] == quadrant).to_numpy()
        else:
            keep &= (table["mood"].str.lower() == MOODS[quadrant].lower()).to_numpy()
    if min_confidence is not None:
        if not 0.0 <= min_confidence <= 1.0:
            raise ParameterError(f"min_confidence must be in 0..1, got {min_confidence}")
        keep &= mood_confidence(table) >= min_confidence
    chosen = table[keep]
    if sort_by is not None:
        descending = sort_by.startswith("-")
        key = sort_by.removeprefix("-").lower()
        if key not in SORT_KEYS:
            raise ParameterError(
                f"cannot sort by {sort_by!r}; allowed: {', '.join(SORT_KEYS)} (prefix - for "
                "descending)"
            )
        if key == "confidence":
            values = mood_confidence(chosen)
        else:
            column = "arousal" if key == "energy" else key
            if column not in chosen.columns:
                raise ParameterError(f"predictions have no {key!r} column to sort by")
            values = chosen[column].to_numpy(dtype=float)
        order = np.argsort(-values if descending else values, kind="stable")
        chosen = chosen.iloc[order]
    return [str(p) for p in chosen["path"]]


def m3u8_entries(
    paths: list[str], folder: str | os.PathLike, *, absolute: bool = False
) -> list[str]:
    """Each path as a line of a playlist kept in ``folder``: the path rule of :func:`write_m3u8`.

    One rule for the ``playlist`` command and the playlists the page
    (:mod:`va_mood.outputs.page`) exports.

    Parameters
    ----------
    paths : list of str
        Audio files; relative ones are taken relative to the current folder.
    folder : str or Path
        Where the playlist lives: relative entries are written relative to it, so that the
        playlist moves with the music (a path on another drive stays absolute).
    absolute : bool
        Write absolute paths instead.

    Returns
    -------
    list of str
        One entry per path, with ``/`` separators when relative. A path that is not valid
        UTF-8 is an absolute ``file://`` URI with its bytes percent-encoded
        (:func:`~va_mood.outputs.scales.path_text`), which players open, so that the
        playlist stays valid UTF-8.

    Examples
    --------
    >>> m3u8_entries(["/music/a.mp3"], "/music")
    ['a.mp3']
    """
    base = Path(folder).absolute()
    lines = []
    for raw in paths:
        path = Path(raw).absolute()
        if path_text(path) != str(path):  # not UTF-8: an absolute file:// URI
            lines.append(path_text(path))
            continue
        if not absolute:
            # on another drive (Windows) there is no relative path: keep the absolute one
            with contextlib.suppress(ValueError):
                path = Path(os.path.relpath(path, base))
        lines.append(path.as_posix() if not path.is_absolute() else str(path))
    return lines


def write_m3u8(paths: list[str], output: str | os.PathLike, *, absolute: bool = False) -> Path:
    """Write ``paths`` as an extended M3U playlist in UTF-8, atomically (a name that is not
    UTF-8 as a ``file://`` URI, see :func:`m3u8_entries`).

    Parameters
    ----------
    paths : list of str
        Audio files, relative to the current folder as ``va-mood predict`` wrote them.
    output : str or Path
        The playlist file.
    absolute : bool
        Write absolute paths rather than paths relative to the playlist's folder
        (:func:`m3u8_entries`).

    Returns
    -------
    Path
        ``output``.

    Examples
    --------
    >>> write_m3u8(["music/a.mp3"], "calm.m3u8")  # doctest: +SKIP
    PosixPath('calm.m3u8')
    """
    output = Path(output)
    lines = ["#EXTM3U", *m3u8_entries(paths, output.absolute().parent, absolute=absolute)]
    write_text(output, "\n".join(lines) + "\n")
    return output
