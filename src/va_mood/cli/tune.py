"""Tune and inspect studies: one optuna study per head, resumable, exportable."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..locations import DEFAULT_PREFIX
from .common import (
    EXIT_INTERRUPTED,
    EXIT_NOTHING,
    EXIT_OK,
    EXIT_PARTIAL,
    ConfigOpt,
    FeatureTableOpt,
    Format,
    FormatOpt,
    LabelsOpt,
    LabelsSpecOpt,
    OptionalAudioOpt,
    StorageOpt,
    StudyNameOpt,
    check_outputs,
    choice,
    config_or_default,
    corpus_features,
    error,
    fatal_errors,
    storage_or_default,
    tuned_config_or_exit,
)
from .options import Work, work_options

if TYPE_CHECKING:
    import pandas as pd

    from ..config import Config


class TuneHead(StrEnum):
    arousal = "arousal"
    valence = "valence"
    both = "both"


def _trial_line(study: Any, trial: Any) -> None:
    """One line per finished trial, with the best value so far (an optuna callback)."""
    try:
        best = f"best {study.best_value:.4f} (trial {study.best_trial.number})"
    except ValueError:
        best = "no finished trial yet"
    value = "" if trial.value is None else f" {trial.value:.4f}"
    typer.echo(
        f"{study.study_name} trial {trial.number}: {trial.state.name.lower()}{value}; {best}",
        err=True,
    )


@work_options(jobs_default=1, jobs_help="Worker processes (trials and extraction).")
def tune(
    labels: LabelsOpt,
    head: Annotated[
        TuneHead,
        typer.Option(
            parser=choice(TuneHead, TuneHead), help="Which head to tune (one study each)."
        ),
    ] = (TuneHead.both),
    audio: OptionalAudioOpt = None,
    features: FeatureTableOpt = None,
    config: ConfigOpt = None,
    labels_spec: LabelsSpecOpt = None,
    search_space: Annotated[
        str,
        typer.Option(
            help="Search spaces: a shipped one by name (default, xgboost) or a TOML file."
        ),
    ] = "default",
    trials: Annotated[
        int, typer.Option(help="Trials to add to each head's study in this run.")
    ] = 20,
    timeout: Annotated[
        float | None, typer.Option(help="Stop starting trials after this many seconds, per head.")
    ] = None,
    storage: StorageOpt = None,
    study_name: StudyNameOpt = DEFAULT_PREFIX,
    *,
    work: Work,
) -> None:
    """Tune each head in its own optuna study (resumed if it exists) by grouped CV."""
    with fatal_errors():
        storage = storage_or_default(storage)
        from ..config import extraction_config
        from ..tuning import Interrupts, load_search_space

        cfg = config_or_default(config)
        space = load_search_space(search_space)
        heads = ["valence", "arousal"] if head is TuneHead.both else [head.value]
        candidates = [g for h in heads if h in space.heads for g in space.heads[h].groups or ()]
        feature_cfg = extraction_config(cfg, candidates)
        table, labelled, failed = corpus_features(
            labels, audio, features, feature_cfg, labels_spec, work
        )
        interrupts = Interrupts()
        with interrupts.installed():
            for current in heads:
                typer.echo(
                    f"tuning the {current} head: {trials} trial(s), {work.jobs} worker(s), "
                    f"{len(labelled)} clips, storage {storage}",
                    err=True,
                )
                try:
                    _tune_one(table, labelled, cfg, current, space, storage, study_name,
                              trials, timeout, work.jobs, interrupts)  # fmt: skip
                except KeyboardInterrupt:
                    _say_interrupted(current, storage, study_name)
                    raise typer.Exit(EXIT_INTERRUPTED) from None
        raise typer.Exit(EXIT_PARTIAL if failed else EXIT_OK)


def _tune_one(
    table: pd.DataFrame,
    labelled: pd.DataFrame,
    cfg: Config,
    head: str,
    space: Any,
    storage: str,
    prefix: str,
    trials: int,
    timeout: float | None,
    jobs: int,
    interrupts: Any,
) -> None:
    """Run one head's study and print its best trial."""
    from ..tuning import tune_head

    study = tune_head(
        table,
        labelled,
        cfg,
        head,
        space,
        storage=storage,
        prefix=prefix,
        n_trials=trials,
        timeout=timeout,
        jobs=jobs,
        callbacks=(_trial_line,),
        interrupts=interrupts,
    )
    best = study.best_trial
    typer.echo(
        f"{study.study_name}: best {best.value:.4f} (trial {best.number}) {json.dumps(best.params)}"
    )


def _say_interrupted(head: str, storage: str, prefix: str) -> None:
    """One line: which head was interrupted and what each study has stored."""
    from ..tuning import study_summaries

    stored = {r["study"]: r["complete"] + r["pruned"] for r in study_summaries(storage)}
    done = ", ".join(
        f"{n}: {c} finished trial(s)" for n, c in stored.items() if n.startswith(f"{prefix}-")
    )
    error(
        f"interrupted while tuning the {head} head; stored in {storage}: {done}; "
        "run the same command again to resume"
    )


def _best(row: dict[str, Any]) -> str:
    """``<metric> best <value> (trial <n>)`` of a study summary row."""
    best = "-" if row["best_value"] is None else f"{row['best_value']:.4f}"
    return f"{row['metric']} best {best} (trial {row['best_trial']})"


def studies_list(
    storage: StorageOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Every study in the storage: trial counts, best value and best parameters."""
    with fatal_errors():
        storage = storage_or_default(storage)
        from ..tuning import study_summaries

        rows = study_summaries(storage)
        if fmt is Format.json:
            typer.echo(json.dumps(rows, indent=2))
            return
        if not rows:
            typer.echo(f"no studies in {storage}")
            return
        for r in rows:
            typer.echo(
                f"{r['study']}: {r['n_trials']} trials ({r['complete']} complete, "
                f"{r['pruned']} pruned, {r['fail']} failed, {r['running']} running); "
                f"{_best(r)}"
            )
            if r["best_params"]:
                typer.echo(f"  best params {json.dumps(r['best_params'])}")


def studies_show(
    name: Annotated[
        str | None, typer.Argument(help="Study name (default: every study in the storage).")
    ] = None,
    storage: StorageOpt = None,
    plots: Annotated[
        Path | None,
        typer.Option(help="Write optimization_history and param_importances PNGs here."),
    ] = None,
) -> None:
    """A study's best trial, parameter importances and, optionally, plots."""
    with fatal_errors():
        storage = storage_or_default(storage)
        from ..tuning import param_importances, study_summaries, write_plots

        check_outputs(folders=[plots])
        rows = [r for r in study_summaries(storage) if name is None or r["study"] == name]
        if not rows:
            error(f"no study {name!r} in {storage}" if name else f"no studies in {storage}")
            raise typer.Exit(EXIT_NOTHING)
        for r in rows:
            typer.echo(
                f"{r['study']}: {r['complete']} complete / {r['pruned']} pruned / "
                f"{r['fail']} failed trials; {_best(r)}"
            )
            for key, value in r["best_params"].items():
                typer.echo(f"  {key:<32} {value}")
            importances = param_importances(storage, r["study"])
            if importances:
                typer.echo("  parameter importances (fANOVA):")
                for key, value in importances.items():
                    typer.echo(f"  {key:<32} {value:.3f}")
            if plots is not None and r["complete"]:
                for path in write_plots(storage, r["study"], plots):
                    typer.echo(f"wrote {path}", err=True)


def studies_export(
    output: Annotated[Path, typer.Option("--output", "-o", help="Configuration TOML to write.")],
    config: ConfigOpt = None,
    storage: StorageOpt = None,
    study_name: StudyNameOpt = DEFAULT_PREFIX,
) -> None:
    """Write the configuration with each tuned head's best trial as a TOML file."""
    with fatal_errors():
        storage = storage_or_default(storage)
        from ..config import config_to_toml
        from ..util.atomic import write_text

        check_outputs([output])
        tuned = tuned_config_or_exit(config_or_default(config), storage, study_name)
        header = f"Tuned by `va-mood tune`: best trials of {study_name}-<head> in {storage}"
        write_text(output, config_to_toml(tuned, header))
        typer.echo(f"wrote {output}", err=True)
