"""What every command shares: options, progress, one-line errors, writing tables."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    import pandas as pd

    from ..config import Config

EXIT_OK, EXIT_PARTIAL, EXIT_NOTHING, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 3, 2, 130
"""0 every input succeeded; 1 some inputs failed (the good results are still written);
2 the command line itself is wrong; 3 nothing could be done; 130 interrupted (resumable)."""


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


def error(message: str) -> None:
    typer.echo(f"error: {message}", err=True)


def warning(message: str) -> None:
    """One line on stderr about something skipped or doubtful; not a failure of the input."""
    typer.echo(f"warning: {message}", err=True)


@contextmanager
def fatal_errors() -> Iterator[None]:
    """Turn the package's own errors into one line and exit code 3, never a traceback."""
    from ..errors import VaMoodError

    try:
        yield
    except VaMoodError as exc:
        error(str(exc))
        raise typer.Exit(EXIT_NOTHING) from None
    except KeyboardInterrupt:
        error("interrupted")
        raise typer.Exit(EXIT_INTERRUPTED) from None


@contextmanager
def progress_bar(total: int | None, label: str) -> Iterator[Any]:
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


def config_or_default(path: Path | None) -> Config:
    """The configuration in ``path``, or the one the shipped default model was trained with."""
    from ..api import load_model
    from ..config import load_config

    return load_config(path) if path else load_model().config


def label_spec(path: Path | None) -> Any:
    from ..config import LabelSpec, load_label_spec

    return load_label_spec(path) if path else LabelSpec()


def report_errors(errors: dict[str, str], errors_file: Path | None) -> None:
    for message in errors.values():
        error(message)
    if errors_file is not None:
        from .._atomic import write_text

        rows = [{"path": p, "error": m} for p, m in errors.items()]
        write_text(errors_file, json.dumps(rows, indent=2) + "\n")


def write_table(table: pd.DataFrame, fmt: Format, output: Path | None, extra: dict) -> None:
    from .._atomic import write_text

    if fmt is Format.csv:
        text = table.to_csv(index=False, float_format="%.4f")
    elif fmt is Format.json:
        records = [
            {k: None if isinstance(v, float) and v != v else v for k, v in row.items()}
            for row in table.to_dict(orient="records")
        ]  # NaN (no mood for silence) as null: JSON has no NaN
        text = json.dumps({**extra, "predictions": records}, indent=2) + "\n"
    else:
        text = _human_table(table, signed=extra.get("scale", "plane") == "plane")
    if output is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    else:
        write_text(output, text)
        typer.echo(f"wrote {len(table)} row(s) to {output}", err=True)


def _number(value: float, spec: str) -> str:
    """A number for the terminal table; '-' for none (NaN: silence has no mood)."""
    return "-" if value != value else format(value, spec)


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
            _number(row["valence"], number),
            _number(row[axis], number),
            row["quadrant"],
            row["mood"],
            f"{_number(row['valence_confidence'], '.2f')}/"
            f"{_number(row[f'{axis}_confidence'], '.2f')}",
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


MaxDurationOpt = Annotated[
    float,
    typer.Option(
        "--max-duration",
        min=0,
        help="Refuse recordings longer than this many seconds, from their header before "
        "decoding (0: no limit).",
    ),
]
MAX_DURATION_DEFAULT = 3 * 3600.0
"""``--max-duration``'s default, va_mood.audio.MAX_DURATION (not imported: the CLI starts fast)."""


def longest(max_duration: float) -> float | None:
    """The library's ``longest`` for ``--max-duration`` (0: no limit)."""
    return max_duration or None


def cache_dir(cache: Path | None, no_cache: bool) -> Path | None:
    from ..locations import default_cache

    return None if no_cache else (cache or default_cache())


def find_audio_or_exit(paths: list[str]) -> tuple[list[Path], dict[str, str]]:
    """The audio files ``paths`` name, or exit 3 with one line per problem if there are none."""
    from ..audio import find_audio

    files, problems = find_audio(paths, on_warning=warning)
    if not files:
        for message in problems.values():
            error(message)
        error("no audio files to work on")
        raise typer.Exit(EXIT_NOTHING)
    return files, problems


LabelsOpt = Annotated[Path, typer.Option(help="Labels CSV (see --labels-spec for its format).")]
AudioOpt = Annotated[Path, typer.Option(help="Folder holding the labelled audio files.")]
OptionalAudioOpt = Annotated[
    Path | None, typer.Option(help="Folder holding the labelled audio files.")
]
FeatureTableOpt = Annotated[
    Path | None,
    typer.Option(help="Feature table from `va-mood extract` instead of --audio (ids = stems)."),
]


def labelled_corpus(
    labels: Path,
    audio: Path,
    cfg: Config,
    spec_path: Path | None,
    jobs: int,
    cache: Any,
    *,
    max_duration: float = MAX_DURATION_DEFAULT,
):
    from ..api import load_corpus

    spec = label_spec(spec_path)
    with progress_bar(None, "extracting") as step:
        features, table, problems = load_corpus(
            labels,
            audio,
            config=cfg,
            spec=spec,
            jobs=jobs,
            cache_dir=cache,
            progress=step,
            longest=longest(max_duration),
        )
    for message in problems:
        error(message)
    if problems:
        typer.echo(f"going on with {len(table)} labelled clip(s)", err=True)
    return features, table, spec


StorageOpt = Annotated[
    str,
    typer.Option(
        help="Optuna storage URL (sqlite:///..., postgresql+psycopg2://...) or a SQLite file path."
    ),
]
StudyNameOpt = Annotated[
    str, typer.Option("--study-name", help="Study name prefix: studies are <prefix>-<head>.")
]
ModelOpt = Annotated[
    Path | None, typer.Option(help="Model bundle folder (default: the shipped model).")
]


def corpus_features(
    labels: Path,
    audio: Path | None,
    features: Path | None,
    cfg: Config,
    spec_path: Path | None,
    jobs: int,
    cache: Path | None,
    *,
    max_duration: float = MAX_DURATION_DEFAULT,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The feature table and labels of a corpus, from its audio (cached) or from a Parquet
    table written by ``va-mood extract`` (refused if made with other feature settings)."""
    if (audio is None) == (features is None):
        error("give either --audio DIR or --features PARQUET")
        raise typer.Exit(EXIT_USAGE)
    if audio is not None:
        table, labelled, _ = labelled_corpus(
            labels, audio, cfg, spec_path, jobs, cache, max_duration=max_duration
        )
        return table, labelled
    from ..feature_table import align_features, read_feature_table
    from ..labels import load_labels

    raw = read_feature_table(features, config=cfg.analysis, groups=cfg.groups)
    table, labelled, problems = align_features(raw, load_labels(labels, label_spec(spec_path)))
    for message in problems:
        error(message)
    return table, labelled
