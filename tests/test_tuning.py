"""Hyperparameter studies on a tiny synthetic corpus: real optuna studies on SQLite (and on a
PostgreSQL server when one is available), resume, concurrent workers, seeding, pruning, the CLI.

The corpus needs no audio: a feature table with a learnable signal (arousal follows the RMS
columns, valence the chroma columns) and labels with quadrants, continuous V-A and artists.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pytest
from typer.testing import CliRunner

from va_mood.cli import app
from va_mood.config import config_from_dict, config_to_toml, load_config
from va_mood.errors import ParameterError
from va_mood.extraction.table import write_feature_table
from va_mood.features.registry import columns_for
from va_mood.tuning import (
    Interrupts,
    best_config,
    load_search_space,
    make_objective,
    search_space_from_dict,
    study_summaries,
    tune_head,
    tuned_trials,
)

REPO = Path(__file__).resolve().parents[1]
GROUPS = ["arousal.rms", "valence.chroma"]
N_ARTISTS, CLIPS_PER_ARTIST = 16, 5

SPACE = {
    "cv": {"n_repeats": 1},
    **{
        head: {
            "families": ["xgboost", "linear"],
            "tune_groups": True,
            "xgboost": {
                "binary": "xgboost",
                "regression": "xgboost",
                "params": {
                    "n_estimators": {"type": "int", "low": 5, "high": 20, "step": 5},
                    "max_depth": {"type": "int", "low": 1, "high": 3},
                    "learning_rate": {"type": "float", "low": 0.05, "high": 0.5, "log": True},
                },
            },
            "linear": {
                "binary": "sklearn.linear_model.LogisticRegression",
                "regression": "sklearn.linear_model.Ridge",
                "scale": True,
                "params": {
                    "max_iter": 1000,
                    "C": {
                        "type": "float",
                        "low": 1e-3,
                        "high": 10.0,
                        "log": True,
                        "mode": "binary",
                    },
                    "alpha": {"type": "float", "low": 0.1, "high": 100.0, "mode": "regression"},
                },
            },
        }
        for head in ("arousal", "valence")
    },
}


def _config(mode: str = "binary") -> dict:
    head = {
        "mode": mode,
        "groups": GROUPS,
        "estimator": "xgboost",
        "params": {"n_estimators": 10, "max_depth": 2},
    }
    return {
        "seed": 7,
        "arousal": dict(head),
        "valence": dict(head),
        "evaluation": {"n_splits": 3, "n_repeats": 1},
    }


@pytest.fixture(scope="module")
def corpus() -> tuple[pd.DataFrame, pd.DataFrame]:
    """80 clips of 16 artists: features with signal on each head's own group, and labels."""
    rng = np.random.default_rng(0)
    n = N_ARTISTS * CLIPS_PER_ARTIST
    ids = [f"{1000 + i}" for i in range(n)]
    valence = np.clip(rng.uniform(-0.9, 0.9, n), -1, 1)
    arousal = np.clip(rng.uniform(-0.9, 0.9, n), -1, 1)
    quadrant = np.where(
        arousal > 0, np.where(valence > 0, "Q1", "Q2"), np.where(valence > 0, "Q4", "Q3")
    )
    labels = pd.DataFrame(
        {
            "valence": valence,
            "arousal": arousal,
            "quadrant": quadrant,
            "group": [f"artist{i % N_ARTISTS}" for i in range(n)],
        },
        index=pd.Index(ids, name="id"),
    )
    columns = columns_for(GROUPS)
    values = rng.normal(size=(n, len(columns)))
    rms = [c for c in columns if c.startswith("arousal.rms")]
    chroma = [c for c in columns if c.startswith("valence.chroma_C")]
    features = pd.DataFrame(values, index=labels.index, columns=columns)
    features[rms] += 2.0 * arousal[:, None]
    features[chroma] += 2.0 * valence[:, None]
    return features, labels


@pytest.fixture(scope="module")
def config():
    return config_from_dict(_config())


@pytest.fixture(scope="module")
def space():
    return search_space_from_dict(SPACE)


def _finished(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    states = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    return study.get_trials(deepcopy=False, states=states)


# ---- search spaces and the objective ----------------------------------------------------------


@pytest.mark.parametrize("head", ["valence", "arousal"])
@pytest.mark.parametrize("by_arousal", [False, True])
def test_a_trial_of_the_configured_head_scores_what_evaluate_reports(
    corpus, space, head, by_arousal
):
    # the objective fits the real MoodModel on evaluate's own folds: the configured head,
    # proposed as a trial, scores exactly evaluate's figure for that configuration
    from va_mood.evaluation.cross_validation import cross_validate
    from va_mood.tuning.space import start_params

    features, labels = corpus
    data = _config()
    for axis in ("valence", "arousal"):  # every tuned parameter set, as the space names them
        data[axis]["params"] = {"n_estimators": 10, "max_depth": 2, "learning_rate": 0.1}
    data["valence"]["by_arousal"] = by_arousal
    data["valence"]["weight_floor"] = 0.25
    config = config_from_dict(data)
    objective = make_objective(features, labels, config, head, space, seed=config.seed)
    params = start_params(config.head(head), space.heads[head])
    value = objective(optuna.trial.FixedTrial(params))
    report = cross_validate(features, labels, config)
    assert value == pytest.approx(report["summary"][f"{head}_balanced_accuracy"]["mean"], abs=1e-12)
    assert 0.6 < value < 1.0  # the synthetic signal is learnt, not perfectly


def test_shipped_search_space_loads():
    space = load_search_space(REPO / "configs" / "search_space_default.toml")
    assert {f.name for f in space.heads["arousal"].families} >= {"xgboost", "svm", "linear"}
    svm = next(f for f in space.heads["valence"].families if f.name == "svm")
    assert svm.scale and svm.estimators == {
        "binary": "sklearn.svm.SVC",
        "regression": "sklearn.svm.SVR",
    }


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"families": []}, "needs families"),
        ({"families": ["nope"]}, "without an"),
        ({"groups": ["no.such"]}, "unknown feature group"),
    ],
)
def test_bad_search_space_is_refused(change, match):
    data = {"arousal": {**SPACE["arousal"], **change}}
    with pytest.raises(ParameterError, match=match):
        search_space_from_dict(data)


def test_bad_param_spec_is_refused():
    data = {
        "arousal": {
            "families": ["x"],
            "x": {"binary": "xgboost", "params": {"a": {"type": "float", "low": 2, "high": 1}}},
        }
    }
    with pytest.raises(ParameterError, match="low < high"):
        search_space_from_dict(data)


def test_objective_with_fixed_trial(corpus, config, space):
    features, labels = corpus
    objective = make_objective(features, labels, config, "arousal", space, seed=0)
    good = optuna.trial.FixedTrial(
        {
            "family": "linear",
            "linear.C": 1.0,
            "group.arousal.rms": True,
            "group.valence.chroma": False,
        }
    )
    noise = optuna.trial.FixedTrial(
        {
            "family": "linear",
            "linear.C": 1.0,
            "group.arousal.rms": False,
            "group.valence.chroma": True,
        }
    )
    good_score, noise_score = objective(good), objective(noise)
    assert 0.85 < good_score <= 1.0  # balanced accuracy of the arousal side
    assert noise_score < 0.7
    assert good.user_attrs["head"]["estimator"] == "sklearn.linear_model.LogisticRegression"
    assert good.user_attrs["head"]["groups"] == ["arousal.rms"]


def test_regression_objective_is_r2(corpus, space):
    features, labels = corpus
    config = config_from_dict(_config("regression"))
    objective = make_objective(features, labels, config, "valence", space, seed=0)
    trial = optuna.trial.FixedTrial(
        {
            "family": "linear",
            "linear.alpha": 1.0,
            "group.arousal.rms": False,
            "group.valence.chroma": True,
        }
    )
    assert 0.5 < objective(trial) <= 1.0


def test_valence_objective_fits_as_the_model_does(corpus, space):
    """A valence head split by arousal, with label-size weights, is tuned as it will be fitted,
    and the study's head keeps those settings for export."""
    features, labels = corpus
    data = _config()
    data["valence"] = {**data["valence"], "by_arousal": True, "weight_floor": 0.25}
    config = config_from_dict(data)
    objective = make_objective(features, labels, config, "valence", space, seed=0)
    trial = optuna.trial.FixedTrial(
        {
            "family": "linear",
            "linear.C": 1.0,
            "group.arousal.rms": False,
            "group.valence.chroma": True,
        }
    )
    assert 0.7 < objective(trial) <= 1.0
    head = trial.user_attrs["head"]
    assert head["by_arousal"] is True
    assert head["weight_floor"] == 0.25


def test_no_group_switched_on_prunes(corpus, config, space):
    features, labels = corpus
    objective = make_objective(features, labels, config, "valence", space, seed=0)
    trial = optuna.trial.FixedTrial(
        {
            "family": "linear",
            "linear.C": 1.0,
            "group.arousal.rms": False,
            "group.valence.chroma": False,
        }
    )
    with pytest.raises(optuna.TrialPruned, match="no feature group"):
        objective(trial)


# ---- real studies on SQLite -------------------------------------------------------------------


def test_study_resumes_and_adds_trials(tmp_path, corpus, config, space):
    features, labels = corpus
    storage = f"sqlite:///{tmp_path}/studies/t.db"
    study = tune_head(features, labels, config, "arousal", space, storage=storage, n_trials=3)
    assert len(_finished(study)) == 3
    assert study.trials[0].user_attrs["start"] == "configured head"  # the configured head first
    assert study.user_attrs["metric"] == "balanced_accuracy"
    study = tune_head(features, labels, config, "arousal", space, storage=storage, n_trials=2)
    numbers = [t.number for t in _finished(study)]
    assert sorted(numbers) == list(range(5))
    assert study.best_value > 0.85


def test_two_worker_processes_share_one_study(tmp_path, corpus, config, space):
    features, labels = corpus
    storage = f"sqlite:///{tmp_path}/shared.db"
    study = tune_head(
        features, labels, config, "valence", space, storage=storage, n_trials=7, jobs=2
    )
    trials = study.get_trials(deepcopy=False)
    assert len(trials) == 7
    assert len(_finished(study)) == 7  # none lost, failed or left running
    assert sorted(t.number for t in trials) == list(range(7))  # none duplicated
    params = [tuple(sorted(t.params.items())) for t in trials]
    assert len(set(params)) == 7  # worker k samples with seed + k: no identical proposals


def test_same_seed_gives_same_trials(tmp_path, corpus, config, space):
    features, labels = corpus

    def run(name: str) -> list[dict]:
        storage = f"sqlite:///{tmp_path}/{name}.db"
        study = tune_head(features, labels, config, "arousal", space, storage=storage, n_trials=4)
        return [t.params for t in study.trials]

    assert run("a") == run("b")


def test_folds_report_and_prune(tmp_path, corpus, config, space):
    features, labels = corpus
    storage = f"sqlite:///{tmp_path}/prune.db"
    study = tune_head(features, labels, config, "arousal", space, storage=storage, n_trials=6)
    # a hopeless trial: the arousal head hearing only the valence group, barely regularised
    study.enqueue_trial(
        {
            "family": "linear",
            "linear.C": 1e-3,
            "group.arousal.rms": False,
            "group.valence.chroma": True,
        }
    )
    study = tune_head(features, labels, config, "arousal", space, storage=storage, n_trials=1)
    last = study.trials[-1]
    assert last.state == optuna.trial.TrialState.PRUNED
    assert list(last.intermediate_values) == [0, 1]  # fold 0 never prunes (warm-up), fold 1 did
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert all(list(t.intermediate_values) == [0, 1, 2] for t in complete)


def test_best_config_and_toml_round_trip(tmp_path, corpus, config, space):
    features, labels = corpus
    storage = f"sqlite:///{tmp_path}/best.db"
    tune_head(features, labels, config, "valence", space, storage=storage, n_trials=4)
    tuned = best_config(config, storage)
    best = tuned_trials(storage)["valence"]
    assert list(tuned.valence.groups) == best.user_attrs["head"]["groups"]
    assert tuned.arousal == config.arousal  # no study: unchanged
    path = tmp_path / "tuned.toml"
    path.write_text(config_to_toml(tuned, "header"))
    assert load_config(path) == tuned


# ---- the command line -------------------------------------------------------------------------


@pytest.fixture()
def files(tmp_path, corpus, config):
    """A labels CSV (4Q layout, 1-9 scale), a features Parquet, a config and a search space."""
    features, labels = corpus
    csv = tmp_path / "labels.csv"
    pd.DataFrame(
        {
            "song_id": labels.index,
            "quadrant": labels["quadrant"],
            "valence": labels["valence"] * 4 + 5,
            "arousal": labels["arousal"] * 4 + 5,
            "artist": labels["group"],
        }
    ).to_csv(csv, index=False)
    parquet = tmp_path / "features.parquet"
    table = features.set_axis(pd.Index([f"audio/{i}.mp3" for i in labels.index], name="path"))
    write_feature_table(table, parquet, config=config.analysis, groups=tuple(GROUPS))
    cfg = tmp_path / "config.toml"
    cfg.write_text(config_to_toml(config))
    space_toml = tmp_path / "space.toml"
    space_toml.write_text(_space_toml())
    return {"labels": csv, "features": parquet, "config": cfg, "space": space_toml}


def _space_toml() -> str:
    lines = []
    for head in ("arousal", "valence"):
        lines += [
            f"[{head}]",
            'families = ["xgboost", "linear"]',
            "tune_groups = true",
            f"[{head}.xgboost]",
            'binary = "xgboost"',
            'params.n_estimators = { type = "int", low = 5, high = 20, step = 5 }',
            'params.max_depth = { type = "int", low = 1, high = 3 }',
            f"[{head}.linear]",
            'binary = "sklearn.linear_model.LogisticRegression"',
            "scale = true",
            'params.C = { type = "float", low = 0.001, high = 10.0, log = true }',
        ]
    return "\n".join(lines) + "\n"


def _tune_args(files, storage: str, *extra: str) -> list[str]:
    return [
        "tune",
        "--labels", str(files["labels"]),
        "--features", str(files["features"]),
        "--config", str(files["config"]),
        "--search-space", str(files["space"]),
        "--storage", storage,
        *extra,
    ]  # fmt: skip


def test_cli_tune_studies_and_export(tmp_path, files):
    runner = CliRunner()
    storage = f"sqlite:///{tmp_path}/cli.db"
    result = runner.invoke(app, _tune_args(files, storage, "--head", "both", "--trials", "3"))
    assert result.exit_code == 0, result.output
    assert "va_mood-arousal trial 2: complete" in result.output  # a line per trial
    assert "best" in result.output

    result = runner.invoke(app, ["studies", "list", "--storage", storage])
    assert result.exit_code == 0, result.output
    assert "va_mood-arousal: 3 trials" in result.output
    assert "va_mood-valence: 3 trials" in result.output

    plots = tmp_path / "plots"
    result = runner.invoke(
        app, ["studies", "show", "va_mood-valence", "--storage", storage, "--plots", str(plots)]
    )
    assert result.exit_code == 0, result.output
    history = plots / "va_mood-valence-optimization_history.png"
    assert history.stat().st_size > 1000
    assert history.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    out = tmp_path / "tuned.toml"
    result = runner.invoke(
        app,
        ["studies", "export", "--output", str(out), "--config", str(files["config"]),
         "--storage", storage],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    tuned = load_config(out)
    assert tuned == best_config(load_config(files["config"]), storage)


def test_cli_needs_one_input(files, tmp_path):
    result = CliRunner().invoke(app, ["tune", "--labels", str(files["labels"])])
    assert result.exit_code == 2
    assert "either --audio DIR or --features PARQUET" in result.output


def test_swallowed_interrupt_still_stops_the_study():
    # a SIGTERM that lands in an xgboost ctypes callback is printed and swallowed there; the
    # handler's flag is all that is left of it, and it must stop the study after that trial
    interrupts = Interrupts()
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))

    def objective(trial: optuna.Trial) -> float:
        interrupts.received = True  # as the handler does, no raise
        return trial.suggest_float("x", 0.0, 1.0)

    with pytest.raises(KeyboardInterrupt, match="interrupted"):
        interrupts.optimize(study, objective, n_trials=20, timeout=None)
    assert [t.state for t in study.trials] == [optuna.trial.TrialState.COMPLETE]
    # the flag left over from that run does not stop the next one in the same process
    interrupts.optimize(study, lambda t: t.suggest_float("x", 0.0, 1.0), 3, None)
    assert len(study.trials) == 4


def test_interrupt_is_deferred_while_optuna_keeps_its_books():
    # raised while optuna creates or stores a trial, it would leave the trial marked running
    interrupts = Interrupts()
    interrupts.deferred = True
    interrupts.handle(signal.SIGTERM, None)  # no raise: only remembered
    assert interrupts.received
    interrupts.deferred = False
    with pytest.raises(KeyboardInterrupt, match="signal"):
        interrupts.handle(signal.SIGTERM, None)


def test_interrupt_handlers_are_put_back():
    before = signal.getsignal(signal.SIGTERM)
    interrupts = Interrupts()
    with interrupts.installed():
        assert signal.getsignal(signal.SIGTERM) == interrupts.handle
    assert signal.getsignal(signal.SIGTERM) == before


def test_cli_sigterm_keeps_finished_trials_and_resumes(tmp_path, files):
    storage = f"sqlite:///{tmp_path}/term.db"
    args = _tune_args(files, storage, "--head", "arousal", "--trials", "500")
    process = subprocess.Popen(
        [sys.executable, "-m", "va_mood.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 150
    finished = 0
    while finished < 3 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.5)
        try:
            rows = study_summaries(storage)
        except Exception:  # noqa: BLE001 - the database may not hold its tables yet
            continue
        finished = sum(r["complete"] + r["pruned"] for r in rows)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert finished >= 3, stderr
    assert process.returncode == 130, stderr
    assert "interrupted" in stderr and "run the same command again to resume" in stderr
    (row,) = study_summaries(storage)
    assert row["running"] == 0  # the trial in flight was marked failed, not left running
    kept = row["complete"] + row["pruned"]
    assert kept >= finished

    result = CliRunner().invoke(
        app, _tune_args(files, storage, "--head", "arousal", "--trials", "2")
    )
    assert result.exit_code == 0, result.output
    (row,) = study_summaries(storage)
    assert row["complete"] + row["pruned"] == kept + 2


# ---- PostgreSQL -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def postgres_url() -> str:
    url = os.environ.get("VA_MOOD_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("VA_MOOD_TEST_POSTGRES_URL is not set (.ci/run starts a PostgreSQL server)")
    try:
        import sqlalchemy

        engine = sqlalchemy.create_engine(url)
        with engine.connect():
            pass
        engine.dispose()
    except Exception as exc:  # noqa: BLE001 - any failure to connect means: no server here
        reason = str(exc).strip().splitlines()[0]
        pytest.skip(f"no PostgreSQL server reachable at {url}: {type(exc).__name__}: {reason}")
    return url


def test_postgres_workers_share_and_resume(postgres_url, corpus, config, space):
    features, labels = corpus
    prefix = f"test-{uuid.uuid4().hex[:8]}"
    try:
        study = tune_head(
            features, labels, config, "arousal", space,
            storage=postgres_url, prefix=prefix, n_trials=6, jobs=2,
        )  # fmt: skip
        assert sorted(t.number for t in study.trials) == list(range(6))
        assert len(_finished(study)) == 6
        study = tune_head(
            features, labels, config, "arousal", space,
            storage=postgres_url, prefix=prefix, n_trials=2,
        )  # fmt: skip
        assert len(_finished(study)) == 8
        assert best_config(config, postgres_url, prefix).arousal.groups
    finally:
        for name in optuna.get_all_study_names(postgres_url):
            if name.startswith(prefix):
                optuna.delete_study(study_name=name, storage=postgres_url)


def test_opening_a_storage_another_process_is_creating_is_tried_again(tmp_path, monkeypatch):
    """Two processes creating one SQLite file's tables at once: one of them fails to insert the
    schema version (sqlalchemy IntegrityError) and must simply open it again."""
    import optuna
    from sqlalchemy.exc import IntegrityError

    from va_mood.tuning.studies import open_storage

    real = optuna.storages.RDBStorage
    calls = []

    def racing(url, **options):
        calls.append(url)
        if len(calls) == 1:
            raise IntegrityError("INSERT INTO alembic_version", {}, Exception("UNIQUE"))
        return real(url, **options)

    monkeypatch.setattr(optuna.storages, "RDBStorage", racing)
    storage = open_storage(f"sqlite:///{tmp_path}/race.db")
    assert len(calls) == 2 and storage.get_all_studies() == []
