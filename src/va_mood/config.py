"""Typed configuration, read once from ``configs/*.toml`` and passed down as arguments.

Library functions never read files or environment variables for settings: the CLI (or an
application) loads a :class:`Config` here and hands its parts to the code that needs them.
"""

from __future__ import annotations

import dataclasses
import json
import math
import tomllib
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from . import features  # noqa: F401 - registers every built-in feature group
from .errors import ParameterError
from .features.analysis import AnalysisConfig
from .features.registry import check_groups
from .locations import resolve_file
from .vocabulary import AXES, HEAD_MODES

__all__ = [
    "AnalysisConfig",
    "HeadConfig",
    "EvaluationConfig",
    "CalibrationConfig",
    "AugmentationConfig",
    "Config",
    "LabelSpec",
    "load_config",
    "load_label_spec",
    "label_spec_from_dict",
    "read_toml",
    "config_from_dict",
    "config_to_dict",
    "config_to_toml",
    "extraction_config",
]


@dataclass(frozen=True)
class HeadConfig:
    """One head: the feature groups it hears, its mode and its estimator."""

    groups: tuple[str, ...]
    """Registered feature groups (``arousal.rms``, ``embedding.msd_tags`` ...)."""
    mode: Literal["binary", "regression"] = "binary"
    """Predict the side of the axis (a probability) or a value on it."""
    estimator: str = "xgboost"
    """``"xgboost"`` or a scikit-learn class path such as ``"sklearn.svm.SVC"``."""
    params: dict[str, Any] = field(default_factory=dict)
    """The estimator's parameters."""
    scale: bool = False
    """Put a ``StandardScaler`` in front of the estimator."""
    by_arousal: bool = False
    """Valence head only: fit it separately on high- and low-arousal clips."""
    weight_floor: float | None = None
    """Weigh each training clip of a binary head by its label's distance from the neutral 0
    plus this floor (see :class:`va_mood.model.estimator.MoodModel`)."""


@dataclass(frozen=True)
class EvaluationConfig:
    """The evaluation protocol: repeated k-fold cross-validation grouped by artist."""

    n_splits: int = 5
    """Folds per repeat."""
    n_repeats: int = 3
    """Repeats, each reshuffling the groups into folds (seed + repeat)."""


@dataclass(frozen=True)
class CalibrationConfig:
    """How each head's coordinate and confidence maps are learnt.

    See :mod:`va_mood.model.calibration`.
    """

    folds: int = 5
    """Inner folds, grouped by artist, whose out-of-fold scores the maps are learnt from;
    ``0`` keeps the heads' own scale."""


@dataclass(frozen=True)
class AugmentationConfig:
    """Extra training rows: random excerpts of each clip (:mod:`va_mood.labels.augment`)."""

    crops: int = 0
    """Excerpts per clip; ``0`` trains on the clips alone."""
    seconds: tuple[float, float] = (6.0, 15.0)
    """The shortest and longest excerpt."""


@dataclass(frozen=True)
class Config:
    """Everything a training or evaluation run needs, besides the data.

    See Also
    --------
    load_config, config_from_dict
    """

    valence: HeadConfig
    arousal: HeadConfig
    analysis: AnalysisConfig = AnalysisConfig()
    evaluation: EvaluationConfig = EvaluationConfig()
    calibration: CalibrationConfig = CalibrationConfig()
    augmentation: AugmentationConfig = AugmentationConfig()
    thresholds: dict[str, float] = field(default_factory=lambda: {"valence": 0.0, "arousal": 0.0})
    """The boundary between each axis' sides, inside (-1, 1)."""
    seed: int = 0
    """The one seed of every split, estimator and sampler."""

    @property
    def groups(self) -> tuple[str, ...]:
        """Every feature group either head needs, in a stable order."""
        return tuple(dict.fromkeys(self.arousal.groups + self.valence.groups))

    @property
    def modes(self) -> dict[str, str]:
        """Each head's mode, ``{"valence": "binary" | "regression", "arousal": ...}``."""
        return {axis: self.head(axis).mode for axis in AXES}

    def head(self, axis: str) -> HeadConfig:
        """The configuration of the head of ``axis`` (``"valence"`` or ``"arousal"``)."""
        if axis not in AXES:
            raise ParameterError(f"head must be one of {AXES}, got {axis!r}")
        return getattr(self, axis)

    def with_head(self, axis: str, head: HeadConfig) -> Config:
        """A copy with the head of ``axis`` replaced."""
        self.head(axis)
        return replace(self, **{axis: head})


@dataclass(frozen=True)
class LabelSpec:
    """How to read one labels CSV: its columns and the scale its values are on.

    Continuous values on ``[scale_min, scale_max]`` map to ``(x - centre) / half_range`` on the
    package's [-1, 1] plane, ``half_range`` being the larger distance from ``centre`` to an end.
    A column given as None is not in the file: without quadrants they are derived from the
    signs, without groups each clip is its own.

    Raises
    ------
    ParameterError
        For a centre not strictly inside the scale, neither a valence nor a quadrant column,
        or an ``audio_pattern`` without ``{id}``.
    """

    id_column: str = "song_id"
    valence_column: str | None = "valence"
    arousal_column: str | None = "arousal"
    quadrant_column: str | None = "quadrant"
    group_column: str | None = "artist"
    scale_min: float = 1.0
    scale_max: float = 9.0
    centre: float = 5.0
    audio_pattern: str = "{id}.mp3"
    """An audio file's name relative to the audio folder, ``{id}`` standing for the id."""

    def __post_init__(self) -> None:
        if not self.scale_min < self.centre < self.scale_max:
            raise ParameterError(
                "labels centre must lie strictly between scale_min and scale_max, got "
                f"{self.scale_min} < {self.centre} < {self.scale_max}"
            )
        if self.valence_column is None and self.quadrant_column is None:
            raise ParameterError("labels need a valence_column or a quadrant_column")
        if "{id}" not in self.audio_pattern:
            raise ParameterError(f"audio_pattern must contain '{{id}}', got {self.audio_pattern!r}")


def _build(cls: type, data: dict[str, Any], where: str) -> Any:
    """Make dataclass ``cls`` from ``data``, refusing unknown keys with a clear message."""
    known = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ParameterError(f"unknown key(s) {unknown} in [{where}]; allowed: {sorted(known)}")
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for name, value in data.items():
        if isinstance(value, list):
            value = tuple(value)
        if not _has_type(value, hints[name]):
            raise ParameterError(
                f"[{where}] {name} must be {_type_name(hints[name])}, got {value!r}"
            )
        kwargs[name] = value
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise ParameterError(f"[{where}]: {exc}") from None


def _has_type(value: Any, hint: Any) -> bool:
    """Whether ``value`` (parsed TOML or JSON, lists as tuples) fits the annotation ``hint``;
    numbers must be finite, and a bool is not a number."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_has_type(value, a) for a in args)
    if origin is Literal:
        return value in args
    if hint is Any:
        return True
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        number = isinstance(value, int | float) and not isinstance(value, bool)
        return number and math.isfinite(value)
    if origin is tuple:
        if not isinstance(value, tuple):
            return False
        if len(args) == 2 and args[1] is Ellipsis:
            return all(_has_type(v, args[0]) for v in value)
        return len(value) == len(args) and all(map(_has_type, value, args))
    if origin is dict:
        return isinstance(value, dict) and all(isinstance(k, str) for k in value)
    return isinstance(value, hint)


def _type_name(hint: Any) -> str:
    """A type annotation for a person: ``int``, ``a finite number``, ``a list of str`` …"""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(hint))
    if typing.get_origin(hint) is Literal:
        return "one of " + ", ".join(map(repr, typing.get_args(hint)))
    if typing.get_origin(hint) is tuple:
        return "a list of " + _type_name(typing.get_args(hint)[0])
    names = {float: "a finite number", int: "an integer", bool: "true or false", str: "a string"}
    return names.get(hint, "null" if hint is type(None) else getattr(hint, "__name__", str(hint)))


def _head(data: dict[str, Any], name: str) -> HeadConfig:
    head = _build(HeadConfig, data, name)
    if head.mode not in HEAD_MODES:
        raise ParameterError(f"[{name}] mode must be one of {HEAD_MODES}, got {head.mode!r}")
    if not head.groups:
        raise ParameterError(f"[{name}] needs at least one feature group")
    if head.weight_floor is not None and not head.weight_floor > 0:
        raise ParameterError(f"[{name}] weight_floor must be positive, got {head.weight_floor}")
    if head.by_arousal and name != "valence":
        raise ParameterError(f"[{name}] by_arousal applies to the valence head only")
    check_groups(head.groups, where=name)
    return head


def _calibration(data: dict[str, Any]) -> CalibrationConfig:
    calibration = _build(CalibrationConfig, data, "calibration")
    if calibration.folds != 0 and calibration.folds < 2:
        raise ParameterError(
            f"[calibration] folds must be 0 or at least 2, got {calibration.folds}"
        )
    return calibration


def _augmentation(data: dict[str, Any]) -> AugmentationConfig:
    augmentation = _build(AugmentationConfig, data, "augmentation")
    low, high = (float(s) for s in augmentation.seconds)
    if augmentation.crops < 0 or not 0.5 <= low <= high:
        raise ParameterError(
            "[augmentation] needs crops >= 0 and seconds = [shortest, longest] with "
            f"0.5 <= shortest <= longest, got {augmentation}"
        )
    return replace(augmentation, seconds=(low, high))


def config_from_dict(data: dict[str, Any]) -> Config:
    """Build and validate a :class:`Config` from plain data (a parsed TOML or bundle JSON).

    Parameters
    ----------
    data : dict
        Sections ``valence``, ``arousal`` (required), ``analysis``, ``evaluation``,
        ``calibration``, ``augmentation``, ``thresholds``; a top-level ``seed``.

    Returns
    -------
    Config

    Raises
    ------
    ParameterError
        Naming the section and key, for a missing head, an unknown key or feature group, or
        a value of the wrong type or outside what is allowed.
    """
    data = dict(data)
    for axis in AXES:
        if axis not in data:
            raise ParameterError(f"configuration needs an [{axis}] section")
    thresholds = {"valence": 0.0, "arousal": 0.0, **data.pop("thresholds", {})}
    if set(thresholds) != set(AXES):
        raise ParameterError(f"[thresholds] takes only {AXES}, got {sorted(thresholds)}")
    if not all(_has_type(t, float) and -1.0 < t < 1.0 for t in thresholds.values()):
        raise ParameterError(f"[thresholds] must lie inside (-1, 1), got {thresholds}")
    if not _has_type(data.get("seed", 0), int):
        raise ParameterError(f"seed must be an integer, got {data['seed']!r}")
    known = {*AXES, "analysis", "evaluation", "calibration", "augmentation", "seed"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ParameterError(
            f"unknown configuration section(s) {unknown}; allowed: {sorted(known)}"
        )
    return Config(
        valence=_head(data["valence"], "valence"),
        arousal=_head(data["arousal"], "arousal"),
        analysis=_build(AnalysisConfig, data.get("analysis", {}), "analysis"),
        evaluation=_build(EvaluationConfig, data.get("evaluation", {}), "evaluation"),
        calibration=_calibration(data.get("calibration", {})),
        augmentation=_augmentation(data.get("augmentation", {})),
        thresholds={k: float(v) for k, v in thresholds.items()},
        seed=int(data.get("seed", 0)),
    )


def config_to_dict(config: Config) -> dict[str, Any]:
    """``config`` as plain, JSON-ready data (tuples as lists).

    See Also
    --------
    config_from_dict : the inverse.
    """

    def plain(obj: Any) -> Any:
        if isinstance(obj, tuple):
            return list(obj)
        if isinstance(obj, dict):
            return {k: plain(v) for k, v in obj.items()}
        return obj

    return plain(dataclasses.asdict(config))


def read_toml(path: str | Path, what: str = "configuration") -> dict[str, Any]:
    """The parsed TOML file ``path``; ``what`` names the file's kind in messages.

    Raises
    ------
    ParameterError
        When the file is missing or not valid TOML.
    """
    path = Path(path)
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ParameterError(f"{what} file not found: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ParameterError(f"{path}: not valid TOML ({exc})") from None


def load_config(path: str | Path) -> Config:
    """Read a model configuration from a TOML file, or a shipped one by name.

    Parameters
    ----------
    path : str or Path
        A TOML file, or ``default``, ``article``, ``regression``
        (:func:`va_mood.locations.resolve_file`).

    Returns
    -------
    Config
        Validated as by :func:`config_from_dict`.

    Raises
    ------
    ParameterError
        Naming the file, when it is missing, not TOML, or not a valid configuration.
    """
    path = resolve_file(path, "configuration")
    try:
        return config_from_dict(read_toml(path))
    except ParameterError as exc:
        if str(path) in str(exc):
            raise
        raise ParameterError(f"{path}: {exc}") from None


def label_spec_from_dict(data: dict[str, Any]) -> LabelSpec:
    """Build and validate a :class:`LabelSpec` from plain data (e.g. a bundle's JSON).

    Raises
    ------
    ParameterError
        For an unknown key or a value not allowed.
    """
    return _build(LabelSpec, data, "labels")


def load_label_spec(path: str | Path) -> LabelSpec:
    """Read a labels-file description from a TOML file, or a shipped one by name.

    TOML has no null: a column given as ``false`` means the file has no such column.

    Parameters
    ----------
    path : str or Path
        A TOML file, or ``4q``, ``emomusic10``.

    Returns
    -------
    LabelSpec
        Validated, with each column given as ``false`` set to None.

    Raises
    ------
    ParameterError
        Naming the file, when it is missing, not TOML, or not a valid description.
    """
    path = resolve_file(path, "labels format")
    data = {
        k: None if v is False and k.endswith("_column") else v for k, v in read_toml(path).items()
    }
    try:
        return _build(LabelSpec, data, "labels")
    except ParameterError as exc:
        raise ParameterError(f"{path}: {exc}") from None


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        items = ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items() if v is not None)
        return "{ " + items + " }" if items else "{}"
    raise ParameterError(f"cannot write {value!r} ({type(value).__name__}) to TOML")


def config_to_toml(config: Config, header: str = "") -> str:
    """``config`` as TOML text that :func:`load_config` reads back.

    Top-level values first, then one ``[section]`` per table; nested tables (``params``) are
    inline; ``None`` values are left out (TOML has no null; they are the defaults).

    Parameters
    ----------
    config : Config
    header : str
        Text written first, each line as a comment.
    """
    data = config_to_dict(config)
    lines = [f"# {line}" for line in header.splitlines()]
    tables = {k: v for k, v in data.items() if isinstance(v, dict)}
    for key, value in data.items():
        if key not in tables and value is not None:
            lines.append(f"{key} = {_toml_value(value)}")
    for key, table in tables.items():
        lines += ["", f"[{key}]"]
        lines += [f"{k} = {_toml_value(v)}" for k, v in table.items() if v is not None]
    return "\n".join(lines) + "\n"


def extraction_config(config: Config, groups: Sequence[str]) -> Config:
    """``config`` extended so that ``config.groups`` also holds ``groups``: extract once, for all.

    The extra groups are appended to the arousal head's list; the result is only meant for
    extraction (features of a group do not depend on the other groups, so the cache is reused
    whenever the set of groups is unchanged).

    Parameters
    ----------
    config : Config
        Returned as it is when it already has every group.
    groups : sequence of str
        Feature groups also wanted (e.g. every group a search space may try).
    """
    extra = [g for g in dict.fromkeys(groups) if g not in config.groups]
    if not extra:
        return config
    return replace(
        config, arousal=replace(config.arousal, groups=config.arousal.groups + tuple(extra))
    )
