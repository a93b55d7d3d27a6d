"""Evaluate and train: grouped cross-validation on a labelled corpus, model bundles."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..locations import DEFAULT_PREFIX
from .common import (
    EXIT_NOTHING,
    EXIT_OK,
    EXIT_PARTIAL,
    AudioOpt,
    ConfigOpt,
    FeatureTableOpt,
    LabelsOpt,
    LabelsSpecOpt,
    OptionalAudioOpt,
    Outputs,
    StorageOpt,
    StudyNameOpt,
    check_outputs,
    config_or_default,
    corpus_features,
    error,
    fatal_errors,
    label_spec,
    labelled_corpus,
    storage_or_default,
    tuned_config_or_exit,
)
from .options import Work, work_options
from .progress import Step, progress_bar, status

if TYPE_CHECKING:
    from ..config import Config


@contextmanager
def cv_progress(cfg: Config) -> Iterator[Step]:
    """Progress of grouped cross-validation, one step per fold of every repeat."""
    ev = cfg.evaluation
    with progress_bar(ev.n_splits * ev.n_repeats, "cross-validating", unit="folds") as step:
        yield step


@work_options()
def evaluate(
    labels: LabelsOpt,
    audio: AudioOpt,
    config: ConfigOpt = None,
    labels_spec: LabelsSpecOpt = None,
    report: Annotated[Path | None, typer.Option(help="Write the full report here (JSON).")] = None,
    plots: Annotated[
        Path | None,
        typer.Option(
            help="Write figures to this folder: confusion matrix, per-class precision/recall, "
            "and predicted vs true for regression heads."
        ),
    ] = None,
    *,
    work: Work,
) -> None:
    """Repeated k-fold cross-validation grouped by artist: accuracy, macro-F1, confusion, heads."""
    with fatal_errors():
        from ..evaluation.cross_validation import cross_validate, format_report
        from ..util.atomic import write_text

        check_outputs([report], folders=[plots])
        cfg = config_or_default(config)
        features, table, _, failed = labelled_corpus(labels, audio, cfg, labels_spec, work)
        first_repeat: dict[int, Any] = {}
        with cv_progress(cfg) as step:
            result = cross_validate(
                features,
                table,
                cfg,
                on_fold=lambda repeat, fold: step(),
                on_repeat=lambda r, p: first_repeat.setdefault(r, p),
            )
        typer.echo(format_report(result))
        outputs = Outputs()  # the report and the plots: each written if it can be
        if report is not None:
            text = json.dumps(result, indent=2) + "\n"
            outputs.write(lambda: write_text(report, text), f"wrote {report}")
        if plots is not None:
            from ..outputs.plots import plot_evaluation

            def draw() -> None:
                for path in plot_evaluation(result, plots, predicted=first_repeat[0], labels=table):
                    typer.echo(f"wrote {path}", err=True)

            outputs.write(draw)
        outputs.exit(EXIT_PARTIAL if failed else EXIT_OK)


@work_options()
def train(
    labels: LabelsOpt,
    output: Annotated[Path, typer.Option("--output", "-o", help="Model bundle folder to write.")],
    audio: OptionalAudioOpt = None,
    features: FeatureTableOpt = None,
    config: ConfigOpt = None,
    labels_spec: LabelsSpecOpt = None,
    cv: Annotated[
        bool, typer.Option(help="Evaluate by grouped CV first and store the figures in the bundle.")
    ] = True,
    params_from_study: Annotated[
        bool,
        typer.Option(
            "--params-from-study",
            help="Replace each tuned head by its study's best trial (see `va-mood tune`).",
        ),
    ] = False,
    storage: StorageOpt = None,
    study_name: StudyNameOpt = DEFAULT_PREFIX,
    about: Annotated[
        Path | None,
        typer.Option(help="Markdown on the training data (sources, licence) for the model card."),
    ] = None,
    *,
    work: Work,
) -> None:
    """Train a model on a labelled corpus and write it as a bundle (with its model card)."""
    with fatal_errors():
        storage = storage_or_default(storage)
        from ..api import train as train_model
        from ..config import extraction_config
        from ..errors import OutputError
        from ..evaluation.cross_validation import cross_validate, format_report

        # the bundle is made beside its folder and renamed into place: both must be writable
        check_outputs(folders=[output, output.parent if output.is_dir() else None])
        cfg = feature_cfg = config_or_default(config)
        if params_from_study:
            cfg = tuned_config_or_exit(cfg, storage, study_name)
            feature_cfg = extraction_config(feature_cfg, cfg.groups)  # reuse the cached features
        features, table, failed = corpus_features(
            labels, audio, features, feature_cfg, labels_spec, work
        )
        spec = label_spec(labels_spec)
        metrics = {}
        if cv:
            with cv_progress(cfg) as step:
                metrics = cross_validate(features, table, cfg, on_fold=lambda repeat, fold: step())
            typer.echo(format_report(metrics))
        with status(f"training on {len(table)} clips"):
            trained = train_model(features, table, cfg, spec=spec, metrics=metrics)
        if about is not None:
            try:
                trained.about = about.read_text(encoding="utf-8")
            except OSError as exc:
                error(f"{about}: cannot read ({exc.strerror})")
                raise typer.Exit(EXIT_NOTHING) from None
        if params_from_study:
            from ..tuning import tuning_record

            trained.tuning = tuning_record(storage, study_name)
        try:
            trained.save(output)
        except OSError as exc:  # the folder is written whole or not at all
            raise OutputError(f"{output}: cannot write ({exc.strerror or exc})") from None
        typer.echo(f"wrote model bundle {output} ({len(table)} clips)", err=True)
        raise typer.Exit(EXIT_PARTIAL if failed else EXIT_OK)
