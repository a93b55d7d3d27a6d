"""Progress on stderr: a live bar on a terminal, a plain line every few seconds in a log."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer

PLAIN_EVERY = 10.0
"""Seconds between two plain progress lines when stderr is not a terminal."""


class Step:
    """What a long job calls: ``step(path, error)`` once per item done (``error`` is None
    when it went well); ``step.set_total(n)`` when the number of items becomes known."""

    def __init__(self, label: str, total: int | None, unit: str) -> None:
        self.label, self.total, self.unit = label, total, unit
        self.done = self.failed = 0
        self.started = time.monotonic()

    def __call__(self, path: Any = None, error: str | None = None) -> None:
        self.done += 1
        self.failed += error is not None
        self.shown()

    def set_total(self, total: int) -> None:
        self.total = total
        self.shown()

    def shown(self) -> None:
        """Show the state (nothing here; see the subclasses)."""

    def line(self) -> str:
        """``extracting: 120/540 files, 2 failed, 1.9 files/s, about 3 min left``."""
        elapsed = time.monotonic() - self.started
        of = f"/{self.total}" if self.total is not None else ""
        parts = [f"{self.label}: {self.done}{of} {self.unit}"]
        if self.failed:
            parts.append(f"{self.failed} failed")
        if self.done and elapsed > 0:
            rate = self.done / elapsed
            parts.append(f"{rate:.1f} {self.unit}/s")
            if self.total is not None and self.total > self.done:
                parts.append(f"about {_duration((self.total - self.done) / rate)} left")
        return ", ".join(parts)


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
        self.task = bar.add_task(label, total=total, failed=0, unit=unit)

    def shown(self) -> None:
        self.bar.update(self.task, completed=self.done, total=self.total, failed=self.failed)


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
        TextColumn("{task.fields[unit]}, {task.fields[failed]} failed"),
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
