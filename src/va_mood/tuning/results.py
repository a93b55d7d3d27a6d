"""What studies found: best trials, the tuned configuration, summaries, importances, plots."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..config import Config, config_from_dict, config_to_dict
from ..locations import DEFAULT_PREFIX
from ..util.atomic import write_with
from ..vocabulary import AXES
from .studies import open_storage, storage_exists, study_name

if TYPE_CHECKING:
    import optuna

__all__ = [
    "tuned_trials",
    "best_config",
    "tuning_record",
    "study_summaries",
    "param_importances",
    "write_plots",
]


def tuned_trials(storage: str, prefix: str = DEFAULT_PREFIX) -> dict[str, optuna.trial.FrozenTrial]:
    """The best finished trial of each head that has a study ``<prefix>-<head>`` in ``storage``."""
    import optuna

    store = open_storage(storage, create=False)
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


def tuning_record(storage: str, prefix: str = DEFAULT_PREFIX) -> dict[str, Any]:
    """What a model tuned from these studies came from, for its bundle and model card: per
    head the study, its best trial and value, the metric, the finished trials and the search
    space."""
    import optuna

    store = open_storage(storage, create=False)
    record: dict[str, Any] = {"storage": storage, "heads": {}}
    for head, trial in tuned_trials(storage, prefix).items():
        name = study_name(prefix, head)
        study = optuna.load_study(study_name=name, storage=store)
        finished = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
        record["heads"][head] = {
            "study": name,
            "best_trial": trial.number,
            "best_value": trial.value,
            "metric": study.user_attrs.get("metric"),
            "finished_trials": len(study.get_trials(deepcopy=False, states=finished)),
            "search_space": study.user_attrs.get("search_space"),
            "seed": study.user_attrs.get("seed"),
        }
    return record


def study_summaries(storage: str) -> list[dict[str, Any]]:
    """One row per study in ``storage``: trial counts by state, best value, best parameters
    (none for a SQLite file that does not exist, which is not created)."""
    import optuna

    if not storage_exists(storage):
        return []
    store = open_storage(storage, create=False)
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

    study = optuna.load_study(study_name=name, storage=open_storage(storage, create=False))
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
    import matplotlib.pyplot as plt
    import optuna
    from optuna.visualization import matplotlib as oplt

    study = optuna.load_study(study_name=name, storage=open_storage(storage, create=False))
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
