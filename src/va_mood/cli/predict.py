"""Predict and extract: valence, arousal and mood of audio files, or their feature table."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
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
    Outputs,
    PathsArg,
    ScaleName,
    ScaleOpt,
    check_outputs,
    config_or_default,
    error,
    fatal_errors,
    file_rows,
    find_audio_or_exit,
    predicted_or_exit,
    problem_rows,
    progress_bar,
    report_errors,
    short_names,
    warning,
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
        from ..outputs.scales import as_rows, path_text

        if summary is not None and segment is None:
            error("--summary needs --segment")
            raise typer.Exit(EXIT_USAGE)
        check_outputs([output, summary, errors_file])
        loaded = load_model(model, cache=not work.no_cache)
        finished = _Finished(loaded, fmt, output, scale, model, errors_file)
        with finished.written_if_interrupted(), progress_bar(None, "predicting") as step:
            table = loaded.predict_files(
                paths,
                scale=scale.value,
                progress=step,
                segment=segment,
                hop=hop,
                on_error="collect",
                **work.predict_options(),
            )
        outputs = Outputs()  # every output that can be written is, before a failure is said
        errors, notes = predicted_or_exit(table, errors_file, outputs)
        table = as_rows(table)
        name = path_text(model) if model else "default"  # as paths are written: UTF-8
        extra: dict[str, Any] = {"model": name, "scale": scale.value}
        extra["complete"] = True  # false in what an interrupted run writes
        if segment is not None:  # paths as written: pandas' strings refuse names not UTF-8
            timeline = summarise_timeline(file_rows(table))
            extra["summary"] = timeline.to_dict(orient="records")
            if summary is not None:
                outputs.write(
                    lambda: _write_summary(timeline, summary),
                    f"wrote the per-file summary to {summary}",
                )
        extra["errors"] = problem_rows(errors)
        extra["warnings"] = problem_rows(notes, "warning")
        write_table(table, fmt, output, extra, outputs)
        if segment is not None and fmt is Format.table and output is None:
            typer.echo(_summary_text(timeline))
        outputs.exit(EXIT_PARTIAL if errors else EXIT_OK)


@dataclass
class _Finished:
    """What ``predict`` writes of the files finished when it is interrupted."""

    model: Any
    fmt: Format
    output: Path | None
    scale: ScaleName
    bundle: Path | None
    errors_file: Path | None

    @contextmanager
    def written_if_interrupted(self) -> Iterator[None]:
        """Interrupted while extracting, write the rows of the files finished as the whole
        output would be, marked incomplete (``"complete": false`` in JSON, and a ``warning:``
        line), and tell the interrupt where (its ``written``, for the last line)."""
        try:
            yield
        except KeyboardInterrupt as stop:
            features = getattr(stop, "features", None)
            if features is not None and len(features):
                self.write(stop, features)
            raise

    def write(self, stop: KeyboardInterrupt, features: pd.DataFrame) -> None:
        """The finished rows, predicted as :func:`va_mood.predict_files` predicts them."""
        from ..outputs.scales import as_rows, path_text

        table, notes = self.model.predict_extracted(features, scale=self.scale.value)
        errors = getattr(stop, "errors", {})
        for message in notes.values():
            warning(message)
        outputs = Outputs()
        report_errors(errors, self.errors_file, outputs)
        name = path_text(self.bundle) if self.bundle else "default"
        extra = {"model": name, "scale": self.scale.value, "complete": False}
        extra |= {"errors": problem_rows(errors), "warnings": problem_rows(notes, "warning")}
        write_table(as_rows(table), self.fmt, self.output, extra, outputs)
        for message in outputs.failed:
            error(message)
        if not outputs.failed:
            stop.written = "standard output" if self.output is None else str(self.output)
            warning(
                f"{stop.written} is incomplete: it holds the files finished before the interrupt"
            )


def _write_summary(timeline: pd.DataFrame, path: Path) -> None:
    """The per-file segment summary (paths as written, :func:`~.common.file_rows`) as JSON
    (``{"summary": [...]}``) or, otherwise, CSV."""
    from ..util.atomic import write_text

    if path.suffix.lower() == ".json":
        text = json.dumps({"summary": timeline.to_dict(orient="records")}, indent=2) + "\n"
    else:
        text = timeline.to_csv(index=False, float_format="%.4f")
    write_text(path, text)


def _summary_text(timeline: pd.DataFrame) -> str:
    from ..outputs.scales import path_from_text

    lines = ["", "per file: main mood, share of time per mood, mood changes"]
    names = short_names(path_from_text(p) for p in timeline["path"])
    for row in timeline.to_dict(orient="records"):
        shares = ", ".join(
            f"{k.removeprefix('share_')} {v:.0%}" for k, v in row.items() if k.startswith("share_")
        )
        name = names[path_from_text(row["path"])]
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

        check_outputs([output, errors_file])
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
        outputs = Outputs()
        report_errors(errors, errors_file, outputs)
        if table.empty:
            error("no input could be extracted")
            outputs.exit(EXIT_NOTHING)
        outputs.write(
            lambda: write_feature_table(table, output, config=cfg.analysis, groups=cfg.groups),
            f"wrote {len(table)} row(s), {table.shape[1]} features to {output}",
        )
        outputs.exit(EXIT_PARTIAL if errors else EXIT_OK)
