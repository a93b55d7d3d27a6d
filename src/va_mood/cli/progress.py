"""Progress on stderr: a live bar on a terminal, a plain line every few seconds in a log; and
the line that says what an interrupted job kept."""

from __future__ import annotations

import math
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer

PLAIN_EVERY = 10.0
"""Seconds between two plain progress lines when stderr is not a terminal."""
ESTIMATE_AFTER_WORK, ESTIMATE_AFTER_SHARE = 2.0, 0.05
"""Items of work (files, or their shares), or this share of the total if less, done since the
first came back before a rate and a time left are given: the first item's time holds the
start-up (workers, libraries)."""
ESTIMATE_AFTER_SECONDS = 1.0
"""Seconds since the first item came back, at least, before a rate and a time left are given."""
ESTIMATE_ANYWAY_SECONDS = 30.0
"""Seconds since the first item came back after which any work done gives a time left (a few
long files)."""
PAUSE_FACTOR, PAUSE_SECONDS = 10.0, 2.0
"""A pause longer than this many times the mean time between reports, and than these seconds,
measures the rate afresh from the report that ends it: what came before (files from the cache,
a pass that measured loudness) went faster than what follows."""
SHOWN_WITHIN = 2
"""Long files in progress named on the line, at most."""


class Step:
    """What a long job calls: ``step(path, error)`` once per item done (``error`` is None
    when it went well); ``step.set_total(n)`` when the number of items becomes known;
    ``step.within(path, share)`` while a long item is on its way.

    The rate and the time left are measured from the first item that comes back (before it,
    the time went into starting up) and given once enough work or time has passed.
    """

    def __init__(self, label: str, total: int | None, unit: str) -> None:
        self.label, self.total, self.unit = label, total, unit
        self.done = self.failed = 0
        self.started = time.monotonic()
        self.parts: dict[str, float] = {}  # share done of each item on its way
        self.since: tuple[float, float] | None = None  # (time, work) the rate is measured from
        self.latest, self.reports = self.started, 0  # the last report, and reports since `since`

    def __call__(self, path: Any = None, error: str | None = None) -> None:
        self.done += 1
        self.failed += error is not None
        self.parts.pop(path, None)
        self._reported()
        self.shown()

    def within(self, path: Any, share: float) -> None:
        """Note that ``share`` (0 to 1) of the item ``path`` is done."""
        self.parts[path] = max(0.0, min(1.0, share))
        self._reported()
        self.shown()

    def set_total(self, total: int) -> None:
        self.total = total
        self.shown()

    def shown(self) -> None:
        """Show the state (nothing here; see the subclasses)."""

    def work(self) -> float:
        """Items done, with the shares of those on their way."""
        return self.done + sum(self.parts.values())

    def _reported(self) -> None:
        now = time.monotonic()
        if self.since is None or self._paused(now):
            self.since, self.reports = (now, self.work()), 0
        else:
            self.reports += 1
        self.latest = now

    def _paused(self, now: float) -> bool:
        if self.since is None or not self.reports:
            return False
        mean = (self.latest - self.since[0]) / self.reports
        return now - self.latest > max(PAUSE_SECONDS, PAUSE_FACTOR * mean)

    def rate(self) -> float | None:
        """Items per second since the first came back, once enough is known (else None)."""
        if self.since is None:
            return None
        seconds, work = time.monotonic() - self.since[0], self.work() - self.since[1]
        needed = min(ESTIMATE_AFTER_WORK, ESTIMATE_AFTER_SHARE * (self.total or math.inf))
        enough = work >= needed and seconds >= ESTIMATE_AFTER_SECONDS
        if work <= 0 or not (enough or seconds >= ESTIMATE_ANYWAY_SECONDS):
            return None
        return work / seconds

    def on_the_way(self) -> list[str]:
        """``37 % of long.wav`` for each long item on its way, :data:`SHOWN_WITHIN` at most."""
        shown = list(self.parts.items())[:SHOWN_WITHIN]
        return [f"{share * 100:.0f} % of {_name(path)}" for path, share in shown]

    def line(self) -> str:
        """``extracting: 120/540 files, 2 failed, 1.9 files/s, about 3 min left``, with
        ``37 % of long.wav`` for a long file on its way."""
        of = f"/{self.total}" if self.total is not None else ""
        parts = [f"{self.label}: {self.done}{of} {self.unit}"]
        if self.failed:
            parts.append(f"{self.failed} failed")
        parts += self.on_the_way()
        rate = self.rate()
        if rate is not None:
            parts.append(
                f"{rate:.1f} {self.unit}/s" if rate >= 0.1 else f"{rate:.2g} {self.unit}/s"
            )
            if self.total is not None and self.total > self.work():
                parts.append(f"about {_duration((self.total - self.work()) / rate)} left")
        return ", ".join(parts)


def _name(path: Any) -> str:
    """The file name of ``path``, on one printable line."""
    return _printable(Path(str(path)).name)


def _printable(text: str) -> str:
    """``text`` with control characters written as escapes (as ``common.one_line``)."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


class _PlainStep(Step):
    """For logs and pipes: one line every :data:`PLAIN_EVERY` seconds, none for a short job."""

    def __init__(self, label: str, total: int | None, unit: str) -> None:
        super().__init__(label, total, unit)
        self.last = self.started

    def shown(self) -> None:
        now = time.monotonic()
        if now - self.last >= PLAIN_EVERY:
            self.last = now
            typer.echo(self.line(), err=True)


class _BarStep(Step):
    """For a terminal: a rich progress bar with the count, the rate and the time left."""

    def __init__(self, label: str, total: int | None, unit: str, bar: Any) -> None:
        super().__init__(label, total, unit)
        self.bar = bar
        self.task = bar.add_task(label, total=total, failed=0, unit=unit, within="")

    def shown(self) -> None:
        within = "".join(f", {part}" for part in self.on_the_way())
        self.bar.update(
            self.task, completed=self.work(), total=self.total, failed=self.failed, within=within
        )


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


@contextmanager
def progress_bar(total: int | None, label: str, unit: str = "files") -> Iterator[Step]:
    """Progress of a job of ``total`` items (None: not known yet) on stderr; yields the
    :class:`Step` to call per item. On a terminal a live bar (none for a single item); in a
    log, a plain line every :data:`PLAIN_EVERY` seconds, so that a long job is never silent."""
    if not sys.stderr.isatty():
        yield _PlainStep(label, total, unit)
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    columns = (
        TextColumn(f"[bold]{label}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[unit]}, {task.fields[failed]} failed{task.fields[within]}"),
        TimeRemainingColumn(),
    )
    console = Console(stderr=True)
    with Progress(
        *columns, console=console, transient=True, disable=total is not None and total < 2
    ) as bar:
        yield _BarStep(label, total, unit, bar)


@contextmanager
def status(message: str) -> Iterator[None]:
    """One line saying what a long step without a count is doing, and how long it took."""
    started = time.monotonic()
    typer.echo(f"{message} ...", err=True)
    yield
    typer.echo(f"{message}: done in {_duration(time.monotonic() - started)}", err=True)


@contextmanager
def hangup_interrupts() -> Iterator[None]:
    """While inside, SIGHUP (the terminal closed) stops the command as Ctrl-C does: workers
    stopped, what was finished kept or written, exit 130. A hangup that is ignored (``nohup``)
    stays ignored; outside the main thread nothing changes."""
    hangup = getattr(signal, "SIGHUP", None)
    if (
        hangup is None
        or threading.current_thread() is not threading.main_thread()
        or signal.getsignal(hangup) is signal.SIG_IGN
    ):
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(hangup, interrupt)
    try:
        yield
    finally:
        signal.signal(hangup, previous)


def interrupted_message(exc: BaseException) -> str:
    """The line that says an interrupt stopped the command, and what of its work was kept.

    An interrupt during extraction (:class:`va_mood.extraction.batch.Interrupted`) knows the
    files finished and the feature cache that holds them (if any); the command may add
    ``written``, the output it wrote their rows to. Of any other interrupt nothing is said
    beyond ``interrupted``, which is always true.

    Parameters
    ----------
    exc : BaseException
        The KeyboardInterrupt caught.

    Returns
    -------
    str
        E.g. ``interrupted; 32 finished file(s) kept in the feature cache (run the same
        command again to resume)``.
    """
    features = getattr(exc, "features", None)
    if features is None:
        return "interrupted"
    files = len(dict.fromkeys(features.index.get_level_values(0)))
    cache, written = getattr(exc, "cache", None), getattr(exc, "written", None)
    said = []
    if cache is not None:
        said.append(
            f"{files} finished file(s) kept in the feature cache {cache} "
            "(run the same command again to resume)"
        )
    if written is not None:
        said.append(f"the {files} finished file(s) written to {written}, marked incomplete")
    if cache is None and written is None:
        kept = f"{files} file(s) had finished, none kept" if files else "no file had finished"
        said.append(f"{kept} (no feature cache was written)")
    return _printable("interrupted; " + "; ".join(said))
