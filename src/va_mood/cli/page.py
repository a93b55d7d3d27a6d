"""The page: predictions on the mood plane as one HTML file to open in a browser."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from .common import (
    EXIT_NOTHING,
    EXIT_OK,
    EXIT_PARTIAL,
    EXIT_USAGE,
    ErrorsOpt,
    ModelOpt,
    Outputs,
    ScaleName,
    check_outputs,
    choice,
    error,
    fatal_errors,
    progress_bar,
    report_errors,
    said_or_exit,
    warning,
)
from .options import Work, work_options

if TYPE_CHECKING:
    import pandas as pd

TABLE_SUFFIXES = (".csv", ".json")


@work_options()
def page(
    inputs: Annotated[
        list[str],
        typer.Argument(
            help="A predictions CSV/JSON from `va-mood predict` (any --scale), or audio "
            "files, folders (recursive) and globs to predict first."
        ),
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="HTML file to write.")],
    segments: Annotated[
        Path | None,
        typer.Option(help="Segment predictions (`predict --segment` CSV/JSON) for timelines."),
    ] = None,
    segment: Annotated[
        float | None,
        typer.Option(min=0.5, help="With audio inputs: also predict windows of this many seconds."),
    ] = None,
    scale: Annotated[
        ScaleName,
        typer.Option(
            parser=choice(ScaleName, ScaleName),
            help="With audio inputs: the scale to show, plane, unit or nine (a table keeps "
            "its own).",
        ),
    ] = ScaleName.plane,
    title: Annotated[str, typer.Option(help="Heading of the page.")] = "Songs on the mood plane",
    relative: Annotated[
        bool,
        typer.Option(
            "--relative",
            help="Exported playlists hold paths relative to the page's folder (save them "
            "beside it); default: absolute paths, which work wherever the download lands.",
        ),
    ] = False,
    no_tags: Annotated[
        bool, typer.Option("--no-tags", help="Name songs by file name; do not read tags.")
    ] = False,
    model: ModelOpt = None,
    errors_file: ErrorsOpt = None,
    *,
    work: Work,
) -> None:
    """Write one self-contained HTML page: songs on the plane, hover, click to play, filter,
    select, export M3U8 playlists. It works offline from disk (every script is inside).
    """
    with fatal_errors():
        from ..outputs.page import require_bokeh, write_page

        require_bokeh()
        check_outputs([output, errors_file])
        errors: dict[str, str] = {}
        windows = None
        if len(inputs) == 1 and Path(inputs[0]).suffix.lower() in TABLE_SUFFIXES:
            table, shown_scale = _read_table(inputs[0], segment)
        else:
            shown_scale = scale.value
            table, windows, errors = _predict(inputs, model, shown_scale, segment, work)
        if segments is not None:
            windows = _read_segments(segments, shown_scale, table)
        outputs = Outputs()
        report_errors(errors, errors_file, outputs)
        if table.empty:
            error("no song to show")
            outputs.exit(EXIT_NOTHING)
        options = {"scale": shown_scale, "segments": windows, "title": title}
        options |= {"absolute": not relative, "read_tags": not no_tags}
        outputs.write(
            lambda: write_page(output, table, **options),
            f"wrote {len(table)} song(s) to {output}",
        )
        outputs.exit(EXIT_PARTIAL if errors else EXIT_OK)


def _read_table(path: str, segment: float | None) -> tuple[pd.DataFrame, str]:
    """Whole-file predictions from ``predict`` and their scale; exit on a segment table."""
    from ..outputs.playlist import read_page_table

    if segment is not None:
        error("--segment predicts audio inputs; give segment predictions as --segments")
        raise typer.Exit(EXIT_USAGE)
    table, scale = read_page_table(path)
    if "start" in table.columns:
        error(f"{path} holds segments; give whole-file predictions and this file as --segments")
        raise typer.Exit(EXIT_NOTHING)
    return table, scale


def _read_segments(path: Path, scale: str, table: pd.DataFrame) -> pd.DataFrame:
    """Segment predictions on ``scale``; says how many segmented files are not songs here."""
    from ..outputs.page import segment_data
    from ..outputs.playlist import read_segments

    windows = read_segments(path, scale)
    unmatched = segment_data(windows, list(table["path"]))[1]
    if unmatched:
        warning(
            f"{unmatched} file(s) in {path} are not among the songs; their windows are left out"
        )
    return windows


def _predict(
    inputs: list[str],
    model: Path | None,
    scale: str,
    segment: float | None,
    work: Work,
) -> tuple[pd.DataFrame, pd.DataFrame | None, dict[str, str]]:
    """Predict audio inputs (whole files and, with ``segment``, windows) on ``scale``."""
    from ..api import load_model
    from ..outputs.scales import as_rows

    loaded = load_model(model, cache=not work.no_cache)
    options = {"scale": scale, "on_error": "collect", **work.predict_options()}
    with progress_bar(None, "predicting") as step:
        table = loaded.predict_files(inputs, progress=step, **options)
    errors, _ = said_or_exit(table)
    table = as_rows(table)
    windows = None
    if segment is not None and len(table):
        with progress_bar(len(table), "predicting windows") as step:
            windows = as_rows(
                loaded.predict_files(list(table["path"]), progress=step, segment=segment, **options)
            )
    return table, windows, errors
