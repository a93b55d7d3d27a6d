"""Hyperparameter studies: one optuna study per head, scored by grouped cross-validation.

Each head (arousal, valence) is tuned on its own axis only, in its own study, over its own
search space (``configs/search_space.toml``, read by :func:`load_search_space`): the estimator
family, the family's parameters and, optionally, which feature groups the head hears.

The objective is the head's figure under the evaluation protocol of :mod:`va_mood.evaluate`
(quadrant-stratified k-fold CV grouped by artist, seeded with the config's seed): **balanced
accuracy** of the side of the axis for a binary head (what the quadrant decision uses, and robust
to the classes' imbalance), **R²** for a regression head. Both are maximised. Every fold reports
the running mean of the fold scores so that a median pruner stops hopeless trials early.

Studies live in any optuna storage (default: the SQLite file ``studies/va_mood.db``); re-running
resumes a study, and several processes or machines on one storage share it.
"""

from __future__ import annotations

import math
import multiprocessing
import signal
import tomllib
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from .config import AXES, Config, HeadConfig, config_from_dict, config_to_dict
from .errors import ParameterError, VaMoodError
from .model import _fit

if TYPE_CHECKING:
    import optuna

__all__ = [
    "DEFAULT_STORAGE",
    "DEFAULT_PREFIX",
    "METRICS",
    "ParamSpec",
    "FamilySpace",
    "HeadSpace",
    "SearchSpace",
    "load_search_space",
    "search_space_from_dict",
    "suggest_head",
    "make_objective",
    "open_study",
    "tune_head",
    "study_name",
    "tuned_trials",
    "best_config",
    "study_summaries",
    "param_importances",
    "write_plots",
    "align_features",
    "config_to_toml",
    "extraction_config",
]

DEFAULT_STORAGE = "sqlite:///studies/va_mood.db"
"""Where studies are kept unless told otherwise: a SQLite file under ``studies/``."""

DEFAULT_PREFIX = "va_mood"
"""Studies are named ``<prefix>-<head>``, e.g. ``va_mood-arousal``."""

METRICS = {"binary": "balanced_accuracy", "regression": "r2"}
"""The objective (maximised) of each head mode."""

PARAM_TYPES = ("float", "int", "categorical")


# ---- search spaces ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ParamSpec:
    """One tuned parameter: a float or int range (optionally log-scaled) or a set of choices.

    ``mode`` limits it to heads of that mode (``"binary"`` or ``"regression"``).
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
        """Ask ``trial`` for a value of this parameter under the name ``key``."""
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
    """An estimator family: its estimator per head mode, scaling, fixed and tuned parameters."""

    name: str
    estimators: dict[str, str]
    scale: bool = False
    fixed: dict[str, Any] = field(default_factory=dict)
    params: tuple[ParamSpec, ...] = ()


@dataclass(frozen=True)
class HeadSpace:
    """What one head's study searches: families, parameters, and feature groups.

    ``groups`` are the candidate feature groups (``None``: the head's configured groups);
    with ``tune_groups`` each is switched on or off per trial, otherwise all are used.
    """

    families: tuple[FamilySpace, ...]
    tune_groups: bool = False
    groups: tuple[str, ...] | None = None


@dataclass(frozen=True)
class SearchSpace:
    """The search space of each head, and how many CV repeats score a trial.

    ``n_repeats`` ``None`` means the configuration's ``evaluation.n_repeats``.
    """

    heads: dict[str, HeadSpace]
    n_repeats: int | None = None


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
    if spec.get("mode") not in (None, "binary", "regression"):
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
    known = {"binary", "regression", "scale", "params"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ParameterError(f"[{where}] unknown key(s) {unknown}; allowed: {sorted(known)}")
    estimators = {m: data[m] for m in ("binary", "regression") if m in data}
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
    """Build and validate a :class:`SearchSpace` from parsed TOML (see ``load_search_space``)."""
    from .features import REGISTRY

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
            bad = [g for g in groups if g not in REGISTRY]
            if bad:
                raise ParameterError(f"[{axis}] unknown feature group(s) {bad}")
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
    """Read search spaces from a TOML file (see ``configs/search_space.toml``).

    Layout: a section per head with ``families = [...]``, ``tune_groups`` and optional candidate
    ``groups``; a sub-table per family with the estimator for each head mode (``binary``,
    ``regression``), ``scale``, and ``params``: a value is fixed, a table
    ``{type = "float" | "int" | "categorical", low, high, log, step, choices, mode}`` is tuned.
    An optional ``[cv]`` section sets ``n_repeats`` per trial.
    """
    path = Path(path)
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ParameterError(f"search-space file not found: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ParameterError(f"{path}: not valid TOML ({exc})") from None
    try:
        return search_space_from_dict(data)
    except ParameterError as exc:
        raise ParameterError(f"{path}: {exc}") from None


# ---- the objective ----------------------------------------------------------------------------


def suggest_head(trial: optuna.Trial, base: HeadConfig, space: HeadSpace) -> HeadConfig:
    """The head configuration ``trial`` proposes: family, parameters, feature groups.

    Trial parameters are named ``family``, ``<family>.<param>`` and ``group.<group>``.
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


def _head_dict(head: HeadConfig) -> dict[str, Any]:
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


def _fold_score(mode: str, truth: np.ndarray, pred: np.ndarray, threshold: float) -> float:
    from sklearn.metrics import balanced_accuracy_score, r2_score

    if mode == "binary":
        return float(balanced_accuracy_score(truth > threshold, pred > threshold))
    return float(r2_score(truth, pred))


def make_objective(
    X: pd.DataFrame,  # noqa: N803
    labels: pd.DataFrame,
    config: Config,
    head: str,
    space: SearchSpace,
    *,
    seed: int,
) -> Callable[[optuna.Trial], float]:
    """The objective of one head's study: its grouped-CV figure on its own axis (maximise).

    Parameters
    ----------
    X : pd.DataFrame [shape=(n_clips, n_features)]
        Named features (extracted once, before the study), same index as ``labels``.
    labels : pd.DataFrame
        From :func:`va_mood.labels.load_labels`: ``quadrant``, ``group``, ``valence``,
        ``arousal``.
    config : Config
        The starting configuration: the head's mode, threshold, evaluation folds.
    head : {"arousal", "valence"}
    space : SearchSpace
    seed : int
        Seeds the CV splits (``seed + repeat``, as :func:`va_mood.evaluate.out_of_fold`) and
        the estimators.

    Returns
    -------
    callable
        ``objective(trial) -> float``: balanced accuracy (binary head) or R² (regression head)
        of pooled out-of-fold predictions, averaged over repeats. Each fold reports the running
        mean of fold scores (step = fold number over all repeats) and may prune the trial.

    Examples
    --------
    >>> import optuna  # doctest: +SKIP
    >>> objective = make_objective(X, labels, config, "arousal", space, seed=0)  # doctest: +SKIP
    >>> objective(optuna.trial.FixedTrial({"family": "xgboost"}))  # doctest: +SKIP
    """
    import optuna
    from sklearn.model_selection import StratifiedGroupKFold

    from .features import columns_for
    from .labels import targets
    from .model import make_estimator

    if head not in AXES:
        raise ParameterError(f"head must be one of {AXES}, got {head!r}")
    if head not in space.heads:
        raise ParameterError(f"the search space has no [{head}] section")
    if not X.index.equals(labels.index):
        raise ParameterError("features and labels must have the same index (one row per clip)")
    base: HeadConfig = getattr(config, head)
    head_space = space.heads[head]
    modes = {"valence": config.valence.mode, "arousal": config.arousal.mode}
    truth = targets(labels, modes)[:, AXES.index(head)]
    threshold = config.thresholds[head]
    n_splits = config.evaluation.n_splits
    if labels["group"].nunique() < n_splits:
        raise ParameterError(
            f"grouped {n_splits}-fold CV needs at least that many groups (artists), the labels "
            f"have {labels['group'].nunique()}"
        )
    n_repeats = space.n_repeats or config.evaluation.n_repeats
    splits = [
        list(
            StratifiedGroupKFold(n_splits, shuffle=True, random_state=seed + r).split(
                X, labels["quadrant"], labels["group"]
            )
        )
        for r in range(n_repeats)
    ]
    target = (truth > threshold).astype(int) if base.mode == "binary" else truth
    high = None
    if head == "valence" and base.by_arousal:
        high = _arousal_sides(X, labels, config, splits, seed=seed)

    def fit_predict(head_config: HeadConfig, values: np.ndarray, train, test) -> np.ndarray:
        """The head's out-of-fold values on [-1, 1], fitted as :class:`MoodModel` fits it."""
        weight = None
        if head_config.weight_floor is not None and base.mode == "binary":
            weight = np.abs(truth) + head_config.weight_floor
        parts = [(train, None)]
        if high is not None:  # valence by arousal: a head per arousal side, mixed
            is_high = high["train"][train]
            parts = [(train[is_high], "p"), (train[~is_high], "1-p")]
        raw = np.zeros(len(test))
        for rows, mix in parts:
            estimator = make_estimator(head_config, seed=seed)
            _fit(estimator, values[rows], target[rows], None if weight is None else weight[rows])
            if base.mode == "binary":
                out = estimator.predict_proba(values[test])[:, 1]
            else:
                out = estimator.predict(values[test])
            p = high["p"][test] if mix else None
            raw += out if mix is None else (p * out if mix == "p" else (1 - p) * out)
        return 2.0 * raw - 1.0 if base.mode == "binary" else np.clip(raw, -1.0, 1.0)

    def objective(trial: optuna.Trial) -> float:
        head_config = suggest_head(trial, base, head_space)
        trial.set_user_attr("head", _head_dict(head_config))
        values = X[columns_for(head_config.groups)].to_numpy()
        fold_scores: list[float] = []
        repeat_scores = []
        for r, folds in enumerate(splits):
            pred = np.empty(len(truth))
            for train, test in folds:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", FutureWarning)
                    if high is not None:
                        high["p"] = high["repeats"][r]
                    pred[test] = fit_predict(head_config, values, train, test)
                fold_scores.append(_fold_score(base.mode, truth[test], pred[test], threshold))
                trial.report(float(np.mean(fold_scores)), step=len(fold_scores) - 1)
                if trial.should_prune():
                    raise optuna.TrialPruned(f"pruned after fold {len(fold_scores)}")
            repeat_scores.append(_fold_score(base.mode, truth, pred, threshold))
        return float(np.mean(repeat_scores))

    return objective


def _arousal_sides(
    X: pd.DataFrame,
    labels: pd.DataFrame,
    config: Config,
    splits: list,
    *,
    seed: int,  # noqa: N803
) -> dict[str, Any]:
    """For tuning a valence head split by arousal: each clip's true arousal side (to train the
    two sides on) and, per repeat, the configured arousal head's out-of-fold probability of
    high arousal (to mix them with), computed once for the whole study."""
    from .features import columns_for
    from .labels import targets
    from .model import make_estimator

    modes = {"valence": config.valence.mode, "arousal": config.arousal.mode}
    truth = targets(labels, modes)[:, 1]
    t = config.thresholds["arousal"]
    values = X[columns_for(config.arousal.groups)].to_numpy()
    weight = None
    if config.arousal.weight_floor is not None and config.arousal.mode == "binary":
        weight = np.abs(truth) + config.arousal.weight_floor
    target = (truth > t).astype(int) if config.arousal.mode == "binary" else truth
    repeats = []
    for folds in splits:
        p = np.empty(len(truth))
        for train, test in folds:
            estimator = make_estimator(config.arousal, seed=seed)
            _fit(estimator, values[train], target[train], None if weight is None else weight[train])
            if config.arousal.mode == "binary":
                p[test] = estimator.predict_proba(values[test])[:, 1]
            else:
                p[test] = (estimator.predict(values[test]) > t).astype(float)
        repeats.append(p)
    return {"train": truth > t, "repeats": repeats, "p": repeats[0]}


# ---- studies ----------------------------------------------------------------------------------


def study_name(prefix: str, head: str) -> str:
    """The study of ``head`` under ``prefix``: ``<prefix>-<head>``."""
    return f"{prefix}-{head}"


def _storage(url: str) -> Any:
    """An optuna storage for ``url``: a plain path means a SQLite file; folders are created."""
    import optuna

    if "://" not in url:
        url = f"sqlite:///{url}"
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///") :]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # wait for a busy file instead of failing: several workers share one SQLite file
        return optuna.storages.RDBStorage(url, engine_kwargs={"connect_args": {"timeout": 60}})
    try:
        return optuna.storages.RDBStorage(url)
    except Exception as exc:  # noqa: BLE001 - a bad URL or an unreachable server: one line
        raise ParameterError(f"cannot open study storage {url!r}: {exc}") from None


def open_study(storage: str, name: str, *, seed: int) -> optuna.Study:
    """Create the study ``name`` in ``storage``, or load it if it exists (to resume it).

    TPE sampler seeded with ``seed``; median pruner (5 startup trials, no pruning on the first
    fold); direction maximise.
    """
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna.create_study(
        storage=_storage(storage),
        study_name=name,
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=1),
        direction="maximize",
        load_if_exists=True,
    )


def _start_params(base: HeadConfig, space: HeadSpace) -> dict[str, Any] | None:
    """Trial parameters that reproduce the configured head, if the search space can express it."""
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


_interrupted = False
_deferred = False
"""True while optuna keeps its own books (creating a trial, storing its result): an interrupt
raised there would leave a trial marked running, so the handler only sets the flag."""


def raise_interrupt(signum: int, frame: Any) -> None:
    """Signal handler (SIGTERM, SIGINT): remember the interrupt and raise KeyboardInterrupt,
    or, while optuna keeps its books (:data:`_deferred`), only remember it.

    The flag is what stops :func:`_optimize` when the interrupt was deferred, or landed inside
    a library's C code (xgboost reading its data, which reports it as its own error, or a
    ctypes callback, which prints it and carries on): the study then stops like any other
    interrupt, keeping the finished trials, after the trial in flight at the latest.
    """
    global _interrupted
    _interrupted = True
    if not _deferred:
        raise KeyboardInterrupt(f"signal {signum}")


def _stop_if_interrupted(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
    """Trial callback: an interrupt that was deferred or swallowed still stops the study."""
    if _interrupted:
        raise KeyboardInterrupt("interrupted")


def _optimize(
    study: optuna.Study,
    objective: Callable,
    n_trials: int | None,
    timeout: float | None,
    callbacks: Sequence[Callable],
) -> None:
    """``study.optimize`` where an interrupt fails only the trial in flight, never leaves one
    marked running, and is re-raised as KeyboardInterrupt whatever a library made of it."""
    global _interrupted, _deferred

    def interruptible(trial: optuna.Trial) -> float:
        global _deferred
        _deferred = False  # inside the objective optuna marks an interrupted trial failed
        try:
            if _interrupted:  # deferred while optuna created this trial
                raise KeyboardInterrupt("interrupted")
            return objective(trial)
        finally:
            _deferred = True

    _interrupted = False  # an interrupt of an earlier run in this process is not this run's
    _deferred = True
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # e.g. enqueued values outside a range
        try:
            study.optimize(
                interruptible,
                n_trials=n_trials,
                timeout=timeout,
                callbacks=[*callbacks, _stop_if_interrupted],
            )
        except Exception:
            if _interrupted:  # the interrupt surfaced as another library's error
                raise KeyboardInterrupt("interrupted") from None
            raise
        finally:
            _deferred = False


def _worker(
    X: pd.DataFrame,  # noqa: N803
    labels: pd.DataFrame,
    config: Config,
    head: str,
    space: SearchSpace,
    storage: str,
    name: str,
    sampler_seed: int,
    n_trials: int | None,
    timeout: float | None,
    callbacks: Sequence[Callable],
) -> None:
    """One worker process: its own sampler (seed + k) on the shared study."""
    import sys

    from threadpoolctl import threadpool_limits

    signal.signal(signal.SIGTERM, raise_interrupt)
    signal.signal(signal.SIGINT, raise_interrupt)
    threadpool_limits(1)
    try:
        study = open_study(storage, name, seed=sampler_seed)
        objective = make_objective(X, labels, config, head, space, seed=config.seed)
        _optimize(study, objective, n_trials, timeout, callbacks)
    except KeyboardInterrupt:
        sys.exit(130)


def tune_head(
    X: pd.DataFrame,  # noqa: N803
    labels: pd.DataFrame,
    config: Config,
    head: str,
    space: SearchSpace,
    *,
    storage: str = DEFAULT_STORAGE,
    prefix: str = DEFAULT_PREFIX,
    n_trials: int | None = 20,
    timeout: float | None = None,
    jobs: int = 1,
    callbacks: Sequence[Callable] = (),
) -> optuna.Study:
    """Run ``n_trials`` more trials of ``head``'s study (created, or resumed if it exists).

    A new study starts with one trial of the configured head (when the search space can express
    it), so the best trial is never worse than the starting point on the study's objective.
    With ``jobs > 1``, that many worker processes share the study, worker ``k`` sampling with
    seed ``config.seed + k`` and running its share of the ``n_trials``; ``timeout`` (seconds)
    bounds each worker. ``callbacks`` are optuna callbacks ``(study, trial)`` (picklable, i.e.
    module-level functions, when ``jobs > 1``).

    Finished trials are committed to ``storage`` as they end: on ``KeyboardInterrupt`` (the
    CLI turns SIGTERM into one) the running trials are marked failed, the workers are stopped
    and the interrupt is re-raised; running the same call again resumes the study.
    """
    name = study_name(prefix, head)
    objective = make_objective(X, labels, config, head, space, seed=config.seed)  # validates
    study = open_study(storage, name, seed=config.seed)
    mode = getattr(config, head).mode
    attrs = study.user_attrs
    if "mode" in attrs and attrs["mode"] != mode:
        raise ParameterError(
            f"study {name!r} tunes a {attrs['mode']} {head} head, the configuration asks for a "
            f"{mode} one; use another --study-name"
        )
    if not study.trials:
        study.set_user_attr("head", head)
        study.set_user_attr("mode", mode)
        study.set_user_attr("metric", METRICS[mode])
        study.set_user_attr("seed", config.seed)
        study.set_user_attr("n_clips", len(labels))
        start = _start_params(getattr(config, head), space.heads[head])
        if start is not None:
            study.enqueue_trial(start, user_attrs={"start": "configured head"})
    if jobs <= 1:
        _optimize(study, objective, n_trials, timeout, callbacks)
        return study
    shares = [None] * jobs
    if n_trials is not None:
        shares = [n_trials // jobs + (k < n_trials % jobs) for k in range(jobs)]
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(
            target=_worker,
            args=(
                X,
                labels,
                config,
                head,
                space,
                storage,
                name,
                config.seed + k,
                share,
                timeout,
                tuple(callbacks),
            ),
            name=f"{name}-worker-{k}",
        )
        for k, share in enumerate(shares)
        if share != 0
    ]
    try:
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    except KeyboardInterrupt:
        for worker in workers:
            if worker.is_alive():
                worker.terminate()  # SIGTERM: the worker fails its running trial and exits
        for worker in workers:
            worker.join()
        raise
    failed = [w.name for w in workers if w.exitcode != 0]
    if failed:
        if any(w.exitcode == 130 for w in workers):
            raise KeyboardInterrupt("a worker was interrupted")
        raise TuningError(f"tuning worker(s) {failed} failed; see the messages above")
    return open_study(storage, name, seed=config.seed)


class TuningError(VaMoodError):
    """A tuning worker process failed."""


# ---- results ----------------------------------------------------------------------------------


def tuned_trials(storage: str, prefix: str = DEFAULT_PREFIX) -> dict[str, optuna.trial.FrozenTrial]:
    """The best finished trial of each head that has a study ``<prefix>-<head>`` in ``storage``."""
    import optuna

    store = _storage(storage)
    names = set(optuna.get_all_study_names(store))
    best = {}
    for head in AXES:
        name = study_name(prefix, head)
        if name not in names:
            continue
        study = optuna.load_study(study_name=name, storage=store)
        try:
            best[head] = study.best_trial
        except ValueError:  # no finished trial yet
            continue
    return best


def best_config(config: Config, storage: str, prefix: str = DEFAULT_PREFIX) -> Config:
    """``config`` with each tuned head replaced by its study's best trial.

    The estimator family, its parameters and the feature groups come from the study; heads
    without a study (or without a finished trial) are left as they are.

    Examples
    --------
    >>> config = load_config("configs/default.toml")  # doctest: +SKIP
    >>> tuned = best_config(config, "sqlite:///studies/va_mood.db")  # doctest: +SKIP
    """
    data = config_to_dict(config)
    for head, trial in tuned_trials(storage, prefix).items():
        data[head] = dict(trial.user_attrs["head"])
    return config_from_dict(data)


def study_summaries(storage: str) -> list[dict[str, Any]]:
    """One row per study in ``storage``: trial counts by state, best value, best parameters."""
    import optuna

    store = _storage(storage)
    rows = []
    for name in sorted(optuna.get_all_study_names(store)):
        study = optuna.load_study(study_name=name, storage=store)
        trials = study.get_trials(deepcopy=False)
        counts = {s.name.lower(): 0 for s in optuna.trial.TrialState}
        for t in trials:
            counts[t.state.name.lower()] += 1
        row: dict[str, Any] = {
            "study": name,
            "metric": study.user_attrs.get("metric", study.direction.name.lower()),
            "n_trials": len(trials),
            **counts,
            "best_value": None,
            "best_trial": None,
            "best_params": {},
        }
        if counts["complete"]:
            best = study.best_trial
            row.update(best_value=best.value, best_trial=best.number, best_params=best.params)
            row["best_head"] = best.user_attrs.get("head")
        rows.append(row)
    return rows


def param_importances(storage: str, name: str) -> dict[str, float]:
    """fANOVA importances of the parameters every finished trial of study ``name`` has.

    Seeded with the study's seed; empty when there are fewer than two finished trials.
    """
    import optuna

    study = optuna.load_study(study_name=name, storage=_storage(storage))
    complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    if len(complete) < 2:
        return {}
    evaluator = optuna.importance.FanovaImportanceEvaluator(seed=study.user_attrs.get("seed", 0))
    try:
        return dict(optuna.importance.get_param_importances(study, evaluator=evaluator))
    except (ValueError, RuntimeError):  # e.g. no parameter common to all trials
        return {}


def write_plots(storage: str, name: str, folder: str | Path) -> list[Path]:
    """Write the optimisation history and parameter importances of study ``name`` as PNG files.

    Returns the files written: ``<folder>/<name>-optimization_history.png`` and, when there
    are importances to plot, ``<folder>/<name>-param_importances.png``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import optuna
    from optuna.visualization import matplotlib as oplt

    from ._atomic import write_with

    study = optuna.load_study(study_name=name, storage=_storage(storage))
    folder = Path(folder)
    written = []
    plots = {"optimization_history": oplt.plot_optimization_history}
    if param_importances(storage, name):
        plots["param_importances"] = oplt.plot_param_importances
    for kind, plot in plots.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # optuna's matplotlib plots are "experimental"
            if kind == "param_importances":
                evaluator = optuna.importance.FanovaImportanceEvaluator(
                    seed=study.user_attrs.get("seed", 0)
                )
                ax = plot(study, evaluator=evaluator)
            else:
                ax = plot(study)
        figure = np.ravel(ax)[0].figure
        figure.set_size_inches(9, 5)
        figure.tight_layout()
        path = folder / f"{name}-{kind}.png"
        write_with(path, lambda tmp, fig=figure: fig.savefig(tmp, format="png", dpi=100))
        plt.close(figure)
        written.append(path)
    return written


# ---- inputs and outputs -----------------------------------------------------------------------


def align_features(
    table: pd.DataFrame, labels: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Join a feature table written by ``va-mood extract`` to labels.

    A row belongs to the label whose id is the file stem of its ``path`` (``audio/123.mp3`` is
    id ``123``). Returns ``(features, labels, problems)`` on a shared index, with one message
    per labelled id without features and for the count of feature rows without labels.
    """
    from .errors import LabelsError

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


def _toml_value(value: Any) -> str:
    import json

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
    """``config`` as TOML text that :func:`va_mood.config.load_config` reads back.

    Top-level values first, then one ``[section]`` per table; nested tables (``params``) are
    inline; ``None`` values are left out (TOML has no null; they are the defaults).
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
    """
    extra = [g for g in dict.fromkeys(groups) if g not in config.groups]
    if not extra:
        return config
    return replace(
        config, arousal=replace(config.arousal, groups=config.arousal.groups + tuple(extra))
    )
