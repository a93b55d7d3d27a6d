"""Search spaces: what one head's study may try, read from TOML, and a trial's head.

A search space names, per head, the estimator families to try, each family's fixed and tuned
parameters, and optionally which feature groups the head may hear (see
:func:`load_search_space`). Trial parameters are named ``family``, ``<family>.<param>`` and
``group.<group>``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ..config import HeadConfig, read_toml
from ..errors import ParameterError
from ..features.registry import check_groups
from ..locations import resolve_file
from ..vocabulary import AXES, HEAD_MODES

if TYPE_CHECKING:
    import optuna

__all__ = [
    "ParamSpec",
    "FamilySpace",
    "HeadSpace",
    "SearchSpace",
    "load_search_space",
    "search_space_from_dict",
    "suggest_head",
    "head_to_dict",
    "start_params",
]

PARAM_TYPES = ("float", "int", "categorical")


# ---- search spaces ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ParamSpec:
    """One tuned parameter: a float or int range (optionally log-scaled) or a set of choices.

    Parameters
    ----------
    name : str
        The estimator's parameter.
    type : {"float", "int", "categorical"}
    low, high : float, optional
        The range of a float or int parameter.
    log : bool
        Sample the range on a log scale.
    step : float, optional
        The range's step (1 for an int parameter without one).
    choices : tuple
        The values of a categorical parameter.
    mode : {"binary", "regression"}, optional
        Limits the parameter to heads of that mode.
    """

    name: str
    type: Literal["float", "int", "categorical"]
    low: float | None = None
    high: float | None = None
    log: bool = False
    step: float | None = None
    choices: tuple[Any, ...] = ()
    mode: str | None = None

    def suggest(self, trial: optuna.Trial, key: str) -> Any:
        """Ask ``trial`` for a value of this parameter under the name ``key``.

        Parameters
        ----------
        trial : optuna.Trial
        key : str
            The trial parameter's name (``<family>.<param>``).

        Returns
        -------
        object
            The value proposed.
        """
        if self.type == "categorical":
            return trial.suggest_categorical(key, list(self.choices))
        if self.type == "int":
            return trial.suggest_int(
                key, int(self.low), int(self.high), step=int(self.step or 1), log=self.log
            )
        return trial.suggest_float(
            key, float(self.low), float(self.high), step=self.step, log=self.log
        )


@dataclass(frozen=True)
class FamilySpace:
    """An estimator family: its estimator per head mode, scaling, fixed and tuned parameters.

    Parameters
    ----------
    name : str
        As named in the search space (``xgboost``, ``svm``).
    estimators : dict of str to str
        The estimator of each head mode it serves (``"xgboost"`` or a scikit-learn class path).
    scale : bool
        Put a ``StandardScaler`` in front of the estimator.
    fixed : dict
        Parameters every trial uses.
    params : tuple of ParamSpec
        Parameters tuned.
    """

    name: str
    estimators: dict[str, str]
    scale: bool = False
    fixed: dict[str, Any] = field(default_factory=dict)
    params: tuple[ParamSpec, ...] = ()


@dataclass(frozen=True)
class HeadSpace:
    """What one head's study searches: families, parameters, and feature groups.

    Parameters
    ----------
    families : tuple of FamilySpace
    tune_groups : bool
        Switch each candidate group on or off per trial; otherwise all are used.
    groups : tuple of str, optional
        The candidate feature groups (None: the head's configured groups).
    """

    families: tuple[FamilySpace, ...]
    tune_groups: bool = False
    groups: tuple[str, ...] | None = None


@dataclass(frozen=True)
class SearchSpace:
    """The search space of each head, and how many CV repeats score a trial.

    Parameters
    ----------
    heads : dict of str to HeadSpace
        Keyed by axis; a head without a space is not tuned.
    n_repeats : int, optional
        None: the configuration's ``evaluation.n_repeats``.
    source : str, optional
        Where it was read from.

    See Also
    --------
    load_search_space
    """

    heads: dict[str, HeadSpace]
    n_repeats: int | None = None
    source: str | None = None
    """Where it was read from (recorded in each new study, and so in a tuned model's card)."""


def _param(name: str, spec: Any, where: str) -> ParamSpec | None:
    """A :class:`ParamSpec` from its TOML table; ``None`` for a plain (fixed) value."""
    if not isinstance(spec, dict):
        return None
    known = {"type", "low", "high", "log", "step", "choices", "mode"}
    unknown = sorted(set(spec) - known)
    if unknown:
        raise ParameterError(
            f"[{where}] {name}: unknown key(s) {unknown}; allowed: {sorted(known)}"
        )
    kind = spec.get("type")
    if kind not in PARAM_TYPES:
        raise ParameterError(f"[{where}] {name}: type must be one of {PARAM_TYPES}, got {kind!r}")
    if spec.get("mode") not in (None, *HEAD_MODES):
        raise ParameterError(
            f"[{where}] {name}: mode must be 'binary' or 'regression', got {spec['mode']!r}"
        )
    if kind == "categorical":
        if not spec.get("choices"):
            raise ParameterError(f"[{where}] {name}: a categorical parameter needs choices")
    elif not ("low" in spec and "high" in spec and spec["low"] < spec["high"]):
        raise ParameterError(
            f"[{where}] {name}: a {kind} parameter needs low < high, got "
            f"low={spec.get('low')!r}, high={spec.get('high')!r}"
        )
    elif spec.get("log") and spec["low"] <= 0:
        raise ParameterError(f"[{where}] {name}: a log range needs low > 0, got {spec['low']}")
    return ParamSpec(
        name=name,
        type=kind,
        low=spec.get("low"),
        high=spec.get("high"),
        log=bool(spec.get("log", False)),
        step=spec.get("step"),
        choices=tuple(spec.get("choices", ())),
        mode=spec.get("mode"),
    )


def _family(name: str, data: dict[str, Any], where: str) -> FamilySpace:
    known = {*HEAD_MODES, "scale", "params"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ParameterError(f"[{where}] unknown key(s) {unknown}; allowed: {sorted(known)}")
    estimators = {m: data[m] for m in HEAD_MODES if m in data}
    if not estimators:
        raise ParameterError(f"[{where}] needs an estimator for 'binary' and/or 'regression' heads")
    params = data.get("params", {})
    specs = {k: _param(k, v, f"{where}.params") for k, v in params.items()}
    return FamilySpace(
        name=name,
        estimators=estimators,
        scale=bool(data.get("scale", False)),
        fixed={k: v for k, v in params.items() if specs[k] is None},
        params=tuple(s for s in specs.values() if s is not None),
    )


def search_space_from_dict(data: dict[str, Any]) -> SearchSpace:
    """Build and validate a :class:`SearchSpace` from parsed TOML.

    Parameters
    ----------
    data : dict
        The layout of :func:`load_search_space`.

    Returns
    -------
    SearchSpace

    Raises
    ------
    ParameterError
        Naming the section and key, for an unknown head, key, parameter type or feature
        group, a head without families, or an empty range.
    """
    data = dict(data)
    cv = data.pop("cv", {})
    unknown = sorted(set(data) - set(AXES))
    if unknown:
        raise ParameterError(f"unknown search-space section(s) {unknown}; allowed: {list(AXES)}")
    heads = {}
    for axis, section in data.items():
        section = dict(section)
        names = section.pop("families", None)
        tune_groups = section.pop("tune_groups", False)
        groups = section.pop("groups", None)
        if not names:
            raise ParameterError(f"[{axis}] needs families = [...], one or more estimator families")
        missing = [n for n in names if n not in section]
        if missing:
            raise ParameterError(f"[{axis}] lists families {missing} without an [{axis}.<family>]")
        if groups is not None:
            check_groups(groups, where=axis)
        heads[axis] = HeadSpace(
            families=tuple(_family(n, section[n], f"{axis}.{n}") for n in names),
            tune_groups=bool(tune_groups),
            groups=None if groups is None else tuple(groups),
        )
    if not heads:
        raise ParameterError("the search space names no head ([arousal] or [valence])")
    n_repeats = cv.get("n_repeats")
    if n_repeats is not None and int(n_repeats) < 1:
        raise ParameterError(f"[cv] n_repeats must be at least 1, got {n_repeats}")
    return SearchSpace(heads=heads, n_repeats=None if n_repeats is None else int(n_repeats))


def load_search_space(path: str | Path) -> SearchSpace:
    """Read search spaces from a TOML file, or a shipped one by name.

    Layout: a section per head with ``families = [...]``, ``tune_groups`` and optional candidate
    ``groups``; a sub-table per family with the estimator for each head mode (``binary``,
    ``regression``), ``scale``, and ``params``: a value is fixed, a table
    ``{type = "float" | "int" | "categorical", low, high, log, step, choices, mode}`` is tuned.
    An optional ``[cv]`` section sets ``n_repeats`` per trial.

    Parameters
    ----------
    path : str or Path
        A TOML file, or a shipped name (``default``, ``xgboost``:
        ``configs/search_space_<name>.toml``).

    Returns
    -------
    SearchSpace
        With ``source`` set to the file's name.

    Raises
    ------
    ParameterError
        Naming the file, when it is missing, not TOML, or not a valid search space.

    Examples
    --------
    >>> sorted(load_search_space("xgboost").heads)
    ['arousal', 'valence']
    """
    path = resolve_file(path, "search space")
    data = read_toml(path, "search-space")
    try:
        return replace(search_space_from_dict(data), source=Path(path).name)
    except ParameterError as exc:
        raise ParameterError(f"{path}: {exc}") from None


def suggest_head(trial: optuna.Trial, base: HeadConfig, space: HeadSpace) -> HeadConfig:
    """The head configuration ``trial`` proposes: family, parameters, feature groups.

    Trial parameters are named ``family``, ``<family>.<param>`` and ``group.<group>``.

    Parameters
    ----------
    trial : optuna.Trial
        Or an ``optuna.trial.FixedTrial``, to test a space.
    base : HeadConfig
        The configured head: its mode, ``by_arousal``, ``weight_floor`` and groups are kept.
    space : HeadSpace

    Returns
    -------
    HeadConfig

    Raises
    ------
    ParameterError
        When no family of the space fits the head's mode.
    optuna.TrialPruned
        When the trial switches every feature group off.
    """
    families = [f for f in space.families if base.mode in f.estimators]
    if not families:
        raise ParameterError(f"no estimator family in the search space fits a {base.mode} head")
    if len(families) == 1:
        family = families[0]
    else:
        name = trial.suggest_categorical("family", [f.name for f in families])
        family = next(f for f in families if f.name == name)
    params = dict(family.fixed)
    for spec in family.params:
        if spec.mode in (None, base.mode):
            params[spec.name] = spec.suggest(trial, f"{family.name}.{spec.name}")
    candidates = space.groups or base.groups
    if space.tune_groups:
        groups = tuple(
            g for g in candidates if trial.suggest_categorical(f"group.{g}", [True, False])
        )
        if not groups:
            import optuna

            raise optuna.TrialPruned("no feature group switched on")
    else:
        groups = tuple(candidates)
    return HeadConfig(
        groups=groups,
        mode=base.mode,
        estimator=family.estimators[base.mode],
        params=params,
        scale=family.scale,
        by_arousal=base.by_arousal,
        weight_floor=base.weight_floor,
    )


def head_to_dict(head: HeadConfig) -> dict[str, Any]:
    """A head's configuration as plain data, as a configuration file's section holds it.

    Parameters
    ----------
    head : HeadConfig

    Returns
    -------
    dict
        JSON-ready (a trial's ``head`` attribute); ``weight_floor`` only when set.
    """
    out = {
        "groups": list(head.groups),
        "mode": head.mode,
        "estimator": head.estimator,
        "params": dict(head.params),
        "scale": head.scale,
        "by_arousal": head.by_arousal,
    }
    if head.weight_floor is not None:
        out["weight_floor"] = head.weight_floor
    return out


def start_params(base: HeadConfig, space: HeadSpace) -> dict[str, Any] | None:
    """Trial parameters that reproduce the configured head, if the search space can express it.

    A new study starts with them, so that its best trial is never worse than the configured
    head on the study's objective.

    Parameters
    ----------
    base : HeadConfig
        The configured head.
    space : HeadSpace

    Returns
    -------
    dict or None
        For ``study.enqueue_trial``; None when no family of the space has the head's
        estimator and scaling.
    """
    family = next(
        (f for f in space.families if f.estimators.get(base.mode) == base.estimator), None
    )
    if family is None or base.scale != family.scale:
        return None
    params: dict[str, Any] = {}
    if len([f for f in space.families if base.mode in f.estimators]) > 1:
        params["family"] = family.name
    for spec in family.params:
        if spec.mode in (None, base.mode) and spec.name in base.params:
            params[f"{family.name}.{spec.name}"] = base.params[spec.name]
    if space.tune_groups:
        for g in space.groups or base.groups:
            params[f"group.{g}"] = g in base.groups
    return params
