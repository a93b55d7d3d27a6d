"""Read a labels CSV, validate it, and put its values on the package's [-1, 1] plane."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from ..config import LabelSpec
from ..errors import LabelsError, ParameterError
from ..quadrant import axis_signs, parse_quadrant, quadrant_of
from ..vocabulary import AXES, BINARY, QUADRANTS

__all__ = [
    "load_labels",
    "to_plane",
    "from_plane",
    "match_audio",
    "targets",
    "RATINGS_FILES",
    "load_ratings",
]


def to_plane(values: np.ndarray, spec: LabelSpec) -> np.ndarray:
    """Map values on the spec's scale onto the package's [-1, 1] plane, exactly and linearly.

    ``centre`` goes to 0 and the end farther from it to ±1, so an asymmetric scale keeps its
    proportions (the nearer end lands inside the plane).

    Parameters
    ----------
    values : np.ndarray
        On ``[spec.scale_min, spec.scale_max]``.
    spec : LabelSpec
        The scale.

    Returns
    -------
    np.ndarray
        Same shape, on [-1, 1].

    See Also
    --------
    from_plane

    Examples
    --------
    >>> to_plane(np.array([1.0, 5.0, 9.0]), LabelSpec()).tolist()
    [-1.0, 0.0, 1.0]
    """
    half = max(spec.centre - spec.scale_min, spec.scale_max - spec.centre)
    return (np.asarray(values, dtype=float) - spec.centre) / half


def from_plane(values: np.ndarray, spec: LabelSpec) -> np.ndarray:
    """Map values on the [-1, 1] plane back onto the spec's scale: the inverse of :func:`to_plane`.

    Parameters
    ----------
    values : np.ndarray
        On [-1, 1].
    spec : LabelSpec
        The scale.

    Returns
    -------
    np.ndarray
        Same shape, on the spec's scale.
    """
    half = max(spec.centre - spec.scale_min, spec.scale_max - spec.centre)
    return np.asarray(values, dtype=float) * half + spec.centre


def load_labels(
    path: str | os.PathLike, spec: LabelSpec | None = None, *, drop_bad_rows: bool = False
) -> pd.DataFrame:
    """Read and validate a labels CSV.

    Parameters
    ----------
    path : str or Path
        A CSV with an id column and continuous valence/arousal, quadrant labels, or both.
    spec : LabelSpec
        Its columns and scale; the default reads the 4Q dataset's ``labels.csv``.
    drop_bad_rows : bool
        Drop rows with a bad value or a duplicate id instead of raising; each problem and the
        count dropped are then listed in ``result.attrs["problems"]``.

    Returns
    -------
    pd.DataFrame
        Indexed by ``id`` (str), with columns ``valence`` and ``arousal`` on [-1, 1] (NaN when
        the file has no continuous labels), ``quadrant`` (Q1..Q4; derived from the continuous
        values when the file has none) and ``group`` (the grouping column, e.g. artist, or the
        id itself when there is none or the row's is empty). ``attrs["warnings"]`` holds one
        message per row that is kept but questionable, naming the file and the row: a
        quadrant on the other side of an axis than the row's value (kept: the quadrant gives
        the sides a binary head learns, the values their sizes and a regression head's
        targets), and an empty group (the clip becomes a group of its own, as without a
        group column, rather than joining every other clip of unknown group in one).

    Raises
    ------
    LabelsError
        Naming the file and the problem: a missing column, a non-numeric or off-scale value,
        a duplicate id, an unknown quadrant name (the latter four only without
        ``drop_bad_rows``).

    Examples
    --------
    >>> labels = load_labels("../shared/data/4q/labels.csv")  # doctest: +SKIP
    >>> labels[["valence", "arousal", "quadrant"]].head(1)  # doctest: +SKIP
    """
    spec = spec or LabelSpec()
    path = Path(path)
    raw = _read_csv(path, spec)
    ids = raw[spec.id_column].str.strip()
    problems: list[tuple[np.ndarray, str]] = []  # (bad-row mask, message)
    empty = (ids == "").to_numpy()
    if empty.any():
        problems.append((empty, f"{path}: empty id in row(s) {_rows(empty)}"))
    dup = ids.duplicated(keep=False).to_numpy() & ~empty
    if dup.any():
        problems.append((dup, f"{path}: duplicate id(s) {sorted(set(ids[dup]))[:5]}"))
    out = pd.DataFrame(index=pd.Index(ids, name="id"))
    for axis, column in (("valence", spec.valence_column), ("arousal", spec.arousal_column)):
        out[axis] = _continuous(raw, column, spec, path, problems)
    if spec.quadrant_column:
        out["quadrant"] = _quadrants(raw, spec.quadrant_column, path, problems)
    else:
        out["quadrant"] = quadrant_of(out["valence"].to_numpy(), out["arousal"].to_numpy())
    out["group"], notes = _groups(raw, spec, out.index.to_numpy(), path)
    if spec.quadrant_column:
        notes += _contradictions(raw, out, spec, path)
    bad = np.logical_or.reduce([m for m, _ in problems] + [np.zeros(len(out), dtype=bool)])
    out = _without_bad_rows(out, problems, path, drop_bad_rows)
    out.attrs["warnings"] = [message for row, message in sorted(notes) if not bad[row]]
    return out


def _row_numbers(mask: np.ndarray) -> list[tuple[int, int]]:
    """Every 1-based data-row number of a mask, with the row's index: ``[(index, number)]``."""
    return [(int(i), int(i) + 2) for i in np.flatnonzero(mask)]


def _groups(
    raw: pd.DataFrame, spec: LabelSpec, ids: np.ndarray, path: Path
) -> tuple[np.ndarray, list[tuple[int, str]]]:
    """Each row's CV group, and a note per row whose group is empty (it becomes its id)."""
    if not spec.group_column:
        return ids, []
    groups = raw[spec.group_column].str.strip().to_numpy(dtype=object)
    empty = groups == ""
    groups[empty] = ids[empty]
    notes = [
        (
            i,
            f"{path}: row {n}: empty {spec.group_column!r} (the cross-validation group); "
            "the clip is a group of its own",
        )
        for i, n in _row_numbers(empty)
    ]
    return groups, notes


def _contradictions(
    raw: pd.DataFrame, out: pd.DataFrame, spec: LabelSpec, path: Path
) -> list[tuple[int, str]]:
    """A note per row whose quadrant is on the other side of an axis than its value (a value
    on the centre has no side)."""
    known = out["quadrant"].notna().to_numpy()
    values = out[list(AXES)].to_numpy(dtype=float)
    if not known.any() or np.isnan(values).all():
        return []
    signs = np.zeros_like(values)
    signs[known] = axis_signs(out["quadrant"].to_numpy()[known])
    against = (np.sign(values) * signs < 0).any(axis=1)
    columns = {"valence": spec.valence_column, "arousal": spec.arousal_column}
    notes = []
    for i, n in _row_numbers(against):
        said = " and ".join(f"{columns[a]} {raw[columns[a]].iloc[i].strip()}" for a in AXES)
        notes.append(
            (
                i,
                f"{path}: row {n}: quadrant {out['quadrant'].iloc[i]} contradicts {said} "
                f"({quadrant_of(values[i, :1], values[i, 1:])[0]} on the scale "
                f"{spec.scale_min:g}..{spec.scale_max:g}, centre {spec.centre:g}); kept: its "
                "quadrant gives the sides, its values the sizes",
            )
        )
    return notes


def _read_csv(path: Path, spec: LabelSpec) -> pd.DataFrame:
    """The labels file as text columns, refused if it lacks a column the spec names."""
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise LabelsError(f"{path}: no such labels file") from None
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise LabelsError(f"{path}: not a readable CSV ({exc})") from None
    continuous = [c for c in (spec.valence_column, spec.arousal_column) if c]
    if len(continuous) == 1:
        raise LabelsError(f"{path}: labels spec names only one of valence/arousal columns")
    wanted = [spec.id_column, *continuous, spec.quadrant_column, spec.group_column]
    missing = [c for c in wanted if c and c not in raw.columns]
    if missing:
        raise LabelsError(f"{path}: missing column(s) {missing}; the file has {list(raw.columns)}")
    if raw.empty:
        raise LabelsError(f"{path}: holds a header but no labelled rows")
    return raw


def _continuous(
    raw: pd.DataFrame,
    column: str | None,
    spec: LabelSpec,
    path: Path,
    problems: list[tuple[np.ndarray, str]],
) -> np.ndarray:
    """One axis' values mapped onto the plane (NaN without a column); bad rows noted."""
    if column is None:
        return np.full(len(raw), np.nan)
    values = pd.to_numeric(raw[column].str.strip(), errors="coerce").to_numpy()
    bad = np.isnan(values)
    if bad.any():
        problems.append((bad, f"{path}: non-numeric {column!r} in row(s) {_rows(bad)}"))
    off = (values < spec.scale_min) | (values > spec.scale_max)
    if off.any():
        problems.append(
            (
                off,
                f"{path}: {column!r} outside the declared scale "
                f"{spec.scale_min}..{spec.scale_max} in row(s) {_rows(off)} "
                f"(e.g. {values[off][0]})",
            )
        )
    return to_plane(values, spec)


def _quadrants(
    raw: pd.DataFrame, column: str, path: Path, problems: list[tuple[np.ndarray, str]]
) -> list[str | None]:
    """The quadrant of each row (None where unknown, noted as a problem)."""
    quadrants = [_quadrant_or_none(q) for q in raw[column]]
    unknown = np.array([q is None for q in quadrants], dtype=bool)
    if unknown.any():
        first = raw[column].to_numpy()[unknown][0]
        problems.append(
            (
                unknown,
                f"{path}: column {column!r}: unknown quadrant {first!r} in "
                f"row(s) {_rows(unknown)}; allowed: {QUADRANTS[0]}..{QUADRANTS[-1]}, "
                f"1..{len(QUADRANTS)} or mood names",
            )
        )
    return quadrants


def _without_bad_rows(
    out: pd.DataFrame, problems: list[tuple[np.ndarray, str]], path: Path, drop: bool
) -> pd.DataFrame:
    """Raise on the first problem, or (``drop``) leave out every bad row and list why."""
    messages = [message for _, message in problems]
    if problems and not drop:
        raise LabelsError(messages[0])
    if problems:
        bad_rows = np.logical_or.reduce([mask for mask, _ in problems])
        messages.append(f"{path}: dropped {int(bad_rows.sum())} of {len(out)} row(s)")
        out = out[~bad_rows]
        if out.empty:
            raise LabelsError(f"{path}: no usable rows ({messages[0]})")
    out.attrs["problems"] = messages
    return out


def _quadrant_or_none(value: object) -> str | None:
    try:
        return parse_quadrant(value)
    except ParameterError:
        return None


def _rows(mask: np.ndarray | pd.Series) -> list[int]:
    """1-based data-row numbers (as a spreadsheet shows them, after the header) of a mask."""
    return [int(i) + 2 for i in np.flatnonzero(np.asarray(mask))][:5]


def match_audio(
    labels: pd.DataFrame, audio_dir: str | os.PathLike, spec: LabelSpec | None = None
) -> tuple[pd.DataFrame, list[str]]:
    """Pair labelled ids with audio files ``audio_dir / spec.audio_pattern``.

    Parameters
    ----------
    labels : pd.DataFrame
        From :func:`load_labels`, indexed by id.
    audio_dir : str or Path
        The folder of the audio files.
    spec : LabelSpec, optional
        Its ``audio_pattern`` (default: the 4Q dataset's).

    Returns
    -------
    matched : pd.DataFrame
        The labels that have audio, with a ``path`` column.
    problems : list of str
        One message for each id without audio, for each id that would name a file outside
        ``audio_dir`` (an absolute path, or ``..`` in it: refused) and for the count of audio
        files without labels.

    Raises
    ------
    LabelsError
        When ``audio_dir`` is not a folder.
    """
    spec = spec or LabelSpec()
    audio_dir = Path(audio_dir)
    if not audio_dir.is_dir():
        raise LabelsError(f"{audio_dir}: audio folder does not exist")
    names = pd.Series([spec.audio_pattern.format(id=i) for i in labels.index], index=labels.index)
    escapes = names.map(lambda n: Path(n).is_absolute() or ".." in Path(n).parts)
    escapes = escapes.to_numpy(dtype=bool)
    problems = [
        f"{audio_dir}: labelled id {i!r} names a file outside the audio folder; refused"
        for i in labels.index[escapes]
    ]
    labels, names = labels[~escapes], names[~escapes]
    paths = names.map(lambda n: audio_dir / n)
    exists = paths.map(Path.is_file)
    problems += [f"{paths[i]}: no audio for labelled id {i!r}" for i in labels.index[~exists]]
    suffix = Path(spec.audio_pattern).suffix
    known = {p.resolve() for p in paths[exists]}
    extra = [p for p in audio_dir.glob(f"*{suffix}") if p.resolve() not in known]
    if extra:
        problems.append(f"{audio_dir}: {len(extra)} audio file(s) without labels ignored")
    matched = labels[exists.to_numpy()].copy()
    matched["path"] = paths[exists].map(str)
    return matched, problems


def targets(labels: pd.DataFrame, modes: dict[str, str]) -> np.ndarray:
    """Training targets for heads of the given modes.

    A binary head learns the side of its axis, taken from the quadrant labels; where the labels
    also hold continuous values, the target carries their size too (``side × |value|``), so a
    head can weigh clear examples above borderline ones (``weight_floor``). Without continuous
    values the target is ±1. A regression head learns the continuous value, which the labels
    must then hold.

    Parameters
    ----------
    labels : pd.DataFrame
        From :func:`load_labels`.
    modes : dict of str to str
        Each head's mode (``config.modes``).

    Returns
    -------
    np.ndarray [shape=(n_clips, 2)]
        Columns (valence, arousal).

    Raises
    ------
    LabelsError
        When a regression head's axis has no continuous labels.
    """
    signs = axis_signs(labels["quadrant"].to_numpy())
    y = np.empty((len(labels), 2))
    for k, axis in enumerate(AXES):
        values = labels[axis].to_numpy(dtype=float)
        if modes[axis] == BINARY:
            size = np.where(np.isnan(values), 1.0, np.maximum(np.abs(values), 1e-3))
            y[:, k] = signs[:, k] * size
        else:
            if np.isnan(values).any():
                raise LabelsError(
                    f"the {axis} head is a regression head but the labels hold no continuous "
                    f"{axis}; use mode = 'binary' or labels with a {axis} column"
                )
            y[:, k] = values
    return y


RATINGS_FILES = {"valence": "valence_cont_average.csv", "arousal": "arousal_cont_average.csv"}
"""Time-varying listener ratings in the emoMusic (MediaEval 2013) layout, scale -1..1."""


def load_ratings(folder: str | os.PathLike, song_id: str) -> pd.DataFrame:
    """Listener valence and arousal over time for one song, from emoMusic-style files.

    Parameters
    ----------
    folder : str or Path
        Holds ``valence_cont_average.csv`` and ``arousal_cont_average.csv``: one row per
        ``song_id``, columns ``sample_<ms>ms`` on the -1..1 scale (already the package's plane).
    song_id : str
        The song.

    Returns
    -------
    pd.DataFrame
        Columns ``time`` (seconds), ``valence``, ``arousal``; rows where either is missing
        are left out.

    Raises
    ------
    LabelsError
        When a file is missing or not in that layout, or has no row for ``song_id``.
    """
    folder = Path(folder)
    curves = {}
    for axis, name in RATINGS_FILES.items():
        path = folder / name
        try:
            table = pd.read_csv(path, dtype={"song_id": str}).set_index("song_id")
        except (FileNotFoundError, KeyError, pd.errors.ParserError) as exc:
            raise LabelsError(f"{path}: not an emoMusic ratings file ({exc})") from None
        if str(song_id) not in table.index:
            raise LabelsError(f"{path}: no ratings for song {song_id!r}")
        row = table.loc[str(song_id)]
        times = [int(c.removeprefix("sample_").removesuffix("ms")) / 1000 for c in row.index]
        curves[axis] = pd.Series(row.to_numpy(dtype=float), index=times)
    out = pd.DataFrame(curves).dropna()
    out.index.name = "time"
    return out.reset_index()
