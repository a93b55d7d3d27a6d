"""The options every command that reads audio shares, declared once: jobs, cache, longest file.

A command decorated with :func:`work_options` gets ``--jobs``, ``--cache``, ``--no-cache`` and
``--max-duration`` added to its command line and receives them as one ``work:`` :class:`Work`
argument, so that each option is spelled, documented and turned into library arguments here
only.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

__all__ = ["MAX_DURATION_DEFAULT", "Work", "work_options"]

MAX_DURATION_DEFAULT = 3 * 3600.0
"""``--max-duration``'s default, :data:`va_mood.audio.decode.MAX_DURATION` (not imported, so
that the command line starts quickly)."""

JOBS_HELP = "Worker processes for extraction (0: one per CPU core)."


@dataclass(frozen=True)
class Work:
    """How a command reads and extracts audio, as its options said."""

    jobs: int = 0
    cache: Path | None = None
    no_cache: bool = False
    max_duration: float = MAX_DURATION_DEFAULT

    @property
    def cache_dir(self) -> Path | None:
        """The feature cache folder to use (None: no cache)."""
        from ..locations import default_cache

        return None if self.no_cache else (self.cache or default_cache())

    @property
    def longest(self) -> float | None:
        """The library's ``longest``: the longest recording read, in seconds (None: no limit)."""
        return self.max_duration or None

    def predict_options(self) -> dict[str, Any]:
        """Keyword arguments of :func:`va_mood.predict_files` for these options."""
        return {
            "jobs": self.jobs,
            "cache": not self.no_cache,
            "cache_dir": self.cache,
            "longest": self.longest,
        }


def _parameters(jobs_default: int, jobs_help: str) -> list[inspect.Parameter]:
    """The shared options as keyword-only parameters that typer reads."""
    keyword = inspect.Parameter.KEYWORD_ONLY
    options: list[tuple[str, Any, Any]] = [
        ("jobs", Annotated[int, typer.Option("--jobs", "-j", help=jobs_help)], jobs_default),
        (
            "cache",
            Annotated[
                Path | None,
                typer.Option(help="Feature cache folder (default: ~/.cache/va_mood/features)."),
            ],
            None,
        ),
        (
            "no_cache",
            Annotated[bool, typer.Option("--no-cache", help="Neither read nor write the cache.")],
            False,
        ),
        (
            "max_duration",
            Annotated[
                float,
                typer.Option(
                    "--max-duration",
                    min=0,
                    help="Refuse recordings longer than this many seconds, from their header "
                    "before decoding (0: no limit).",
                ),
            ],
            MAX_DURATION_DEFAULT,
        ),
    ]
    return [inspect.Parameter(n, keyword, default=d, annotation=a) for n, a, d in options]


def work_options(
    *, jobs_default: int = 0, jobs_help: str = JOBS_HELP
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Give a command the shared options; it takes them as one keyword argument ``work``.

    Parameters
    ----------
    jobs_default : int
        ``--jobs`` when not given.
    jobs_help : str
        ``--jobs``' help, for a command whose workers do more than extract.

    Examples
    --------
    >>> @work_options()  # doctest: +SKIP
    ... def extract(paths: PathsArg, *, work: Work) -> None: ...
    """
    added = _parameters(jobs_default, jobs_help)

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        signature = inspect.signature(command, eval_str=True)
        own = [p for p in signature.parameters.values() if p.name != "work"]
        parameters = [*own, *added]

        @functools.wraps(command)
        def run(*args: Any, **kwargs: Any) -> Any:
            work = Work(**{p.name: kwargs.pop(p.name, p.default) for p in added})
            return command(*args, work=work, **kwargs)

        run.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
        run.__annotations__ = {p.name: p.annotation for p in parameters}
        return run

    return decorate
