"""Predict and extract: valence, arousal and mood of audio files, or their feature table."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from .common import (
    EXIT_NOTHING,
    EXIT_OK,
    EXIT_PARTIAL,
    EXIT_USAGE,
    ConfigOpt,
    ErrorsOpt,
    Format,
    FormatOpt,
    ModelOpt,
    PathsArg,
    ScaleName,
    ScaleOpt,
    config_or_default,
    error,
    fatal_errors,
    find_audio_or_exit,
    predicted_or_exit,
    progress_bar,
    report_errors,
    write_table,
)
from .options import Work, work_options

if TYPE_CHECKING:
    import pandas as pd


@work_options()
def predict(
    paths: PathsArg,
    model: ModelOpt = None,
    fmt: FormatOpt = Format.table,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write here.")] = None,
    scale: ScaleOpt = ScaleName.plane,
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
    *,
    work: Work,
) -> None:
    """Predict valence, arousal (on --scale, default -1..1), quadrant and mood for each file.

    With two binary heads (the shipped model) also p_uplifting, p_aggressive, p_melancholic and
    p_calm: the product of the two heads' probabilities, treating them as independent.
    With --segment, one row per window and a per-file summary (time share of each mood,
    mood changes).
    """
    with fatal_errors():
        from ..api import load_model
        from ..extraction.segments import summarise_timeline
        from ..outputs.scales import as_rows

        if summary is not None and segment is None:
            error("--summary needs --segment")
            raise typer.Exit(EXIT_USAGE)
        loaded = load_model(model, cache=not work.no_cache)
        with progress_bar(None, "predicting") as step:
            table = loaded.predict_files(
                paths,
                scale=scale.value,
                progress=step,
                segment=segment,
                hop=hop,
                **work.predict_options(),
            )
        errors, notes = predicted_or_exit(table, errors_file)
        table = as_rows(table)
        extra: dict[str, Any] = {"model": str(model or "default"), "scale": scale.value}
        if segment is not None:
            timeline = summarise_timeline(table)
            extra["summary"] = timeline.to_dict(orient="records")
            if summary is not None:
                _write_summary(timeline, summary)
        extra["errors"] = [{"path": p, "error": m} for p, m in errors.items()]
        extra["warnings"] = [{"path": p, "warning": m} for p, m in notes.items()]
        write_table(table, fmt, output, extra)
        if segment is not None and fmt is Format.table and output is None:
            typer.echo(_summary_text(timeline))
        raise typer.Exit(EXIT_PARTIAL if errors else EXIT_OK)


def _write_summary(timeline: pd.DataFrame, path: Path) -> None:
    """The per-file segment summary as JSON (``{"summary": [...]}``) or, otherwise, CSV."""
    from ..util.atomic import write_text

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


@work_options()
def extract(
    paths: PathsArg,
    output: Annotated[Path, typer.Option("--output", "-o", help="Feature table (.parquet).")],
    config: ConfigOpt = None,
    errors_file: ErrorsOpt = None,
    backend: Annotated[
        str, typer.Option(help="Where to extract: 'process' (local pool) or 'dask' (a cluster).")
    ] = "process",
    scheduler: Annotated[
        str | None,
        typer.Option(help="With --backend dask: the scheduler address (tcp://host:8786)."),
    ] = None,
    *,
    work: Work,
) -> None:
    """Extract the named feature table (one row per file) to Parquet.

    With --backend dask --scheduler ADDRESS the files are extracted on a Dask cluster (its
    workers need va_mood installed and must be able to read the files); the cache and the
    output are written here.
    """
    with fatal_errors():
        from ..extraction.batch import extract_files
        from ..extraction.table import write_feature_table

        cfg = config_or_default(config)
        files, problems = find_audio_or_exit(paths)
        with progress_bar(len(files), "extracting") as step:
            table, errors = extract_files(
                files,
                config=cfg.analysis,
                groups=cfg.groups,
                jobs=work.jobs,
                cache_dir=work.cache_dir,
                progress=step,
                backend=backend,
                scheduler=scheduler,
                longest=work.longest,
            )
        errors = problems | errors
        report_errors(errors, errors_file)
        if table.empty:
            error("no input could be extracted")
            raise typer.Exit(EXIT_NOTHING)

        write_feature_table(table, output, config=cfg.analysis, groups=cfg.groups)
        typer.echo(f"wrote {len(table)} row(s), {table.shape[1]} features to {output}", err=True)
        raise typer.Exit(EXIT_PARTIAL if errors else EXIT_OK)
