"""Studies: one optuna study per head, kept in any optuna storage, resumable, shared by workers.

Studies live in any optuna storage (default: the SQLite file ``studies/va_mood.db``);
re-running resumes a study, and several processes or machines on one storage share it.
"""

from __future__ import annotations

import multiprocessing
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..config import Config
from ..errors import ParameterError, VaMoodError
from ..locations import DEFAULT_PREFIX, default_storage
from ..util.threads import one_thread
from .interrupts import Interrupts
from .objective import METRICS, make_objective
from .space import SearchSpace, start_params

if TYPE_CHECKING:
    import optuna

__all__ = [
    "storage_exists",
    "DEFAULT_PREFIX",
    "TuningError",
    "study_name",
    "open_storage",
    "open_study",
    "tune_head",
]

STORAGE_ATTEMPTS = 5
"""How often opening a storage is tried when another process is creating its tables."""


class TuningError(VaMoodError):
    """A tuning worker process failed (its own message is printed above the error)."""


def study_name(prefix: str, head: str) -> str:
    """The name of ``head``'s study under ``prefix``.

    Parameters
    ----------
    prefix : str
        E.g. :data:`DEFAULT_PREFIX`.
    head : {"valence", "arousal"}

    Returns
    -------
    str
        ``<prefix>-<head>``.

    Examples
    --------
    >>> study_name("va_mood", "arousal")
    'va_mood-arousal'
    """
    return f"{prefix}-{head}"


def _sqlite_path(url: str) -> Path | None:
    """The file of a SQLite storage URL (a plain path is one too), else None."""
    if "://" not in url:
        return Path(url)
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///") :]
        return Path(path) if path and path != ":memory:" else None
    return None


def open_storage(url: str, *, create: bool = True) -> Any:
    """Open an optuna storage.

    A SQLite file waits for a busy lock rather than failing, as several workers share it.

    Parameters
    ----------
    url : str
        An optuna storage URL; a plain path means a SQLite file (its folders are created).
    create : bool
        False: a SQLite file that does not exist is an error rather than a new, empty file
        (for commands that only read studies).

    Returns
    -------
    optuna.storages.RDBStorage

    Raises
    ------
    ParameterError
        For a missing SQLite file (``create=False``), a bad URL or an unreachable server.
    """

    if "://" not in url:
        url = f"sqlite:///{url}"
    path = _sqlite_path(url)
    if path is not None and not create and not path.is_file():
        raise ParameterError(f"no study storage at {path} (run `va-mood tune` first)")
    if url.startswith("sqlite:///"):
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        # wait for a busy file instead of failing: several workers share one SQLite file
        return _rdb_storage(url, engine_kwargs={"connect_args": {"timeout": 60}})
    try:
        return _rdb_storage(url)
    except Exception as exc:  # noqa: BLE001 - a bad URL or an unreachable server: one line
        raise ParameterError(f"cannot open study storage {url!r}: {exc}") from None


def _rdb_storage(url: str, **options: Any) -> Any:
    """optuna's RDBStorage, tried again when another process was creating the same database's
    tables at the same moment (both insert its schema version; one of them fails)."""
    import optuna
    from sqlalchemy.exc import IntegrityError

    for attempt in range(STORAGE_ATTEMPTS):
        try:
            return optuna.storages.RDBStorage(url, **options)
        except IntegrityError:
            if attempt == STORAGE_ATTEMPTS - 1:
                raise
            time.sleep(0.2 * (attempt + 1))
    raise ParameterError(f"cannot open study storage {url!r}")  # not reached


def storage_exists(url: str) -> bool:
    """Whether a storage may hold studies: False only for a SQLite file that does not exist.

    Parameters
    ----------
    url : str
        An optuna storage URL or a plain path (a SQLite file).

    Returns
    -------
    bool
    """
    path = _sqlite_path(url)
    return path is None or path.is_file()


def open_study(storage: str, name: str, *, seed: int) -> optuna.Study:
    """Create the study ``name`` in ``storage``, or load it if it exists (to resume it).

    The study maximises, samples with the tree-structured Parzen estimator (TPE) seeded with
    ``seed`` and prunes a trial whose running fold figure falls below the median of earlier
    trials at the same fold (after 5 startup trials, never on the first fold).

    Parameters
    ----------
    storage : str
        An optuna storage URL or a plain path (:func:`open_storage`).
    name : str
        The study (:func:`study_name`).
    seed : int
        The sampler's seed.

    Returns
    -------
    optuna.Study

    References
    ----------
    .. [1] J. Bergstra, R. Bardenet, Y. Bengio, B. Kégl, "Algorithms for hyper-parameter
       optimization", NeurIPS 2011.
    .. [2] T. Akiba, S. Sano, T. Yanase, T. Ohta, M. Koyama, "Optuna: a next-generation
       hyperparameter optimization framework", KDD 2019.
    """
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna.create_study(
        storage=open_storage(storage),
        study_name=name,
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=1),
        direction="maximize",
        load_if_exists=True,
    )


@dataclass(frozen=True)
class _Run:
    """What every worker of one head's study needs (sent whole to spawned workers)."""

    X: pd.DataFrame
    labels: pd.DataFrame
    config: Config
    head: str
    space: SearchSpace
    storage: str
    name: str
    timeout: float | None
    callbacks: tuple[Callable, ...]

    def optimize(self, study: optuna.Study, n_trials: int | None, interrupts: Interrupts) -> None:
        objective = make_objective(
            self.X,
            self.labels,
            self.config,
            self.head,
            self.space,
            seed=self.config.seed,
            checkpoint=interrupts.checkpoint,
        )
        interrupts.optimize(study, objective, n_trials, self.timeout, self.callbacks)


def _worker(run: _Run, sampler_seed: int, n_trials: int | None) -> None:
    """One worker process: its own sampler (seed + k) on the shared study."""
    interrupts = Interrupts()
    with interrupts.installed(), one_thread():
        try:
            run.optimize(open_study(run.storage, run.name, seed=sampler_seed), n_trials, interrupts)
        except KeyboardInterrupt:
            sys.exit(130)


def _prepare(study: optuna.Study, run: _Run) -> None:
    """Check that ``study`` tunes this head's mode; give a new one its attributes and a first
    trial of the configured head (when the search space can express it)."""
    mode = run.config.head(run.head).mode
    attrs = study.user_attrs
    if "mode" in attrs and attrs["mode"] != mode:
        raise ParameterError(
            f"study {run.name!r} tunes a {attrs['mode']} {run.head} head, the configuration "
            f"asks for a {mode} one; use another --study-name"
        )
    if study.trials:
        return
    for key, value in {
        "head": run.head,
        "mode": mode,
        "metric": METRICS[mode],
        "seed": run.config.seed,
        "n_clips": len(run.labels),
        "search_space": run.space.source,
    }.items():
        study.set_user_attr(key, value)
    start = start_params(run.config.head(run.head), run.space.heads[run.head])
    if start is not None:
        study.enqueue_trial(start, user_attrs={"start": "configured head"})


def _run_waiting(
    study: optuna.Study, run: _Run, n_trials: int | None, interrupts: Interrupts
) -> int | None:
    """Run the study's waiting (enqueued) trials in this process, before any worker starts:
    with SQLite, two workers can both take one waiting trial. Returns the trials left."""
    import optuna

    waiting = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.WAITING,))
    first = len(waiting) if n_trials is None else min(len(waiting), n_trials)
    if first:
        run.optimize(study, first, interrupts)
    return None if n_trials is None else n_trials - first


def _run_workers(run: _Run, jobs: int, n_trials: int | None) -> None:
    """``jobs`` spawned worker processes sharing the study, worker ``k`` sampling with seed
    ``config.seed + k``; on KeyboardInterrupt each is stopped (failing its running trial)."""
    shares = [None] * jobs
    if n_trials is not None:
        shares = [n_trials // jobs + (k < n_trials % jobs) for k in range(jobs)]
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(
            target=_worker,
            args=(run, run.config.seed + k, share),
            name=f"{run.name}-worker-{k}",
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
    if any(w.exitcode == 130 for w in workers):
        raise KeyboardInterrupt("a worker was interrupted")
    if failed:
        raise TuningError(f"tuning worker(s) {failed} failed; see the messages above")


def tune_head(
    X: pd.DataFrame,  # noqa: N803
    labels: pd.DataFrame,
    config: Config,
    head: str,
    space: SearchSpace,
    *,
    storage: str | None = None,
    prefix: str = DEFAULT_PREFIX,
    n_trials: int | None = 20,
    timeout: float | None = None,
    jobs: int = 1,
    callbacks: Sequence[Callable] = (),
    interrupts: Interrupts | None = None,
) -> optuna.Study:
    """Run ``n_trials`` more trials of ``head``'s study (created, or resumed if it exists).

    A new study starts with one trial of the configured head (when the search space can express
    it), so the best trial is never worse than the starting point on the study's objective.
    Finished trials are committed to the storage as they end: on ``KeyboardInterrupt`` (with
    ``interrupts`` installed, SIGTERM too) the running trials are marked failed, the workers
    are stopped and the interrupt is re-raised; running the same call again resumes the study.

    Parameters
    ----------
    X : pd.DataFrame [shape=(n_clips, n_features)]
        Named features, same index as ``labels``.
    labels : pd.DataFrame
        From :func:`va_mood.labels.files.load_labels`.
    config : Config
        The starting configuration; ``config.seed`` seeds the splits, estimators and sampler.
    head : {"valence", "arousal"}
    space : SearchSpace
    storage : str, optional
        An optuna storage URL (default: :func:`va_mood.locations.default_storage`).
    prefix : str
        Studies are named ``<prefix>-<head>`` (:func:`study_name`).
    n_trials : int or None
        Trials to add (None: until ``timeout``).
    timeout : float or None
        Seconds after which a worker starts no new trial.
    jobs : int
        Worker processes sharing the study; worker ``k`` samples with seed
        ``config.seed + k`` and runs its share of the ``n_trials``.
    callbacks : sequence of callable
        optuna callbacks ``(study, trial)`` (picklable, i.e. module-level functions, when
        ``jobs > 1``).
    interrupts : Interrupts, optional
        The installed signal handling of the caller (one process only).

    Returns
    -------
    optuna.Study

    Raises
    ------
    ParameterError
        For inputs no trial could run on, or a study of the other head mode.
    TuningError
        When a worker process fails.
    KeyboardInterrupt
        When interrupted, after the running trials are marked failed.
    """
    name = study_name(prefix, head)
    make_objective(X, labels, config, head, space, seed=config.seed)  # validates the inputs
    storage = storage or default_storage()
    run = _Run(X, labels, config, head, space, storage, name, timeout, tuple(callbacks))
    study = open_study(storage, name, seed=config.seed)
    _prepare(study, run)
    interrupts = interrupts or Interrupts()
    if jobs > 1:
        n_trials = _run_waiting(study, run, n_trials, interrupts)
    if jobs <= 1:
        run.optimize(study, n_trials, interrupts)
        return study
    if n_trials != 0:
        _run_workers(run, jobs, n_trials)
    return open_study(storage, name, seed=config.seed)
