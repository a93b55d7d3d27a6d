"""The ``va-mood`` command line: parse, call the library, print. Nothing else lives here.

Exit codes: 0 every input succeeded; 1 some inputs failed (the good results are still
written, each failure is printed on one line); 2 the command line itself is wrong;
3 nothing could be done.
"""

from __future__ import annotations

import io
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    import pandas as pd

    from .config import Config

__all__ = ["app", "EXIT_OK", "EXIT_PARTIAL", "EXIT_NOTHING"]

EXIT_OK, EXIT_PARTIAL, EXIT_NOTHING = 0, 1, 3

app = typer.Typer(
    help="Valence, arousal and mood of music, in Russell's plane.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _command() -> None:
    """Before any command: this process is va_mood's own, so it may keep freed memory."""
    from ._malloc import keep_freed_memory

    keep_freed_memory()


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


class Scale(StrEnum):
    plane = "plane"
    unit = "unit"
    nine = "nine"


ScaleOpt = Annotated[
    Scale,
    typer.Option(
        help="Scale of the numbers: plane (-1..1), unit (0..1, valence/energy as Spotify's) "
        "or nine (1..9 as the emotion datasets'); see docs/scales_and_tags.md."
    ),
]


def _err(message: str) -> None:
    typer.echo(f"error: {message}", err=True)


def _default_cache() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "va_mood" / "features"


@contextmanager
def _fatal_errors() -> Iterator[None]:
    """Turn the package's own errors into one line and exit code 3, never a traceback."""
    from .errors import VaMoodError

    try:
        yield
    except VaMoodError as exc:
        _err(str(exc))
        raise typer.Exit(EXIT_NOTHING) from None
    except KeyboardInterrupt:
        _err("interrupted")
        raise typer.Exit(130) from None


@contextmanager
def _progress(total: int | None, label: str) -> Iterator[Any]:
    """A progress bar on stderr; yields the per-file callback for the library."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        TextColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class Rate(ProgressColumn):
        """Files per second, over the whole run so far."""

        def render(self, task: Any) -> Text:
            elapsed = task.elapsed or 0.0
            rate = task.completed / elapsed if elapsed > 0 and task.completed else None
            return Text(f"{rate:.1f} clips/s" if rate is not None else "- clips/s")

    console = Console(stderr=True)
    columns = (
        TextColumn(f"[bold]{label}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[failed]} failed"),
        Rate(),
        TimeRemainingColumn(),
    )
    with Progress(
        *columns, console=console, transient=True, disable=total is not None and total < 2
    ) as bar:
        task = bar.add_task(label, total=total, failed=0)
        failed = 0

        def step(path: str, error: str | None) -> None:
            nonlocal failed
            failed += error is not None
            bar.update(task, advance=1, failed=failed)

        yield step


def _config(path: Path | None) -> Config:
    """The configuration in ``path``, or the one the shipped default model was trained with."""
    from .api import load_model
    from .config import load_config

    return load_config(path) if path else load_model().config


def _label_spec(path: Path | None) -> Any:
    from .config import LabelSpec, load_label_spec

    return load_label_spec(path) if path else LabelSpec()


def _report_errors(errors: dict[str, str], errors_file: Path | None) -> None:
    for message in errors.values():
        _err(message)
    if errors_file is not None:
        from ._atomic import write_text

        rows = [{"path": p, "error": m} for p, m in errors.items()]
        write_text(errors_file, json.dumps(rows, indent=2) + "\n")


def _write_table(table: pd.DataFrame, fmt: Format, output: Path | None, extra: dict) -> None:
    from ._atomic import write_text

    if fmt is Format.csv:
        text = table.to_csv(index=False, float_format="%.4f")
    elif fmt is Format.json:
        text = (
            json.dumps({**extra, "predictions": table.to_dict(orient="records")}, indent=2) + "\n"
        )
    else:
        text = _human_table(table, signed=extra.get("scale", "plane") == "plane")
    if output is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    else:
        write_text(output, text)
        typer.echo(f"wrote {len(table)} row(s) to {output}", err=True)


def _human_table(table: pd.DataFrame, *, signed: bool = True) -> str:
    from rich.console import Console
    from rich.table import Table

    axis = "energy" if "energy" in table.columns else "arousal"  # energy: the unit scale
    number = "+.2f" if signed else ".2f"
    view = Table(box=None)
    for column in ("file", "valence", axis, "quadrant", "mood", "confidence (v/a)"):
        view.add_column(column, justify="left" if column in ("file", "mood") else "right")
    for row in table.to_dict(orient="records"):
        name = Path(row["path"]).name
        if "start" in row:
            name += f" {row['start']:.1f}-{row['end']:.1f}s"
        view.add_row(
            name,
            format(row["valence"], number),
            format(row[axis], number),
            row["quadrant"],
            row["mood"],
            f"{row['valence_confidence']:.2f}/{row[f'{axis}_confidence']:.2f}",
        )
    console = Console(width=120, record=True, file=io.StringIO())
    console.print(view)
    return console.export_text()


PathsArg = Annotated[list[str], typer.Argument(help="Audio files, folders (recursive) or globs.")]
JobsOpt = Annotated[
    int,
    typer.Option("--jobs", "-j", help="Worker processes for extraction (0: one per CPU core)."),
]
CacheOpt = Annotated[
    Path | None, typer.Option(help="Feature cache folder (default: ~/.cache/va_mood/features).")
]
NoCacheOpt = Annotated[bool, typer.Option("--no-cache", help="Neither read nor write the cache.")]
ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        help="Model configuration TOML (default: the shipped model's, configs/default.toml)."
    ),
]
LabelsSpecOpt = Annotated[
    Path | None,
    typer.Option(help="Labels format TOML (columns, scale) (default: the 4Q labels.csv format)."),
]
ErrorsOpt = Annotated[
    Path | None,
    typer.Option("--errors", help="Also write the failed inputs and reasons to this JSON file."),
]


def _cache(cache: Path | None, no_cache: bool) -> Path | None:
    return None if no_cache else (cache or _default_cache())


@app.command()
def predict(
    paths: PathsArg,
    model: Annotated[
        Path | None, typer.Option(help="Model bundle folder (default: the shipped model).")
    ] = None,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.table,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write here.")] = None,
    scale: ScaleOpt = Scale.plane,
    segment: Annotated[
        float | None,
        typer.Option(min=0.5, help="Predict each window of this many seconds (start, end)."),
    ] = None,
    hop: Annotated[
        float | None,
        typer.Option(min=0.1, help="Seconds between window starts (default: --segment)."),
    ] = None,
    summary: Annotated[
        Path | None,
        typer.Option(help="With --segment: write the per-file summary here (.csv or .json)."),
    ] = None,
    errors_file: ErrorsOpt = None,
    jobs: JobsOpt = 0,
    cache: CacheOpt = None,
    no_cache: NoCacheOpt = False,
) -> None:
    """Predict valence, arousal (on --scale, default -1..1), quadrant and mood for each file.

    With two binary heads (the shipped model) also p_uplifting, p_aggressive, p_melancholic and
    p_calm: the product of the two heads' probabilities, treating them as independent.
    With --segment, one row per window and a per-file summary (time share of each mood,
    mood changes).
    """
    with _fatal_errors():
        from .api import load_model

        bundle = load_model(model)
        files, problems = find_audio_or_exit(paths)
        from .scales import present
        from .segments import summarise_timeline

        if summary is not None and segment is None:
            _err("--summary needs --segment")
            raise typer.Exit(2)
        with _progress(len(files), "predicting") as step:
            table = bundle.predict_files(
                files,
                jobs=jobs,
                cache_dir=_cache(cache, no_cache),
                progress=step,
                segment=segment,
                hop=hop,
            )
        errors = problems | table.attrs["errors"]
        table = present(table, scale=scale.value, modes=bundle.model.head_modes())
        table = table.reset_index().rename(columns={"index": "path"})
        _report_errors(errors, errors_file)
        if table.empty:
            _err("no input could be predicted")
            raise typer.Exit(EXIT_NOTHING)
        extra: dict[str, Any] = {"model": str(model or "default"), "scale": scale.value}
        if segment is not None:
            timeline = summarise_timeline(table)
            extra["summary"] = timeline.to_dict(orient="records")
            if summary is not None:
                _write_summary(timeline, summary)
        extra["errors"] = [{"path": p, "error": m} for p, m in errors.items()]
        _write_table(table, fmt, output, extra)
        if segment is not None and fmt is Format.table and output is None:
            typer.echo(_summary_text(timeline))
        raise typer.Exit(EXIT_PARTIAL if errors else EXIT_OK)


def _write_summary(timeline: pd.DataFrame, path: Path) -> None:
    """The per-file segment summary as JSON (``{"summary": [...]}``) or, otherwise, CSV."""
    from ._atomic import write_text

    if path.suffix.lower() == ".json":
        text = json.dumps({"summary": timeline.to_dict(orient="records")}, indent=2) + "\n"
    else:
        text = timeline.to_csv(index=False, float_format="%.4f")
    write_text(path, text)
    typer.echo(f"wrote the per-file summary to {path}", err=True)


def _summary_text(timeline: pd.DataFrame) -> str:
    lines = ["", "per file: main mood, share of time per mood, mood changes"]
    for row in timeline.to_dict(orient="records"):
        shares = ", ".join(
            f"{k.removeprefix('share_')} {v:.0%}" for k, v in row.items() if k.startswith("share_")
        )
        name = Path(row["path"]).name
        lines.append(f"{name}: {row['main_mood']} ({shares}; {row['mood_changes']} changes)")
    return "\n".join(lines)


@app.command()
def extract(
    paths: PathsArg,
    output: Annotated[Path, typer.Option("--output", "-o", help="Feature table (.parquet).")],
    config: ConfigOpt = None,
    errors_file: ErrorsOpt = None,
    jobs: JobsOpt = 0,
    cache: CacheOpt = None,
    no_cache: NoCacheOpt = False,
    backend: Annotated[
        str, typer.Option(help="Where to extract: 'process' (local pool) or 'dask' (a cluster).")
    ] = "process",
    scheduler: Annotated[
        str | None,
        typer.Option(help="With --backend dask: the scheduler address (tcp://host:8786)."),
    ] = None,
) -> None:
    """Extract the named feature table (one row per file) to Parquet.

    With --backend dask --scheduler ADDRESS the files are extracted on a Dask cluster (see
    docs/extraction.md); the cache and the output are written here.
    """
    with _fatal_errors():
        from ._atomic import write_with
        from .extract import FINGERPRINT_KEY, extract_files

        cfg = _config(config)
        files, problems = find_audio_or_exit(paths)
        with _progress(len(files), "extracting") as step:
            table, errors = extract_files(
                files,
                config=cfg.analysis,
                groups=cfg.groups,
                jobs=jobs,
                cache_dir=_cache(cache, no_cache),
                progress=step,
                backend=backend,
                scheduler=scheduler,
            )
        errors = problems | errors
        _report_errors(errors, errors_file)
        if table.empty:
            _err("no input could be extracted")
            raise typer.Exit(EXIT_NOTHING)

        def write(tmp: Path) -> None:
            import pyarrow as pa
            import pyarrow.parquet as pq

            arrow = pa.Table.from_pandas(table.reset_index())
            fingerprint = cfg.analysis.fingerprint(cfg.groups).encode()
            metadata = {**(arrow.schema.metadata or {}), FINGERPRINT_KEY: fingerprint}
            pq.write_table(arrow.replace_schema_metadata(metadata), tmp)

        write_with(output, write)
        typer.echo(f"wrote {len(table)} row(s), {table.shape[1]} features to {output}", err=True)
        raise typer.Exit(EXIT_PARTIAL if errors else EXIT_OK)


def find_audio_or_exit(paths: list[str]) -> tuple[list[Path], dict[str, str]]:
    """The audio files ``paths`` name, or exit 3 with one line per problem if there are none."""
    from .audio import find_audio

    files, problems = find_audio(paths)
    if not files:
        for message in problems.values():
            _err(message)
        _err("no audio files to work on")
        raise typer.Exit(EXIT_NOTHING)
    return files, problems


LabelsOpt = Annotated[Path, typer.Option(help="Labels CSV (see --labels-spec for its format).")]
AudioOpt = Annotated[Path, typer.Option(help="Folder holding the labelled audio files.")]


def _corpus(labels: Path, audio: Path, cfg: Config, spec_path: Path | None, jobs: int, cache: Any):
    from .api import load_corpus

    spec = _label_spec(spec_path)
    with _progress(None, "extracting") as step:
        features, table, problems = load_corpus(
            labels, audio, config=cfg, spec=spec, jobs=jobs, cache_dir=cache, progress=step
        )
    for message in problems:
        _err(message)
    if problems:
        typer.echo(f"going on with {len(table)} labelled clip(s)", err=True)
    return features, table, spec


@app.command()
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
    jobs: JobsOpt = 0,
    cache: CacheOpt = None,
    no_cache: NoCacheOpt = False,
) -> None:
    """Repeated k-fold cross-validation grouped by artist: accuracy, macro-F1, confusion, heads."""
    with _fatal_errors():
        from ._atomic import write_text
        from .evaluate import cross_validate, format_report

        cfg = _config(config)
        features, table, _ = _corpus(labels, audio, cfg, labels_spec, jobs, _cache(cache, no_cache))
        first_repeat: dict[int, Any] = {}
        result = cross_validate(
            features, table, cfg, on_repeat=lambda r, p: first_repeat.setdefault(r, p)
        )
        typer.echo(format_report(result))
        if report is not None:
            write_text(report, json.dumps(result, indent=2) + "\n")
            typer.echo(f"wrote {report}", err=True)
        if plots is not None:
            from .plots import plot_evaluation

            for path in plot_evaluation(result, plots, predicted=first_repeat[0], labels=table):
                typer.echo(f"wrote {path}", err=True)


StorageOpt = Annotated[
    str,
    typer.Option(
        help="Optuna storage URL (sqlite:///..., postgresql+psycopg2://...) or a SQLite file path."
    ),
]
StudyNameOpt = Annotated[
    str, typer.Option("--study-name", help="Study name prefix: studies are <prefix>-<head>.")
]
DEFAULT_STORAGE = "sqlite:///studies/va_mood.db"
DEFAULT_PREFIX = "va_mood"


@app.command()
def train(
    labels: LabelsOpt,
    audio: AudioOpt,
    output: Annotated[Path, typer.Option("--output", "-o", help="Model bundle folder to write.")],
    config: ConfigOpt = None,
    labels_spec: LabelsSpecOpt = None,
    cv: Annotated[
        bool, typer.Option(help="Evaluate by grouped CV first and store the figures in the bundle.")
    ] = True,
    jobs: JobsOpt = 0,
    cache: CacheOpt = None,
    no_cache: NoCacheOpt = False,
    params_from_study: Annotated[
        bool,
        typer.Option(
            "--params-from-study",
            help="Replace each tuned head by its study's best trial (see `va-mood tune`).",
        ),
    ] = False,
    storage: StorageOpt = DEFAULT_STORAGE,
    study_name: StudyNameOpt = DEFAULT_PREFIX,
    about: Annotated[
        Path | None,
        typer.Option(help="Markdown on the training data (sources, licence) for the model card."),
    ] = None,
) -> None:
    """Train a model on a labelled corpus and write it as a bundle (with its model card)."""
    with _fatal_errors():
        from .api import train as train_bundle
        from .bundle import save_bundle
        from .evaluate import cross_validate, format_report

        cfg = feature_cfg = _config(config)
        if params_from_study:
            from .tuning import extraction_config

            cfg = _tuned_config(cfg, storage, study_name)
            feature_cfg = extraction_config(feature_cfg, cfg.groups)  # reuse the cached features
        features, table, spec = _corpus(
            labels, audio, feature_cfg, labels_spec, jobs, _cache(cache, no_cache)
        )
        metrics = {}
        if cv:
            metrics = cross_validate(features, table, cfg)
            typer.echo(format_report(metrics))
        bundle = train_bundle(features, table, cfg, spec=spec, metrics=metrics)
        if about is not None:
            try:
                bundle.about = about.read_text(encoding="utf-8")
            except OSError as exc:
                _err(f"{about}: cannot read ({exc.strerror})")
                raise typer.Exit(EXIT_NOTHING) from None
        save_bundle(bundle, output)
        typer.echo(f"wrote model bundle {output} ({len(table)} clips)", err=True)


# ---- tuning -------------------------------------------------------------------------------------


class TuneHead(StrEnum):
    arousal = "arousal"
    valence = "valence"
    both = "both"


def _tuned_config(cfg: Config, storage: str, prefix: str) -> Config:
    """``cfg`` with the tuned heads of the studies ``<prefix>-<head>``; says which were used."""
    from .tuning import best_config, tuned_trials

    trials = tuned_trials(storage, prefix)
    if not trials:
        _err(f"no finished study {prefix}-arousal or {prefix}-valence in {storage}")
        raise typer.Exit(EXIT_NOTHING)
    for head, trial in trials.items():
        typer.echo(f"{head}: trial {trial.number} of {prefix}-{head} ({trial.value:.4f})", err=True)
    return best_config(cfg, storage, prefix)


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


def _tune_features(
    labels: Path,
    audio: Path | None,
    features: Path | None,
    cfg: Config,
    spec_path: Path | None,
    jobs: int,
    cache: Any,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The feature table and labels of the corpus, from audio (cached) or a Parquet table."""
    if (audio is None) == (features is None):
        _err("give either --audio DIR or --features PARQUET")
        raise typer.Exit(2)
    if audio is not None:
        table, labelled, _ = _corpus(labels, audio, cfg, spec_path, jobs, cache)
        return table, labelled
    import pandas as pd

    from .labels import load_labels
    from .tuning import align_features

    try:
        raw = pd.read_parquet(features)
    except (OSError, ValueError) as exc:
        _err(f"{features}: not a readable Parquet feature table ({exc})")
        raise typer.Exit(EXIT_NOTHING) from None
    table, labelled, problems = align_features(raw, load_labels(labels, _label_spec(spec_path)))
    for message in problems:
        _err(message)
    return table, labelled


@app.command()
def tune(
    labels: LabelsOpt,
    head: Annotated[TuneHead, typer.Option(help="Which head to tune (one study each).")] = (
        TuneHead.both
    ),
    audio: Annotated[
        Path | None, typer.Option(help="Folder holding the labelled audio files.")
    ] = None,
    features: Annotated[
        Path | None,
        typer.Option(help="Feature table from `va-mood extract` instead of --audio (ids = stems)."),
    ] = None,
    config: ConfigOpt = None,
    labels_spec: LabelsSpecOpt = None,
    search_space: Annotated[
        Path, typer.Option(help="Search spaces TOML (see configs/search_space.toml).")
    ] = Path("configs/search_space.toml"),
    trials: Annotated[
        int, typer.Option(help="Trials to add to each head's study in this run.")
    ] = 20,
    timeout: Annotated[
        float | None, typer.Option(help="Stop starting trials after this many seconds, per head.")
    ] = None,
    storage: StorageOpt = DEFAULT_STORAGE,
    study_name: StudyNameOpt = DEFAULT_PREFIX,
    jobs: Annotated[
        int, typer.Option("--jobs", "-j", help="Worker processes (trials and extraction).")
    ] = 1,
    cache: CacheOpt = None,
    no_cache: NoCacheOpt = False,
) -> None:
    """Tune each head in its own optuna study (resumed if it exists) by grouped CV."""
    import signal

    with _fatal_errors():
        from .tuning import extraction_config, load_search_space, study_summaries, tune_head

        cfg = _config(config)
        space = load_search_space(search_space)
        heads = ["arousal", "valence"] if head is TuneHead.both else [head.value]
        candidates = [g for h in heads if h in space.heads for g in space.heads[h].groups or ()]
        feature_cfg = extraction_config(cfg, candidates)
        table, labelled = _tune_features(
            labels, audio, features, feature_cfg, labels_spec, jobs, _cache(cache, no_cache)
        )
        from .tuning import raise_interrupt

        previous = signal.signal(signal.SIGTERM, raise_interrupt)
        previous_int = signal.signal(signal.SIGINT, raise_interrupt)
        current = None
        try:
            for current in heads:
                typer.echo(
                    f"tuning the {current} head: {trials} trial(s), {jobs} worker(s), "
                    f"{len(labelled)} clips, storage {storage}",
                    err=True,
                )
                study = tune_head(
                    table,
                    labelled,
                    cfg,
                    current,
                    space,
                    storage=storage,
                    prefix=study_name,
                    n_trials=trials,
                    timeout=timeout,
                    jobs=jobs,
                    callbacks=(_trial_line,),
                )
                best = study.best_trial
                typer.echo(
                    f"{study.study_name}: best {best.value:.4f} (trial {best.number}) "
                    f"{json.dumps(best.params)}"
                )
        except KeyboardInterrupt:
            stored = {r["study"]: r["complete"] + r["pruned"] for r in study_summaries(storage)}
            done = ", ".join(
                f"{n}: {c} finished trial(s)"
                for n, c in stored.items()
                if n.startswith(f"{study_name}-")
            )
            _err(
                f"interrupted while tuning the {current} head; stored in {storage}: {done}; "
                "run the same command again to resume"
            )
            raise typer.Exit(130) from None
        finally:
            signal.signal(signal.SIGTERM, previous)
            signal.signal(signal.SIGINT, previous_int)


studies_app = typer.Typer(help="Inspect and export tuning studies.", no_args_is_help=True)
app.add_typer(studies_app, name="studies")


@studies_app.command("list")
def studies_list(
    storage: StorageOpt = DEFAULT_STORAGE,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.table,
) -> None:
    """Every study in the storage: trial counts, best value and best parameters."""
    with _fatal_errors():
        from .tuning import study_summaries

        rows = study_summaries(storage)
        if fmt is Format.json:
            typer.echo(json.dumps(rows, indent=2))
            return
        if not rows:
            typer.echo(f"no studies in {storage}")
            return
        for r in rows:
            best = "-" if r["best_value"] is None else f"{r['best_value']:.4f}"
            typer.echo(
                f"{r['study']}: {r['n_trials']} trials ({r['complete']} complete, "
                f"{r['pruned']} pruned, {r['fail']} failed, {r['running']} running); "
                f"{r['metric']} best {best} (trial {r['best_trial']})"
            )
            if r["best_params"]:
                typer.echo(f"  best params {json.dumps(r['best_params'])}")


@studies_app.command("show")
def studies_show(
    name: Annotated[
        str | None, typer.Argument(help="Study name (default: every study in the storage).")
    ] = None,
    storage: StorageOpt = DEFAULT_STORAGE,
    plots: Annotated[
        Path | None,
        typer.Option(help="Write optimization_history and param_importances PNGs here."),
    ] = None,
) -> None:
    """A study's best trial, parameter importances and, optionally, plots."""
    with _fatal_errors():
        from .tuning import param_importances, study_summaries, write_plots

        rows = [r for r in study_summaries(storage) if name is None or r["study"] == name]
        if not rows:
            _err(f"no study {name!r} in {storage}" if name else f"no studies in {storage}")
            raise typer.Exit(EXIT_NOTHING)
        for r in rows:
            best = "-" if r["best_value"] is None else f"{r['best_value']:.4f}"
            typer.echo(
                f"{r['study']}: {r['complete']} complete / {r['pruned']} pruned / "
                f"{r['fail']} failed trials; {r['metric']} best {best} "
                f"(trial {r['best_trial']})"
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


@studies_app.command("export")
def studies_export(
    output: Annotated[Path, typer.Option("--output", "-o", help="Configuration TOML to write.")],
    config: ConfigOpt = None,
    storage: StorageOpt = DEFAULT_STORAGE,
    study_name: StudyNameOpt = DEFAULT_PREFIX,
) -> None:
    """Write the configuration with each tuned head's best trial as a TOML file."""
    with _fatal_errors():
        from ._atomic import write_text
        from .tuning import config_to_toml

        tuned = _tuned_config(_config(config), storage, study_name)
        header = f"Tuned by `va-mood tune`: best trials of {study_name}-<head> in {storage}"
        write_text(output, config_to_toml(tuned, header))
        typer.echo(f"wrote {output}", err=True)


# ---- scales, tags, playlists (issue 8) ---------------------------------------------------------


ModelOpt = Annotated[
    Path | None, typer.Option(help="Model bundle folder (default: the shipped model).")
]


@app.command()
def tag(
    paths: PathsArg,
    model: ModelOpt = None,
    scale: ScaleOpt = Scale.plane,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be written; change no file.")
    ] = False,
    overwrite: Annotated[
        bool,
        typer.Option("--overwrite", help="Tag again files already tagged by this model version."),
    ] = False,
    errors_file: ErrorsOpt = None,
    jobs: JobsOpt = 0,
    cache: CacheOpt = None,
    no_cache: NoCacheOpt = False,
) -> None:
    """Predict each file and write mood, valence and arousal into its own tags.

    mp3 (ID3: TMOO, TXXX:VAMOOD_*), ogg/opus/flac (Vorbis comments), m4a (MP4 freeform atoms).
    Only these tags change; the audio data and every other tag are kept.
    """
    with _fatal_errors():
        from .api import load_model
        from .tagging import model_version, precheck, write_tags

        bundle = load_model(model)
        version = model_version(bundle)
        files, problems = find_audio_or_exit(paths)
        errors = dict(problems)
        todo, done = [], 0
        for path in files:  # no prediction for files that are done or cannot be tagged
            early = precheck(path, model_version=version, overwrite=overwrite)
            if early is None:
                todo.append(path)
            elif early.ok:
                typer.echo(early.line())
                done += 1
            else:
                errors[str(path)] = f"{path}: {early.message}"
        if todo:
            with _progress(len(todo), "predicting") as step:
                table = bundle.predict_files(
                    todo, jobs=jobs, cache_dir=_cache(cache, no_cache), progress=step
                )
            errors |= table.attrs["errors"]
            for path, row in table.iterrows():
                result = write_tags(
                    path,
                    row,
                    model_version=version,
                    scale=scale.value,
                    overwrite=overwrite,
                    dry_run=dry_run,
                )
                if result.ok:
                    typer.echo(result.line())
                    done += 1
                else:
                    errors[str(path)] = f"{path}: {result.message}"
        _report_errors(errors, errors_file)
        if not done:
            _err("no file could be tagged")
            raise typer.Exit(EXIT_NOTHING)
        raise typer.Exit(EXIT_PARTIAL if errors else EXIT_OK)


@app.command()
def playlist(
    predictions: Annotated[
        Path, typer.Argument(help="CSV or JSON written by `va-mood predict` (any --scale).")
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="M3U8 playlist to write.")],
    mood: Annotated[
        str | None,
        typer.Option(
            help="Mood or quadrant to keep: Uplifting, Aggressive, Melancholic, Calm "
            "or Q1..Q4 (default: every mood)."
        ),
    ] = None,
    min_confidence: Annotated[
        float | None,
        typer.Option(
            min=0.0,
            max=1.0,
            help="Keep files whose mood confidence (valence_confidence x arousal_confidence) "
            "is at least this.",
        ),
    ] = None,
    sort: Annotated[
        str | None,
        typer.Option(
            help="Sort by valence, energy (= arousal) or confidence; -KEY for descending "
            "(default: the order of the predictions)."
        ),
    ] = None,
    absolute: Annotated[
        bool,
        typer.Option(
            "--absolute", help="Write absolute paths (default: relative to the playlist)."
        ),
    ] = False,
) -> None:
    """Write an M3U8 playlist of the files of one mood, from `va-mood predict` output."""
    with _fatal_errors():
        from .playlist import make_playlist, read_predictions, write_m3u8

        table = read_predictions(predictions)
        if "start" in table.columns:
            _err(f"{predictions} holds segments; a playlist takes whole-file predictions")
            raise typer.Exit(EXIT_NOTHING)
        paths = make_playlist(table, mood=mood, min_confidence=min_confidence, sort_by=sort)
        if not paths:
            wanted = mood or "any mood"
            if min_confidence is not None:
                wanted += f" with confidence >= {min_confidence}"
            _err(f"no file in {predictions} is {wanted}; no playlist written")
            raise typer.Exit(EXIT_NOTHING)
        write_m3u8(paths, output, absolute=absolute)
        typer.echo(f"wrote {len(paths)} file(s) to {output}", err=True)


plot_app = typer.Typer(help="Draw predictions: the Russell plane, emotion over time.")
app.add_typer(plot_app, name="plot")
PredictionsArg = Annotated[
    Path, typer.Argument(help="CSV or JSON written by `va-mood predict` (any --scale).")
]
PlotOutputOpt = Annotated[
    Path, typer.Option("--output", "-o", help="Image file (.png, .svg, .pdf).")
]


def _read_on_plane(path: Path) -> pd.DataFrame:
    """Predictions written by ``predict`` on any scale, brought back onto the [-1, 1] plane."""
    from .playlist import read_predictions
    from .scales import from_scale

    table = read_predictions(path)
    scale = table.attrs.get("scale")
    if scale is None:  # a CSV does not say; the values do
        scale = "nine" if table[["valence", "arousal"]].abs().max().max() > 1 else "plane"
    return from_scale(table, scale) if scale != "plane" else table


@plot_app.command("plane")
def plot_plane_command(
    predictions: PredictionsArg,
    output: PlotOutputOpt,
    labels: Annotated[
        Path | None, typer.Option(help="Labels CSV: colour each point by its true quadrant.")
    ] = None,
    labels_spec: LabelsSpecOpt = None,
) -> None:
    """Files as points on the valence-arousal plane, with the four quadrant moods."""
    with _fatal_errors():
        from .labels import load_labels
        from .plots import plot_plane

        table = _read_on_plane(predictions)
        if "start" in table:
            _err(f"{predictions} holds segments; plot them with `va-mood plot timeline`")
            raise typer.Exit(EXIT_NOTHING)
        truth = None
        if labels is not None:
            quadrants = load_labels(labels, _label_spec(labels_spec))["quadrant"]
            ids = table["path"].map(lambda p: Path(p).stem)
            truth = ids.map(quadrants)
            unknown = truth.isna()
            if unknown.all():
                _err(f"no predicted file matches an id in {labels}")
                raise typer.Exit(EXIT_NOTHING)
            if unknown.any():
                _err(f"{int(unknown.sum())} file(s) without labels left out of the plot")
            table, truth = table[~unknown], truth[~unknown]
        plot_plane(table, output, truth=truth)
        typer.echo(f"wrote {output}", err=True)


@plot_app.command("timeline")
def plot_timeline_command(
    predictions: PredictionsArg,
    output: PlotOutputOpt,
    file: Annotated[
        str | None, typer.Option(help="Which file to draw (name or path; default: the only one).")
    ] = None,
    ratings: Annotated[
        Path | None,
        typer.Option(help="Folder of emoMusic-style 2 Hz ratings to overlay (listener curve)."),
    ] = None,
    song_id: Annotated[
        str | None, typer.Option(help="Song id in the ratings (default: the file's name stem).")
    ] = None,
) -> None:
    """Valence and arousal of one file over time (`predict --segment` output), mood bands."""
    with _fatal_errors():
        from .labels import load_ratings
        from .plots import plot_timeline

        table = _read_on_plane(predictions)
        if "start" not in table:
            _err(f"{predictions} holds no segments; run `va-mood predict --segment SECONDS`")
            raise typer.Exit(EXIT_NOTHING)
        paths = table["path"].unique()
        if file is not None:
            paths = [p for p in paths if p == file or Path(p).name == file]
        if len(paths) != 1:
            known = ", ".join(Path(p).name for p in table["path"].unique()[:5])
            _err(f"choose one file with --file (the predictions hold: {known})")
            raise typer.Exit(EXIT_NOTHING)
        segments = table[table["path"] == paths[0]]
        curve = None
        if ratings is not None:
            curve = load_ratings(ratings, song_id or Path(paths[0]).stem)
        plot_timeline(segments, output, ratings=curve)
        typer.echo(f"wrote {output}", err=True)


if __name__ == "__main__":  # pragma: no cover
    app()
