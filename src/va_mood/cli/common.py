"""What every command shares: options, progress, one-line errors, writing tables."""

from __future__ import annotations

import errno
import io
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from .progress import progress_bar

if TYPE_CHECKING:
    import pandas as pd

    from ..config import Config
    from .options import Work

EXIT_OK, EXIT_PARTIAL, EXIT_NOTHING, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 3, 2, 130
"""0 every input succeeded; 1 some inputs failed (the good results are still written);
2 the command line itself is wrong; 3 nothing could be done; 130 interrupted (resumable)."""


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


class ScaleName(StrEnum):
    plane = "plane"
    unit = "unit"
    nine = "nine"


def one_line(text: str) -> str:
    """``text`` on one printable line: control characters (a newline in a file name) and
    bytes that are not UTF-8 (a Latin-1 file name on Linux) are written as escapes."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def error(message: str) -> None:
    """A failure: an input that could not be used, or the reason nothing could be done."""
    typer.echo(f"error: {one_line(message)}", err=True)


def warning(message: str) -> None:
    """Something skipped or worth knowing; the command still did what was asked."""
    typer.echo(f"warning: {one_line(message)}", err=True)


def choice(allowed: Iterable[str], convert: Callable[[str], Any] = str) -> Callable[[str], Any]:
    """A typer ``parser`` accepting one of ``allowed`` (any case): a wrong value is a usage
    error (exit 2) that lists the allowed values, in plain words."""
    allowed = list(allowed)

    def parse(value: Any) -> Any:
        if not isinstance(value, str):  # the default, already converted
            return value
        for name in allowed:
            if value.lower() == name.lower():
                return convert(name)
        raise typer.BadParameter(f"{value!r} is not one of {', '.join(allowed)}")

    return parse


FormatOpt = Annotated[
    Format,
    typer.Option("--format", "-f", parser=choice(Format, Format), help="Output format."),
]
ScaleOpt = Annotated[
    ScaleName,
    typer.Option(
        parser=choice(ScaleName, ScaleName),
        help="Scale of the numbers: plane (-1..1), unit (0..1, valence/energy as Spotify's) "
        "or nine (1..9 as the emotion datasets'); the same quadrants on every scale.",
    ),
]


@contextmanager
def fatal_errors() -> Iterator[None]:
    """Turn the package's own errors into one line and exit code 3, never a traceback; an
    interrupt (Ctrl-C, SIGTERM, or SIGHUP while inside: a closed terminal) into one line
    saying what was kept (:func:`interrupted_message`) and exit code 130."""
    from ..errors import VaMoodError
    from .progress import hangup_interrupts, interrupted_message

    try:
        with hangup_interrupts():
            yield
    except VaMoodError as exc:
        error(str(exc))
        raise typer.Exit(EXIT_NOTHING) from None
    except KeyboardInterrupt as exc:
        error(interrupted_message(exc))
        raise typer.Exit(EXIT_INTERRUPTED) from None


def storage_or_default(storage: str | None) -> str:
    """The optuna storage ``--storage`` names, or the per-user default."""
    from ..locations import default_storage

    return storage or default_storage()


def config_or_default(path: str | None) -> Config:
    """The configuration in ``path``, or the one the shipped default model was trained with."""
    from ..api import load_model
    from ..config import load_config

    return load_config(path) if path else load_model().config


def label_spec(path: str | None) -> Any:
    from ..config import LabelSpec, load_label_spec

    return load_label_spec(path) if path else LabelSpec()


class Outputs:
    """A command's output files, written one after another: one that cannot be written (a
    full disk) is said, in one line naming it and why, only after every other has been
    written, and makes the exit code 3."""

    def __init__(self) -> None:
        self.failed: list[str] = []

    def write(self, write: Callable[[], Any], said: str | None = None) -> bool:
        """Call ``write()``; on success print ``said``, on an :class:`OutputError` keep its
        message for :meth:`exit`. Returns whether the output was written."""
        from ..errors import OutputError

        try:
            write()
        except OutputError as exc:
            self.failed.append(str(exc))
            return False
        if said is not None:
            typer.echo(one_line(said), err=True)
        return True

    def exit(self, code: int) -> NoReturn:
        """Say which outputs could not be written and exit: 3 if any, else ``code``."""
        for message in self.failed:
            error(message)
        raise typer.Exit(EXIT_NOTHING if self.failed else code)


def check_outputs(files: Iterable[Path | None] = (), folders: Iterable[Path | None] = ()) -> None:
    """Before any work: exit 3, with one line per output, unless every output file (and folder
    of files) given can be created. A temporary file is created and removed where each would
    go (the nearest folder that exists, as missing folders are made), which asks the file
    system itself: permission bits (which root ignores), a read-only mount, a file where a
    folder should be."""
    problems = [
        problem
        for paths, is_folder in ((files, False), (folders, True))
        for path in paths
        if path is not None and (problem := _cannot_create(Path(path), is_folder))
    ]
    for problem in problems:
        error(problem)
    if problems:
        raise typer.Exit(EXIT_NOTHING)


def _cannot_create(path: Path, is_folder: bool) -> str | None:
    """Why ``path`` cannot be written (as a file, or as a folder of files), or None."""
    try:
        if path.is_dir() and not is_folder:
            return f"{path}: is a folder; give a file name to write"
        if path.exists() and not path.is_dir() and is_folder:
            return f"{path}: is a file; give a folder to write into"
        if path.exists() and not path.is_dir() and not path.is_file():
            return f"{path}: not a regular file; outputs are files (written, renamed into place)"
        where = path if path.is_dir() else path.parent
        while not where.exists() and where != where.parent:
            where = where.parent  # missing folders are made when the output is written
        if not where.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR))
        fd, probe = tempfile.mkstemp(prefix=".va_mood-probe.", dir=where)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        return f"{path}: cannot write ({exc.strerror or exc})"
    return None


def problem_rows(problems: dict[str, str], kind: str = "error") -> list[dict[str, str]]:
    """``{path: message}`` as rows for a JSON file: ``[{"path": ..., kind: ...}]``, the path as
    :func:`va_mood.outputs.scales.path_text` writes it, the message as display text."""
    from ..outputs.scales import display_text, path_text

    return [{"path": path_text(p), kind: display_text(m)} for p, m in problems.items()]


def report_errors(errors: dict[str, str], errors_file: Path | None, outputs: Outputs) -> None:
    """Print one ``error:`` line per failed input and write them to ``errors_file`` (JSON)
    through ``outputs`` (a failure to write it is said after the other outputs)."""
    from ..util.atomic import write_text

    for message in errors.values():
        error(message)
    if errors_file is not None:
        text = json.dumps(problem_rows(errors), indent=2) + "\n"
        outputs.write(lambda: write_text(errors_file, text))


def file_rows(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` as an output file holds it: each path as valid UTF-8 that leads back to the
    file (:func:`va_mood.outputs.scales.path_text`)."""
    from ..outputs.scales import path_text

    if "path" not in table.columns:
        return table
    out = table.copy()
    out["path"] = [path_text(p) for p in table["path"]]
    return out


def write_table(
    table: pd.DataFrame, fmt: Format, output: Path | None, extra: dict, outputs: Outputs
) -> None:
    """The predictions as CSV, JSON or a table for people, to ``output`` or stdout (valid
    UTF-8: paths as :func:`file_rows` writes them, names in the table as :func:`one_line`)."""
    from ..util.atomic import write_text

    if fmt is Format.csv:
        text = file_rows(table).to_csv(index=False, float_format="%.4f")
    elif fmt is Format.json:
        records = [
            {k: None if isinstance(v, float) and v != v else v for k, v in row.items()}
            for row in file_rows(table).to_dict(orient="records")
        ]  # NaN (no mood for silence) as null: JSON has no NaN
        text = json.dumps({**extra, "predictions": records}, indent=2) + "\n"
    else:
        text = _human_table(table, signed=extra.get("scale", "plane") == "plane")
    text = text if text.endswith("\n") else text + "\n"
    if output is None:
        sys.stdout.flush()
        sys.stdout.buffer.write(text.encode("utf-8"))
        sys.stdout.buffer.flush()
        return
    outputs.write(lambda: write_text(output, text), f"wrote {len(table)} row(s) to {output}")


def short_names(paths: Iterable[str]) -> dict[str, str]:
    """Each path's shortest ending that tells it from the others, for people to read: the file
    name, with as many of its folders in front as it takes (``a/track01.mp3``,
    ``b/track01.mp3``), on one line (:func:`one_line`).

    Examples
    --------
    >>> short_names(["x/a/t.mp3", "x/b/t.mp3", "x/b/u.mp3"])
    {'x/a/t.mp3': 'a/t.mp3', 'x/b/t.mp3': 'b/t.mp3', 'x/b/u.mp3': 'u.mp3'}
    """
    parts = {p: Path(p).parts or (p,) for p in dict.fromkeys(paths)}
    taken = dict.fromkeys(parts, 1)  # how many trailing parts each name shows
    while True:
        names = {p: Path(*parts[p][-taken[p] :]) for p in parts}
        seen: dict[Path, list[str]] = {}
        for path, name in names.items():
            seen.setdefault(name, []).append(path)
        longer = [p for same in seen.values() if len(same) > 1 for p in same]
        longer = [p for p in longer if taken[p] < len(parts[p])]
        if not longer:
            return {p: one_line(str(name)) for p, name in names.items()}
        for path in longer:
            taken[path] += 1


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
    names = short_names(table["path"])
    for row in table.to_dict(orient="records"):
        name = names[row["path"]]
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
ConfigOpt = Annotated[
    str | None,
    typer.Option(
        help="Model configuration: a shipped one by name (default, article, regression) or a "
        "TOML file. Without it: the shipped model's own, which is 'default' with each head's "
        "parameters tuned by the package's studies ('default' holds their untuned start)."
    ),
]
LabelsSpecOpt = Annotated[
    str | None,
    typer.Option(
        help="Labels format (columns, scale): a shipped one by name (4q, emomusic10) or a TOML "
        "file (default: 4q, the 4Q dataset's labels.csv)."
    ),
]
ErrorsOpt = Annotated[
    Path | None,
    typer.Option("--errors", help="Also write the failed inputs and reasons to this JSON file."),
]


def predicted_or_exit(
    table: pd.DataFrame, errors_file: Path | None, outputs: Outputs
) -> tuple[dict[str, str], dict[str, str]]:
    """What :func:`va_mood.predict_files` said about the inputs, printed one line each.

    Returns ``(errors, warnings)``; exits 3 when the inputs named no audio file or none could
    be predicted, after writing ``errors_file`` (through ``outputs``) in the second case.
    """
    errors, notes = said_or_exit(table)
    report_errors(errors, errors_file, outputs)
    if table.empty:
        error("no input could be predicted")
        outputs.exit(EXIT_NOTHING)
    return errors, notes


def said_or_exit(table: pd.DataFrame) -> tuple[dict[str, str], dict[str, str]]:
    """A prediction table's ``(errors, warnings)``, its warnings printed; exit 3 with one line
    per problem when the inputs named no audio file."""
    errors, notes = table.attrs["errors"], table.attrs.get("warnings", {})
    for message in notes.values():
        warning(message)
    if not table.attrs.get("files"):
        for message in errors.values():
            error(message)
        error("no audio files to work on")
        raise typer.Exit(EXIT_NOTHING)
    return errors, notes


def find_audio_or_exit(paths: list[str]) -> tuple[list[Path], dict[str, str]]:
    """The audio files ``paths`` name, or exit 3 with one line per problem if there are none."""
    from ..audio.discover import find_audio

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
    spec_path: str | None,
    work: Work,
) -> tuple[pd.DataFrame, pd.DataFrame, Any, dict[str, str]]:
    """Features and labels of a labelled corpus, with progress; returns ``(features, labels,
    spec, failed)``. Unreadable audio is an ``error:`` (``failed``: ``{path: message}``, for
    exit code 1); bad, doubtful or unmatched labels rows and unlabelled audio are ``warning:``
    lines."""
    from ..api import load_corpus
    from ..labels.files import load_labels

    spec = label_spec(spec_path)
    # the rows kept with a doubt: load_corpus' problems hold only those it drops
    doubts = load_labels(labels, spec, drop_bad_rows=True).attrs["warnings"]
    with progress_bar(None, "extracting") as step:
        features, table, problems = load_corpus(
            labels,
            audio,
            config=cfg,
            spec=spec,
            jobs=work.jobs,
            cache=work.cache_dir is not None,
            cache_dir=work.cache_dir,
            progress=step,
            longest=work.longest,
        )
    failed = table.attrs.get("errors", {})
    for message in doubts:
        warning(message)
    for message in problems:
        (error if message in failed.values() else warning)(message)
    if problems or doubts:
        typer.echo(f"going on with {len(table)} labelled clip(s)", err=True)
    return features, table, spec, failed


StorageOpt = Annotated[
    str | None,
    typer.Option(
        help="Optuna storage URL (sqlite:///..., postgresql+psycopg2://...) or a SQLite file "
        "path (default: studies.db in your data folder, see `va-mood studies list`)."
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
    spec_path: str | None,
    work: Work,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, str]]:
    """The feature table and labels of a corpus, from its audio (cached) or from a Parquet
    table written by ``va-mood extract`` (refused if made with other feature settings), and
    the audio files that could not be read (``{path: message}``)."""
    if (audio is None) == (features is None):
        error("give either --audio DIR or --features PARQUET")
        raise typer.Exit(EXIT_USAGE)
    if audio is not None:
        table, labelled, _, failed = labelled_corpus(labels, audio, cfg, spec_path, work)
        return table, labelled, failed
    from ..extraction.table import align_features, read_feature_table
    from ..labels.files import load_labels

    raw = read_feature_table(features, config=cfg.analysis, groups=cfg.groups)
    read = load_labels(labels, label_spec(spec_path))
    table, labelled, problems = align_features(raw, read)
    for message in read.attrs["warnings"] + problems:
        warning(message)
    return table, labelled, {}


def tuned_config_or_exit(cfg: Config, storage: str, prefix: str) -> Config:
    """``cfg`` with the tuned heads of the studies ``<prefix>-<head>``, saying which trials
    were used; exit 3 when there is no finished study."""
    from ..tuning import best_config, tuned_trials

    trials = tuned_trials(storage, prefix)
    if not trials:
        error(f"no finished study {prefix}-arousal or {prefix}-valence in {storage}")
        raise typer.Exit(EXIT_NOTHING)
    for head, trial in trials.items():
        typer.echo(f"{head}: trial {trial.number} of {prefix}-{head} ({trial.value:.4f})", err=True)
    return best_config(cfg, storage, prefix)
