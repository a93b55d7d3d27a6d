"""The ``va-mood`` command line: parse, call the library, print. Nothing else lives here.

Every command is a thin function in the module of its job (:mod:`.predict`, :mod:`.train`,
:mod:`.tune`, :mod:`.library`, :mod:`.page`), registered on :data:`app` below, in the
order ``--help`` lists them. Exit codes: 0 every input succeeded; 1 some inputs failed (the
good results are still written, each failure is printed on one line); 2 the command line
itself is wrong (one ``error:`` line); 3 nothing could be done, or an output could not be
written; 130 interrupted.
"""

from __future__ import annotations

import signal
import sys
import warnings
from collections.abc import Sequence
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from . import library, page, predict, train, tune
from .common import EXIT_NOTHING, EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, error, warning

_python_showwarning = warnings.showwarning

__all__ = ["app", "EXIT_OK", "EXIT_PARTIAL", "EXIT_NOTHING"]


def _version_line() -> str:
    """``va-mood 0.1.0, model default (trained 2026-12-02)``: read without loading the model."""
    import json
    from importlib.metadata import PackageNotFoundError, version

    from ..locations import DEFAULT_MODEL

    try:
        package = version("va-mood")
    except PackageNotFoundError:  # running from a source tree that was never installed
        package = "unknown"
    try:
        created = json.loads((DEFAULT_MODEL / "bundle.json").read_text("utf-8"))["created"][:10]
    except (OSError, ValueError, KeyError, TypeError):
        created = "unknown date"
    return f"va-mood {package}, model {DEFAULT_MODEL.name} (trained {created})"


def _show_version(value: bool) -> None:
    if value:
        typer.echo(_version_line())
        raise typer.Exit(EXIT_OK)


def _before_any_command(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_show_version,
            is_eager=True,
            help="Show the version of va-mood and of its shipped model, and exit.",
        ),
    ] = False,
) -> None:
    """Before any command: this process is va_mood's own, so it may keep freed memory; SIGTERM
    stops it as Ctrl-C does (workers stopped, finished files kept, exit 130); the package's
    warnings print as ``warning:`` lines."""
    from ..util.memory import keep_freed_memory

    keep_freed_memory()
    signal.signal(signal.SIGTERM, _terminate)
    warnings.showwarning = _show_warning


def _terminate(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: Any = None,
    line: str | None = None,
) -> None:
    """The package's own warnings as ``warning:`` lines; other libraries' as Python prints
    them."""
    from ..errors import VaMoodWarning

    if issubclass(category, VaMoodWarning):
        warning(str(message))
    else:
        _python_showwarning(message, category, filename, lineno, file, line)


CLICK_EXCEPTION: type[Exception] = next(
    c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException"
)
"""The root of click's errors (typer's own copy of click in recent typer, click's before)."""


class OneLineUsageErrors(TyperGroup):
    """The command group, with a wrong command line said in one line: ``error: ...``, exit 2
    (click's usage, hint and boxed message otherwise take five). ``--help`` is unchanged."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        """Run the command line as click does, but print a usage error as one line."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            code = super().main(args, prog_name, complete_var, False, **extra)
        except CLICK_EXCEPTION as exc:
            if type(exc).__name__ != "NoArgsIsHelpError":  # else the help is printed already
                error(_usage_line(exc))
            sys.exit(getattr(exc, "exit_code", EXIT_USAGE))
        except typer.Abort:
            error("aborted")
            sys.exit(EXIT_PARTIAL)
        sys.exit(code if isinstance(code, int) else EXIT_OK)


def _usage_line(exc: Exception) -> str:
    """A usage error in one line, with the command whose ``--help`` says more."""
    message = " ".join(exc.format_message().split()).rstrip(".")  # type: ignore[attr-defined]
    ctx = getattr(exc, "ctx", None)
    if ctx is None:
        return message
    return f"{message} (see '{ctx.command_path} --help')"


app = typer.Typer(
    cls=OneLineUsageErrors,
    help="Valence, arousal and mood of music, in Russell's plane.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.callback()(_before_any_command)
app.command()(predict.predict)
app.command()(predict.extract)
app.command()(train.evaluate)
app.command()(train.train)
app.command()(tune.tune)

studies_app = typer.Typer(help="Inspect and export tuning studies.", no_args_is_help=True)
studies_app.command("list")(tune.studies_list)
studies_app.command("show")(tune.studies_show)
studies_app.command("export")(tune.studies_export)
app.add_typer(studies_app, name="studies")

app.command()(library.tag)
app.command()(library.playlist)
app.command()(page.page)

plot_app = typer.Typer(help="Draw predictions: the Russell plane, emotion over time.")
plot_app.command("plane")(library.plot_plane_command)
plot_app.command("timeline")(library.plot_timeline_command)
app.add_typer(plot_app, name="plot")
