"""The ``va-mood`` command line: parse, call the library, print. Nothing else lives here.

Exit codes: 0 every input succeeded; 1 some inputs failed (the good results are still
written, each failure is printed on one line); 2 the command line itself is wrong;
3 nothing could be done.
"""

from __future__ import annotations

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


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


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
        TextColumn,
        TimeRemainingColumn,
    )

    console = Console(stderr=True)
    columns = (
        TextColumn(f"[bold]{label}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[failed]} failed"),
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
        text = _human_table(table)
    if output is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    else:
        write_text(output, text)
        typer.echo(f"wrote {len(table)} row(s) to {output}", err=True)


def _human_table(table: pd.DataFrame) -> str:
    from rich.console import Console
    from rich.table import Table

    view = Table(box=None)
    for column in ("file", "valence", "arousal", "quadrant", "mood", "confidence (v/a)"):
        view.add_column(column, justify="left" if column in ("file", "mood") else "right")
    for row in table.itertuples(index=False):
        view.add_row(
            Path(row.path).name,
            f"{row.valence:+.2f}",
            f"{row.arousal:+.2f}",
            row.quadrant,
            row.mood,
            f"{row.valence_confidence:.2f}/{row.arousal_confidence:.2f}",
        )
    console = Console(width=120, record=True, file=open(os.devnull, "w"))  # noqa: SIM115
    console.print(view)
    return console.export_text()


PathsArg = Annotated[list[str], typer.Argument(help="Audio files, folders (recursive) or globs.")]
JobsOpt = Annotated[int, typer.Option("--jobs", "-j", help="Worker processes for extraction.")]
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
    errors_file: ErrorsOpt = None,
    jobs: JobsOpt = 1,
    cache: CacheOpt = None,
    no_cache: NoCacheOpt = False,
) -> None:
    """Predict valence, arousal (both on -1..1), quadrant and mood for each audio file."""
    with _fatal_errors():
        from .api import load_model

        bundle = load_model(model)
        files, problems = find_audio_or_exit(paths)
        with _progress(len(files), "predicting") as step:
            table = bundle.predict_files(
                files, jobs=jobs, cache_dir=_cache(cache, no_cache), progress=step
            )
        errors = problems | table.attrs["errors"]
        table = table.reset_index().rename(columns={"index": "path"})
        _report_errors(errors, errors_file)
        if table.empty:
            _err("no input could be predicted")
            raise typer.Exit(EXIT_NOTHING)
        extra = {
            "model": str(model or "default"),
            "errors": [{"path": p, "error": m} for p, m in errors.items()],
        }
        _write_table(table, fmt, output, extra)
        raise typer.Exit(EXIT_PARTIAL if errors else EXIT_OK)


@app.command()
def extract(
    paths: PathsArg,
    output: Annotated[Path, typer.Option("--output", "-o", help="Feature table (.parquet).")],
    config: ConfigOpt = None,
    errors_file: ErrorsOpt = None,
    jobs: JobsOpt = 1,
    cache: CacheOpt = None,
    no_cache: NoCacheOpt = False,
) -> None:
    """Extract the named feature table (one row per file) to Parquet."""
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
    jobs: JobsOpt = 1,
    cache: CacheOpt = None,
    no_cache: NoCacheOpt = False,
) -> None:
    """Repeated k-fold cross-validation grouped by artist: accuracy, macro-F1, confusion, heads."""
    with _fatal_errors():
        from ._atomic import write_text
        from .evaluate import cross_validate, format_report

        cfg = _config(config)
        features, table, _ = _corpus(labels, audio, cfg, labels_spec, jobs, _cache(cache, no_cache))
        result = cross_validate(features, table, cfg)
        typer.echo(format_report(result))
        if report is not None:
            write_text(report, json.dumps(result, indent=2) + "\n")
            typer.echo(f"wrote {report}", err=True)


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
    jobs: JobsOpt = 1,
    cache: CacheOpt = None,
    no_cache: NoCacheOpt = False,
) -> None:
    """Train a model on a labelled corpus and write it as a bundle."""
    with _fatal_errors():
        from .api import train as train_bundle
        from .bundle import save_bundle
        from .evaluate import cross_validate, format_report

        cfg = _config(config)
        features, table, spec = _corpus(
            labels, audio, cfg, labels_spec, jobs, _cache(cache, no_cache)
        )
        metrics = {}
        if cv:
            metrics = cross_validate(features, table, cfg)
            typer.echo(format_report(metrics))
        bundle = train_bundle(features, table, cfg, spec=spec, metrics=metrics)
        save_bundle(bundle, output)
        typer.echo(f"wrote model bundle {output} ({len(table)} clips)", err=True)


if __name__ == "__main__":  # pragma: no cover
    app()
