"""What people do with predictions: tags in the files, playlists, plots."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..vocabulary import MOODS, QUADRANTS
from .common import (
    EXIT_NOTHING,
    EXIT_OK,
    EXIT_PARTIAL,
    ErrorsOpt,
    LabelsSpecOpt,
    ModelOpt,
    Outputs,
    PathsArg,
    ScaleName,
    ScaleOpt,
    check_outputs,
    error,
    fatal_errors,
    find_audio_or_exit,
    label_spec,
    one_line,
    progress_bar,
    report_errors,
    warning,
)
from .options import Work, work_options


@work_options()
def tag(
    paths: PathsArg,
    model: ModelOpt = None,
    scale: ScaleOpt = ScaleName.plane,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be written; change no file.")
    ] = False,
    overwrite: Annotated[
        bool,
        typer.Option(
            "--overwrite",
            help="Tag again files already tagged by this model version, and replace mood tags "
            "va_mood did not write (kept otherwise).",
        ),
    ] = False,
    errors_file: ErrorsOpt = None,
    *,
    work: Work,
) -> None:
    """Predict each file and write mood, valence and arousal into its own tags.

    mp3 (ID3: TMOO, TXXX:VAMOOD_*), ogg/opus/flac (Vorbis comments), m4a (MP4 freeform atoms).
    Only these tags change; the audio data and every other tag are kept.
    """
    with fatal_errors():
        from ..api import load_model
        from ..features.quality import UNCERTAIN
        from ..outputs.tagging import model_version, precheck, write_tags

        check_outputs([errors_file])
        loaded = load_model(model, cache=not work.no_cache)
        version = model_version(loaded)
        files, problems = find_audio_or_exit(paths)
        errors = dict(problems)
        todo, done = [], 0
        for path in files:  # no prediction for files that are done or cannot be tagged
            early = precheck(path, model_version=version, overwrite=overwrite)
            if early is None:
                todo.append(path)
            elif early.ok:
                typer.echo(one_line(early.line()))
                done += 1
            else:
                errors[str(path)] = f"{path}: {early.message}"
        if todo:
            with progress_bar(len(todo), "predicting") as step:
                table = loaded.predict_files(
                    todo, progress=step, on_error="collect", **work.predict_options()
                )
            errors |= table.attrs["errors"]
            for note in table.attrs.get("warnings", {}).values():
                warning(note)
            for path, row in table.iterrows():
                if row["mood"] == UNCERTAIN:  # silence, noise, a steady tone: no mood to write
                    errors[str(path)] = f"{path}: no mood to write (silent, noise or a steady tone)"
                    continue
                result = write_tags(
                    path,
                    row,
                    model_version=version,
                    scale=scale.value,
                    overwrite=overwrite,
                    dry_run=dry_run,
                )
                if result.ok:
                    typer.echo(one_line(result.line()))
                    done += 1
                else:
                    errors[str(path)] = f"{path}: {result.message}"
        outputs = Outputs()
        report_errors(errors, errors_file, outputs)
        if not done:
            error("no file could be tagged")
            outputs.exit(EXIT_NOTHING)
        outputs.exit(EXIT_PARTIAL if errors else EXIT_OK)


def _mood(value: str) -> str:
    """``--mood``: a mood name or quadrant, else a usage error."""
    from ..errors import ParameterError
    from ..quadrant import parse_quadrant

    try:
        parse_quadrant(value)
    except ParameterError as exc:
        raise typer.BadParameter(str(exc)) from None
    return value


def _sort_key(value: str) -> str:
    """``--sort``: a sort key, ``-`` in front for descending, else a usage error."""
    from ..outputs.playlist import SORT_KEYS

    if value.removeprefix("-").lower() not in SORT_KEYS:
        raise typer.BadParameter(
            f"{value!r} is not one of {', '.join(SORT_KEYS)} (prefix - for descending)"
        )
    return value


def playlist(
    predictions: Annotated[
        Path, typer.Argument(help="CSV or JSON written by `va-mood predict` (any --scale).")
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="M3U8 playlist to write.")],
    mood: Annotated[
        str | None,
        typer.Option(
            parser=_mood,
            help=f"Mood or quadrant to keep: {', '.join(MOODS.values())} "
            f"or {QUADRANTS[0]}..{QUADRANTS[-1]} (default: every mood).",
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
            parser=_sort_key,
            help="Sort by valence, energy (= arousal) or confidence; -KEY for descending "
            "(default: the order of the predictions).",
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
    with fatal_errors():
        from ..outputs.playlist import make_playlist, read_predictions, write_m3u8

        check_outputs([output])
        table = read_predictions(predictions)
        if "start" in table.columns:
            error(f"{predictions} holds segments; a playlist takes whole-file predictions")
            raise typer.Exit(EXIT_NOTHING)
        paths = make_playlist(table, mood=mood, min_confidence=min_confidence, sort_by=sort)
        if not paths:
            wanted = mood or "any mood"
            if min_confidence is not None:
                wanted += f" with confidence >= {min_confidence}"
            error(f"no file in {predictions} is {wanted}; no playlist written")
            raise typer.Exit(EXIT_NOTHING)
        write_m3u8(paths, output, absolute=absolute)
        typer.echo(f"wrote {len(paths)} file(s) to {output}", err=True)


PredictionsArg = Annotated[
    Path, typer.Argument(help="CSV or JSON written by `va-mood predict` (any --scale).")
]
PlotOutputOpt = Annotated[
    Path, typer.Option("--output", "-o", help="Image file (.png, .svg, .pdf).")
]


PLANE_NAMES = 30
"""Up to this many points, the plane plot names each (title from the file's tags, or stem)."""


def plot_plane_command(
    predictions: PredictionsArg,
    output: PlotOutputOpt,
    labels: Annotated[
        Path | None, typer.Option(help="Labels CSV: colour each point by its true quadrant.")
    ] = None,
    labels_spec: LabelsSpecOpt = None,
) -> None:
    """Files as points on the valence-arousal plane, with the four quadrant moods.

    Up to 30 points are named (artist and title from the file's tags, else the file name).
    """
    with fatal_errors():
        from ..labels.files import load_labels
        from ..outputs.playlist import read_on_plane
        from ..outputs.plots import plot_plane

        check_outputs([output])
        table = read_on_plane(predictions)
        if "start" in table:
            error(f"{predictions} holds segments; plot them with `va-mood plot timeline`")
            raise typer.Exit(EXIT_NOTHING)
        truth = None
        if labels is not None:
            labelled = load_labels(labels, label_spec(labels_spec))
            for message in labelled.attrs["warnings"]:
                warning(message)
            quadrants = labelled["quadrant"]
            ids = table["path"].map(lambda p: Path(p).stem)
            truth = ids.map(quadrants)
            unknown = truth.isna()
            if unknown.all():
                error(f"no predicted file matches an id in {labels}")
                raise typer.Exit(EXIT_NOTHING)
            if unknown.any():
                warning(f"{int(unknown.sum())} file(s) without labels left out of the plot")
            table, truth = table[~unknown], truth[~unknown]
        names = None
        if len(table) <= PLANE_NAMES:
            from ..outputs.tag_formats import display_name

            names = [display_name(p) for p in table["path"]]
        plot_plane(table, output, truth=truth, names=names, max_labels=PLANE_NAMES)
        typer.echo(f"wrote {output}", err=True)


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
    with fatal_errors():
        from ..labels.files import load_ratings
        from ..outputs.playlist import read_on_plane
        from ..outputs.plots import plot_timeline

        check_outputs([output])
        table = read_on_plane(predictions)
        if "start" not in table:
            error(f"{predictions} holds no segments; run `va-mood predict --segment SECONDS`")
            raise typer.Exit(EXIT_NOTHING)
        paths = table["path"].unique()
        if file is not None:
            paths = [p for p in paths if p == file or Path(p).name == file]
        if len(paths) != 1:
            known = ", ".join(Path(p).name for p in table["path"].unique()[:5])
            error(f"choose one file with --file (the predictions hold: {known})")
            raise typer.Exit(EXIT_NOTHING)
        segments = table[table["path"] == paths[0]]
        curve = None
        if ratings is not None:
            curve = load_ratings(ratings, song_id or Path(paths[0]).stem)
        plot_timeline(segments, output, ratings=curve)
        typer.echo(f"wrote {output}", err=True)
