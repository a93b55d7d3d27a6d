"""SIGINT and SIGTERM during a study: stop at a safe point, keep every finished trial."""

from __future__ import annotations

import signal
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import optuna

__all__ = ["Interrupts"]


class Interrupts:
    """Turns SIGINT and SIGTERM into ``KeyboardInterrupt`` where optuna can take it.

    While optuna keeps its own books (creating a trial, storing its result) an interrupt
    raised there would leave a trial marked running, so the handler only remembers it
    (:attr:`deferred`); inside the objective it raises, and optuna marks the trial in flight
    failed. :attr:`received` is what stops :meth:`optimize` when the interrupt was deferred or
    landed inside a library's C code (xgboost reading its data reports it as its own error; a
    ctypes callback prints it and carries on): the study then stops like any other interrupt,
    after the trial in flight at the latest. The signal never reaches native code as an
    exception of its own.
    """

    def __init__(self) -> None:
        self.received = False
        self.deferred = False

    def handle(self, signum: int, frame: Any) -> None:
        """Signal handler: remember the interrupt and raise, unless deferred."""
        self.received = True
        if not self.deferred:
            raise KeyboardInterrupt(f"signal {signum}")

    @contextmanager
    def installed(self) -> Iterator[Interrupts]:
        """Handle SIGTERM and SIGINT with :meth:`handle` inside the block (main thread)."""
        previous = {s: signal.signal(s, self.handle) for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            yield self
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def _stop_if_received(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        """Trial callback: an interrupt that was deferred or swallowed still stops the study."""
        if self.received:
            raise KeyboardInterrupt("interrupted")

    def optimize(
        self,
        study: optuna.Study,
        objective: Callable,
        n_trials: int | None,
        timeout: float | None,
        callbacks: Sequence[Callable] = (),
    ) -> None:
        """``study.optimize`` where an interrupt fails only the trial in flight, never leaves
        one marked running, and is re-raised as KeyboardInterrupt whatever a library made of
        it."""

        def interruptible(trial: optuna.Trial) -> float:
            self.deferred = False  # inside the objective optuna marks an interrupted trial failed
            try:
                if self.received:  # deferred while optuna created this trial
                    raise KeyboardInterrupt("interrupted")
                return objective(trial)
            finally:
                self.deferred = True

        self.received = False  # an interrupt of an earlier run in this process is not this run's
        self.deferred = True
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # e.g. enqueued values outside a range
            try:
                study.optimize(
                    interruptible,
                    n_trials=n_trials,
                    timeout=timeout,
                    callbacks=[*callbacks, self._stop_if_received],
                )
            except Exception:
                if self.received:  # the interrupt surfaced as another library's error
                    raise KeyboardInterrupt("interrupted") from None
                raise
            finally:
                self.deferred = False
