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
    """The best finished trial of each head that has a study ``<prefix>-<head>`` in ``storage``.

    Parameters
    ----------
    storage : str
        An optuna storage URL or a SQLite path; it must exist.
    prefix : str
        The studies' prefix (:func:`~va_mood.tuning.studies.study_name`).

    Returns
    -------
    dict of str to optuna.trial.FrozenTrial
        Keyed by axis; heads without a study or a finished trial are left out.

    Raises
    ------
    ParameterError
        When the storage cannot be opened (or a SQLite file does not exist).
    """
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

    Parameters
    ----------
    config : Config
        The configuration tuned.
    storage, prefix : str
        As for :func:`tuned_trials`.

    Returns
    -------
    Config

    See Also
    --------
    tuned_trials, tuning_record

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
    """What a model tuned from these studies came from, for its bundle and model card.

    Parameters
    ----------
    storage, prefix : str
        As for :func:`tuned_trials`.

    Returns
    -------
    dict
        ``storage`` and, per tuned head under ``heads``: the study, its best trial and value,
        the metric, the number of finished trials, the search space and the seed.
    """
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
    """One row per study in ``storage``: trial counts by state, best value, best parameters.

    Parameters
    ----------
    storage : str
        An optuna storage URL or a SQLite path; a SQLite file that does not exist gives no
        rows (and is not created).

    Returns
    -------
    list of dict
        ``study``, ``metric``, ``n_trials``, a count per trial state (``complete``,
        ``pruned`` ...), ``best_value``, ``best_trial``, ``best_params`` and, with a finished
        trial, ``best_head`` (its head configuration).
    """
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

    Parameters
    ----------
    storage : str
        An optuna storage URL or a SQLite path.
    name : str
        The study.

    Returns
    -------
    dict of str to float
        Importance per trial parameter, summing to 1, computed with the study's seed; empty
        with fewer than two finished trials or no parameter common to all of them.

    References
    ----------
    .. [1] F. Hutter, H. Hoos, K. Leyton-Brown, "An efficient approach for assessing
       hyperparameter importance", ICML 2014.
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

    Parameters
    ----------
    storage, name : str
        As for :func:`param_importances`.
    folder : str or Path
        Where the files go.

    Returns
    -------
    list of Path
        ``<folder>/<name>-optimization_history.png`` and, when there are importances to
        plot (:func:`param_importances`), ``<folder>/<name>-param_importances.png``.
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
