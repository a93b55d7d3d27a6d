"""The feature registry: named groups of feature columns, each computed by one pure extractor.

An extractor is a keyword-only function of a clip's shared intermediates (see
:mod:`va_mood.features.analysis`) registered with :func:`feature`, so that the names of its
columns are declared once, next to the code that computes them. This module knows none of the
extractors: their modules register their groups when they are imported.
"""

from __future__ import annotations

import hashlib
import inspect
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ParameterError

__all__ = [
    "REGISTRY",
    "STAT_FUNCTIONS",
    "FeatureGroup",
    "feature",
    "summarise",
    "columns_for",
    "check_groups",
    "feature_fingerprint",
]

STAT_FUNCTIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "mean": lambda x: x.mean(axis=-1),
    "std": lambda x: x.std(axis=-1),
    "p10": lambda x: np.percentile(x, 10, axis=-1),
    "p50": lambda x: np.percentile(x, 50, axis=-1),
    "p90": lambda x: np.percentile(x, 90, axis=-1),
    "delta_mean": lambda x: (
        np.abs(np.diff(x, axis=-1)).mean(axis=-1) if x.shape[-1] > 1 else np.zeros(x.shape[:-1])
    ),
}
"""Summary statistics over time, by the name a group declares in ``stats``."""


@dataclass(frozen=True)
class FeatureGroup:
    """A registered extractor with the names of the columns it produces.

    Made by :func:`feature`, which documents what the fields mean.

    Attributes
    ----------
    family, name : str
        The group's key is ``family.name``.
    func : callable
        The extractor.
    dims : tuple of str or None
        Names of the rows of its output.
    stats : tuple of str or None
        Statistics over time; ``None`` for clip-level values.
    inputs : tuple of str
        The :class:`~va_mood.features.analysis.Analysis` attributes it reads.
    version : int
        The extractor's version.
    """

    family: str
    name: str
    func: Callable[..., np.ndarray]
    dims: tuple[str, ...] | None
    stats: tuple[str, ...] | None
    inputs: tuple[str, ...]
    version: int = 1

    @property
    def key(self) -> str:
        """The group's name in the registry and in configurations: ``family.name``."""
        return f"{self.family}.{self.name}"

    @property
    def columns(self) -> list[str]:
        """The names of the group's columns, in the order of its values.

        ``family.name.stat`` (``arousal.rms.mean``) for a one-dimensional series,
        ``family.name_dim.stat`` (``valence.chroma_C.mean``) for a series with ``dims``, and
        ``family.name.dim`` for clip-level values.
        """
        if self.stats is None:
            return [f"{self.key}.{d}" for d in self.dims]
        if self.dims is None:
            return [f"{self.key}.{s}" for s in self.stats]
        return [f"{self.key}_{d}.{s}" for d in self.dims for s in self.stats]

    def compute(self, analysis: Any) -> np.ndarray:
        """Run the extractor on ``analysis`` and summarise its output.

        Parameters
        ----------
        analysis : Analysis
            A clip's :class:`~va_mood.features.analysis.Analysis`, or anything with the
            attributes the extractor reads (a window of one, a block's compact intermediates).

        Returns
        -------
        np.ndarray [shape=(len(columns),)]
            One finite value per column.
        """
        return self.finish(self.raw(analysis))

    def raw(self, analysis: Any) -> np.ndarray:
        """The extractor's own output on ``analysis``, before any summary.

        Parameters
        ----------
        analysis : Analysis
            As for :meth:`compute`.

        Returns
        -------
        np.ndarray [shape=(n_dims, n_frames) or (n_frames,) or (n_dims,)]
            A time series, or clip-level values, as float64.
        """
        kwargs = {name: getattr(analysis, name) for name in self.inputs}
        return np.asarray(self.func(**kwargs), dtype=np.float64)

    def finish(self, out: np.ndarray) -> np.ndarray:
        """Summarise a :meth:`raw` output over time, if it is a series.

        Parameters
        ----------
        out : np.ndarray
            What :meth:`raw` returned, or a series joined from several of its outputs.

        Returns
        -------
        np.ndarray [shape=(len(columns),)]
            One value per column, NaN and infinities replaced by 0.

        Raises
        ------
        RuntimeError
            When the extractor returned the wrong number of values: a bug in it.
        """
        if self.stats is not None:
            out = summarise(np.atleast_2d(out), self.stats).ravel()
        out = np.nan_to_num(out, nan=0.0, posinf=0.0, neginf=0.0)
        if out.shape != (len(self.columns),):
            raise RuntimeError(
                f"{self.key} returned {out.shape}, expected {len(self.columns)} values"
            )
        return out


REGISTRY: dict[str, FeatureGroup] = {}
"""Every registered group by its key (``family.name``), in registration order."""


def feature(
    family: str,
    name: str,
    *,
    stats: Sequence[str] | None = ("mean", "std"),
    dims: Sequence[str] | int | None = None,
    version: int = 1,
) -> Callable:
    """Register an extractor as the feature group ``family.name``.

    The extractor is a keyword-only function whose parameter names are the
    :class:`~va_mood.features.analysis.Analysis` attributes it reads. It returns a time
    series [shape=(n_dims, n_frames)] (or [shape=(n_frames,)]), summarised over time by
    ``stats``, or clip-level values [shape=(n_dims,)].

    Parameters
    ----------
    family, name : str
        The group's key is ``family.name``; its columns start with it.
    stats : sequence of str or None
        Names from :data:`STAT_FUNCTIONS` that summarise a series; ``None`` marks an
        extractor that returns clip-level values, one per ``dims``.
    dims : sequence of str or int or None
        Names of the rows of a multi-dimensional output (an int names them ``00``, ``01``
        …); ``None`` for a one-dimensional series.
    version : int
        Bump it whenever the extractor's output changes: cached features and models trained
        on the old output are then recognised as stale.

    Returns
    -------
    callable
        A decorator that registers the function in :data:`REGISTRY` and returns it as it is.

    Raises
    ------
    ParameterError
        When ``stats`` names a statistic that :data:`STAT_FUNCTIONS` lacks.

    Examples
    --------
    >>> @feature("arousal", "peak", stats=None, dims=("abs",))  # doctest: +SKIP
    ... def peak(*, y):
    ...     return np.abs(y).max(keepdims=True)
    """
    if isinstance(dims, int):
        dims = tuple(f"{i:02d}" for i in range(dims))
    unknown = set(stats or ()) - set(STAT_FUNCTIONS)
    if unknown:
        raise ParameterError(f"unknown stats {sorted(unknown)}; allowed: {sorted(STAT_FUNCTIONS)}")

    def register(func: Callable) -> Callable:
        inputs = tuple(inspect.signature(func).parameters)
        group = FeatureGroup(
            family,
            name,
            func,
            None if dims is None else tuple(dims),
            stats and tuple(stats),
            inputs,
            version,
        )
        REGISTRY[group.key] = group
        return func

    return register


def summarise(x: np.ndarray, stats: Sequence[str]) -> np.ndarray:
    """Summarise each row of ``x`` over time.

    Parameters
    ----------
    x : np.ndarray [shape=(n_dims, n_frames)]
        A time series.
    stats : sequence of str
        Names from :data:`STAT_FUNCTIONS`.

    Returns
    -------
    np.ndarray [shape=(n_dims, len(stats))]
        The statistics of each row; zeros for an empty series.

    Examples
    --------
    >>> summarise(np.array([[1.0, 2.0, 3.0]]), ["mean", "delta_mean"])
    array([[2., 1.]])
    """
    if x.shape[-1] == 0:
        return np.zeros((x.shape[0], len(stats)))
    return np.stack([STAT_FUNCTIONS[s](x) for s in stats], axis=-1)


def check_groups(groups: Sequence[str], where: str = "") -> None:
    """Refuse names that are not registered groups.

    Parameters
    ----------
    groups : sequence of str
        Group keys (``family.name``).
    where : str
        Where the names come from (a configuration section), for the message.

    Raises
    ------
    ParameterError
        Naming the unknown groups and listing the registered ones.
    """
    unknown = [g for g in groups if g not in REGISTRY]
    if unknown:
        prefix = f"[{where}] " if where else ""
        raise ParameterError(
            f"{prefix}unknown feature group(s) {unknown}; known: {sorted(REGISTRY)}"
        )


def columns_for(groups: Sequence[str]) -> list[str]:
    """The column names the given feature groups produce, in order.

    Parameters
    ----------
    groups : sequence of str
        Group keys (``family.name``).

    Returns
    -------
    list of str
        Each group's :attr:`FeatureGroup.columns`, one group after another.

    Raises
    ------
    ParameterError
        When a group is not registered.
    """
    check_groups(groups)
    return [c for g in groups for c in REGISTRY[g].columns]


def feature_fingerprint(settings: Mapping[str, Any], groups: Sequence[str]) -> str:
    """A short hash of the analysis settings and the groups' extractor versions.

    It keys the feature cache and ties a feature table or a model to the features it was
    made from: different settings or a changed extractor give a different fingerprint.

    Parameters
    ----------
    settings : mapping
        The analysis settings, name to value (JSON-serialisable).
    groups : sequence of str
        Group keys (``family.name``).

    Returns
    -------
    str
        16 hexadecimal digits of a SHA-256.

    Raises
    ------
    ParameterError
        When a group is not registered.
    """
    check_groups(groups)
    versions = {g: REGISTRY[g].version for g in groups}
    blob = json.dumps({"analysis": dict(settings), "groups": versions}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]
