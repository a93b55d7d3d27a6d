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
    """Turns SIGINT and SIGTERM into ``KeyboardInterrupt`` at safe points of a study.

    Outside :meth:`optimize` the signal handler raises at once. Inside, it only remembers the
    signal (:attr:`received`): the objective stops at its next :meth:`checkpoint` (between
    two folds, in Python, so the signal never reaches xgboost's or optuna's native code or
    bookkeeping as an exception) and optuna marks the trial in flight failed; a signal that
    came while optuna kept its books stops the study after that trial (a trial callback).
    So an interrupted study keeps every finished trial and never a trial marked running.

    Attributes
    ----------
    received : bool
        A signal came during the current :meth:`optimize`.
    deferred : bool
        Inside :meth:`optimize`: signals are remembered, not raised at once.

    Examples
    --------
    >>> interrupts = Interrupts()
    >>> with interrupts.installed():  # doctest: +SKIP
    ...     interrupts.optimize(study, objective, n_trials=20, timeout=None)
    """

    def __init__(self) -> None:
        self.received = False
        self.deferred = False

    def handle(self, signum: int, frame: Any) -> None:
        """Signal handler: remember the interrupt; raise it at once outside :meth:`optimize`.

        Parameters
        ----------
        signum : int
            The signal.
        frame : frame or None
            Unused (the signal module's handler signature).

        Raises
        ------
        KeyboardInterrupt
            Outside :meth:`optimize`.
        """
        self.received = True
        if not self.deferred:
            raise KeyboardInterrupt(f"signal {signum}")

    @contextmanager
    def installed(self) -> Iterator[Interrupts]:
        """Handle SIGTERM and SIGINT with :meth:`handle` inside the block (main thread only).

        The previous handlers are restored when the block ends, however it ends.

        Yields
        ------
        Interrupts
            This object.
        """
        previous = {s: signal.signal(s, self.handle) for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            yield self
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def checkpoint(self) -> None:
        """Raise KeyboardInterrupt if a signal came: call where stopping is safe.

        Raises
        ------
        KeyboardInterrupt
            When a signal was received.
        """
        if self.received:
            raise KeyboardInterrupt("interrupted")

    def _stop_if_received(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        """Trial callback: a signal that came after the trial's last checkpoint (or that a
        library swallowed) stops the study once the trial is stored."""
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
        """Run ``study.optimize`` so that an interrupt fails only the trial in flight.

        No trial is left marked running, and the interrupt is re-raised as
        KeyboardInterrupt whatever a library made of it.

        Parameters
        ----------
        study : optuna.Study
        objective : callable
            ``objective(trial) -> float``; it should call :meth:`checkpoint` between steps.
        n_trials : int or None
            Trials to run (None: until ``timeout``).
        timeout : float or None
            Seconds after which no new trial starts.
        callbacks : sequence of callable
            optuna trial callbacks ``(study, trial)``.

        Raises
        ------
        KeyboardInterrupt
            When SIGINT or SIGTERM came during the study.
        """

        def interruptible(trial: optuna.Trial) -> float:
            self.checkpoint()  # came while optuna created this trial
            return objective(trial)

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
