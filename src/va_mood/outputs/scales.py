"""Output scales: the package's plane, Spotify's 0..1, or the emotion datasets' 1..9.

Everything inside va_mood works on the plane [-1, 1] x [-1, 1] (0 is the neutral boundary).
Other scales are a presentation choice made once, at the edge, by an exact linear map:

=====  =======  =======  =====================  ================================================
scale  range    neutral  columns                map from the plane value ``x``
=====  =======  =======  =====================  ================================================
plane  -1 .. 1  0        valence, arousal       ``x``
unit   0 .. 1   0.5      valence, energy        ``(x + 1) / 2`` (as Spotify's audio features)
nine   1 .. 9   5        valence, arousal       ``4 x + 5`` (SAM ratings of emoMusic, DEAM)
=====  =======  =======  =====================  ================================================

The quadrant, the mood and the confidences do not depend on the scale: the map is monotone and
sends the neutral boundary to the scale's neutral value. Under ``unit`` the arousal columns are
named as Spotify named the axis (``energy``, ``energy_confidence``).

Where both heads are binary, :func:`quadrant_probabilities` gives one probability per mood,
``p_uplifting``, ``p_aggressive``, ``p_melancholic``, ``p_calm``: the product of the two heads'
probabilities of the matching sides (from their confidences), *treating the two heads as
independent* (they are trained separately and see different features, but nothing makes their
errors independent). The four add up to 1.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import ParameterError
from ..quadrant import axis_signs
from ..vocabulary import AXES, BINARY, MOODS, QUADRANTS, SIGNS

__all__ = [
    "as_rows",
    "path_text",
    "path_from_text",
    "display_text",
    "SCALES",
    "Scale",
    "to_scale",
    "from_scale",
    "scale_values",
    "unscale_values",
    "quadrant_probabilities",
    "on_scale",
    "PROBABILITY_COLUMNS",
]


@dataclass(frozen=True)
class Scale:
    """A linear scale for valence and arousal: ``value = centre + half * x`` for plane ``x``."""

    name: str
    low: float
    high: float
    arousal_name: str

    @property
    def centre(self) -> float:
        """The neutral value (the plane's 0)."""
        return (self.low + self.high) / 2

    @property
    def half(self) -> float:
        """Half the range: the scale's value of one plane unit."""
        return (self.high - self.low) / 2


SCALES: dict[str, Scale] = {
    "plane": Scale("plane", -1.0, 1.0, "arousal"),  # the package's plane, 0 neutral
    "unit": Scale("unit", 0.0, 1.0, "energy"),  # 0.5 neutral, as Spotify's valence/energy
    "nine": Scale("nine", 1.0, 9.0, "arousal"),  # 5 neutral, as the emotion datasets' SAM
}
"""The output scales by name; see the module docstring for the table."""

PROBABILITY_COLUMNS = {q: f"p_{mood.lower()}" for q, mood in MOODS.items()}
"""Quadrant -> name of its probability column (``p_uplifting`` ...)."""

_TOLERANCE = 1e-9


def _scale(scale: str | Scale) -> Scale:
    if isinstance(scale, Scale):
        return scale
    try:
        return SCALES[str(scale)]
    except KeyError:
        raise ParameterError(f"unknown scale {scale!r}; allowed: {', '.join(SCALES)}") from None


def _check_range(values: np.ndarray, low: float, high: float, what: str) -> None:
    finite = values[~np.isnan(values)]
    bad = (finite < low - _TOLERANCE) | (finite > high + _TOLERANCE)
    if bad.any():
        raise ParameterError(f"{what} must lie in {low:g}..{high:g}, got {float(finite[bad][0])!r}")


def scale_values(values: np.ndarray, scale: str | Scale) -> np.ndarray:
    """Map plane values (-1..1) onto ``scale``, exactly and linearly.

    Examples
    --------
    >>> scale_values(np.array([-1.0, 0.0, 0.5, 1.0]), "nine").tolist()
    [1.0, 5.0, 7.0, 9.0]
    """
    s = _scale(scale)
    values = np.asarray(values, dtype=float)
    _check_range(values, -1.0, 1.0, "plane values")
    return values * s.half + s.centre


def unscale_values(values: np.ndarray, scale: str | Scale) -> np.ndarray:
    """The inverse of :func:`scale_values`: values on ``scale`` back to the plane.

    Examples
    --------
    >>> unscale_values(np.array([0.0, 0.5, 1.0]), "unit").tolist()
    [-1.0, 0.0, 1.0]
    """
    s = _scale(scale)
    values = np.asarray(values, dtype=float)
    _check_range(values, s.low, s.high, f"values on the {s.name} scale")
    return (values - s.centre) / s.half


def _renames(s: Scale) -> dict[str, str]:
    if s.arousal_name == "arousal":
        return {}
    return {"arousal": s.arousal_name, "arousal_confidence": f"{s.arousal_name}_confidence"}


def to_scale(table: pd.DataFrame, scale: str | Scale = "plane") -> pd.DataFrame:
    """A copy of a prediction table with valence and arousal on ``scale``.

    Parameters
    ----------
    table : pd.DataFrame
        As :meth:`va_mood.Model.predict_files` returns it: ``valence`` and ``arousal`` on the
        plane (-1..1); other columns (quadrant, mood, confidences, ``p_*``) are kept as they are.
    scale : {"plane", "unit", "nine"}
        See :data:`SCALES`. Under ``"unit"``, ``arousal`` and ``arousal_confidence`` are renamed
        ``energy`` and ``energy_confidence``.

    Returns
    -------
    pd.DataFrame
        Same index and column order.

    Examples
    --------
    >>> plane = pd.DataFrame({"valence": [0.5], "arousal": [-1.0], "quadrant": ["Q4"]})
    >>> to_scale(plane, "unit").to_dict(orient="records")
    [{'valence': 0.75, 'energy': 0.0, 'quadrant': 'Q4'}]
    """
    s = _scale(scale)
    out = table.copy()
    for axis in AXES:
        if axis in out.columns:
            out[axis] = scale_values(out[axis].to_numpy(dtype=float), s)
    return out.rename(columns=_renames(s))


def from_scale(table: pd.DataFrame, scale: str | Scale) -> pd.DataFrame:
    """The inverse of :func:`to_scale`: a copy with valence and arousal back on the plane.

    The unit scale's ``energy`` columns are renamed ``arousal``; a table whose columns are
    already named ``arousal`` (as :func:`va_mood.outputs.playlist.read_predictions` returns every
    scale) is read the same way.

    Examples
    --------
    >>> unit = pd.DataFrame({"valence": [0.75], "energy": [0.0]})
    >>> from_scale(unit, "unit").to_dict(orient="records")
    [{'valence': 0.5, 'arousal': -1.0}]
    """
    s = _scale(scale)
    back = {new: old for old, new in _renames(s).items()}
    if s.arousal_name != "arousal" and {s.arousal_name, "arousal"} <= set(table.columns):
        raise ParameterError(
            f"a table on the {s.name} scale has both {s.arousal_name!r} and 'arousal' columns"
        )
    out = table.rename(columns=back)
    for axis in AXES:
        if axis in out.columns:
            out[axis] = unscale_values(out[axis].to_numpy(dtype=float), s)
    return out


def quadrant_probabilities(table: pd.DataFrame, modes: dict[str, str]) -> pd.DataFrame:
    """Each mood's probability from two binary heads, assumed independent.

    A head's confidence is its probability of the side it put the clip on, so its probability
    of the positive side (positive valence, high arousal) is the confidence or one minus it.
    Then, treating the two heads as independent::

        p_uplifting   = p_v       * p_a          (Q1)
        p_aggressive  = (1 - p_v) * p_a          (Q2)
        p_melancholic = (1 - p_v) * (1 - p_a)    (Q3)
        p_calm        = p_v       * (1 - p_a)    (Q4)

    Parameters
    ----------
    table : pd.DataFrame
        Predictions with ``quadrant``, ``valence_confidence`` and ``arousal_confidence``
        (before :func:`to_scale`).
    modes : dict
        ``bundle.heads.modes``; both heads must be ``"binary"``.

    Returns
    -------
    pd.DataFrame [shape=(n, 4)]
        Columns ``p_uplifting``, ``p_aggressive``, ``p_melancholic``, ``p_calm``, same index.

    Raises
    ------
    ParameterError
        When a head is a regression head or a column is missing.

    Examples
    --------
    >>> table = pd.DataFrame(
    ...     {"quadrant": ["Q4"], "valence_confidence": [0.8], "arousal_confidence": [0.6]}
    ... )
    >>> quadrant_probabilities(table, {"valence": "binary", "arousal": "binary"}).round(2)
       p_uplifting  p_aggressive  p_melancholic  p_calm
    0         0.32          0.08           0.12    0.48
    """
    regression = [axis for axis in AXES if modes.get(axis) != BINARY]
    if regression:
        raise ParameterError(
            f"quadrant probabilities need two binary heads, but the {' and '.join(regression)} "
            f"head(s) are {', '.join(repr(modes.get(a)) for a in regression)}"
        )
    needed = ["quadrant", *(f"{axis}_confidence" for axis in AXES)]
    missing = [c for c in needed if c not in table.columns]
    if missing:
        raise ParameterError(
            f"quadrant probabilities need the columns {needed}, missing {missing}; "
            "compute them before to_scale()"
        )
    quadrants = table["quadrant"].to_numpy()
    known = np.isin(quadrants, QUADRANTS)  # no quadrant (silence, "uncertain"): NaN
    signs = np.full((len(table), 2), np.nan)
    signs[known] = axis_signs(quadrants[known])
    p = {}
    for k, axis in enumerate(AXES):
        confidence = table[f"{axis}_confidence"].to_numpy(dtype=float)
        _check_range(confidence, 0.0, 1.0, f"{axis}_confidence")
        p[axis] = np.where(known, np.where(signs[:, k] > 0, confidence, 1.0 - confidence), np.nan)
    sides = {
        q: np.prod([p[a] if s > 0 else 1 - p[a] for a, s in zip(AXES, SIGNS[q], strict=True)], 0)
        for q in QUADRANTS
    }
    return pd.DataFrame(
        {PROBABILITY_COLUMNS[q]: sides[q] for q in PROBABILITY_COLUMNS}, index=table.index
    )


def on_scale(
    table: pd.DataFrame, *, scale: str | Scale = "plane", modes: dict[str, str] | None = None
) -> pd.DataFrame:
    """A prediction table as users read it: ``p_*`` columns where they apply, on ``scale``.

    The one place where a prediction is presented: :func:`va_mood.predict_files` and
    :meth:`va_mood.Model.predict_features` (and so the command line) call it.

    Adds :func:`quadrant_probabilities` when ``modes`` says both heads are binary (and leaves
    them out otherwise), then maps valence and arousal with :func:`to_scale`.

    Examples
    --------
    >>> import va_mood  # doctest: +SKIP
    >>> model = va_mood.load_model()  # doctest: +SKIP
    >>> table = model.heads.predict_table(features)  # doctest: +SKIP
    >>> on_scale(table, scale="unit", modes=model.heads.modes)  # doctest: +SKIP
    """
    s = _scale(scale)
    attrs = dict(table.attrs)
    if modes is not None and all(modes.get(axis) == BINARY for axis in AXES) and len(table):
        table = table.join(quadrant_probabilities(table, modes))
    out = to_scale(table, s)
    out.attrs = {**attrs, "scale": s.name}
    return out


def as_rows(table: pd.DataFrame) -> pd.DataFrame:
    """A prediction table with its index (``path``; ``start``, ``end`` for windows) as the
    leading columns, as ``va-mood predict`` writes it. Paths stay Python strings: a file name
    need not be UTF-8 (on Linux it may hold any bytes, read as surrogates), which pandas'
    own string type cannot hold."""
    out = table.reset_index(drop=True)
    for k, name in enumerate(table.index.names):
        level = table.index.get_level_values(k)
        column = pd.Series(level.to_numpy(dtype=object), dtype=object) if name == "path" else level
        out.insert(k, name or "index", pd.Series(column, index=out.index))
    out.attrs = dict(table.attrs)
    return out


FILE_URI = "file://"
"""How a written path that is not UTF-8 begins (:func:`path_text`)."""


def path_text(path: str | os.PathLike) -> str:
    """A file's path as an output file holds it: valid UTF-8 that leads back to the file.

    A path that is valid UTF-8 is written as it is. One that is not (on Linux a file name may
    hold any bytes; Python keeps those it cannot decode as lone surrogates) is written as an
    absolute ``file://`` URI whose bytes are percent-encoded (RFC 8089), which
    :func:`path_from_text`, media players and browsers turn back into the file's own bytes.
    No path as Python writes it begins with ``file://`` (it never holds ``//`` after its
    start), so the two cannot be confused.

    Parameters
    ----------
    path : str or os.PathLike
        The file, as the file system names it.

    Returns
    -------
    str
        Text that encodes as UTF-8.

    See Also
    --------
    path_from_text, display_text

    Examples
    --------
    >>> path_text("music/café.mp3")
    'music/café.mp3'
    >>> path_text(os.fsdecode(b"/music/caf\\xe9.mp3"))  # doctest: +SKIP
    'file:///music/caf%E9.mp3'
    """
    text = os.fspath(path)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return Path(text).absolute().as_uri()
    return text


def path_from_text(text: str) -> str:
    """The path :func:`path_text` wrote: a ``file://`` URI turned back into the file's name.

    Parameters
    ----------
    text : str
        A path as an output file holds it; text that is not a local ``file://`` URI is
        returned as it is.

    Returns
    -------
    str
        The path, with bytes that are not UTF-8 as Python keeps them (lone surrogates).

    Examples
    --------
    >>> path_from_text("file:///music/caf%C3%A9%20live.mp3")
    '/music/café live.mp3'
    >>> path_from_text("music/a.mp3")
    'music/a.mp3'
    """
    if not text.startswith(FILE_URI):
        return text
    from urllib.parse import unquote, unquote_to_bytes, urlsplit

    parts = urlsplit(text)
    if parts.netloc not in ("", "localhost"):
        return text  # a file on another host: not one to open here
    if os.name == "nt":
        from urllib.request import url2pathname

        return url2pathname(unquote(parts.path))
    return os.fsdecode(unquote_to_bytes(parts.path))


def display_text(text: str) -> str:
    """``text`` as valid Unicode for people to read: bytes of a file name that are not UTF-8
    (lone surrogates in Python) become U+FFFD, the replacement character.

    Parameters
    ----------
    text : str
        A file name, or a message naming one.

    Returns
    -------
    str
        The same text where it was valid, otherwise with U+FFFD for each bad byte.

    Examples
    --------
    >>> display_text(os.fsdecode(b"caf\\xe9.mp3"))  # doctest: +SKIP
    'caf\ufffd.mp3'
    """
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
