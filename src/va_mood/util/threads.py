"""One worker process per core, each with one BLAS/OpenMP thread, set without waking
OpenBLAS in a forked worker.

Extraction runs one worker process per core by default (:func:`n_jobs`), so each worker's
numerical libraries must use one thread (:func:`one_thread`), or the workers fight over the
cores.
"""

from __future__ import annotations

import os
from contextlib import AbstractContextManager, nullcontext

__all__ = ["n_jobs", "one_thread"]


def one_thread() -> AbstractContextManager:
    """Hold every BLAS/OpenMP pool loaded in this process at one thread (threadpoolctl).

    The limit holds from this call until the ``with`` block it opens ends, or for good when
    the result is not entered. Where every pool has one thread already, as in a worker forked
    while its parent held the limit, nothing is set: setting it again in a forked process
    restarts OpenBLAS's threads, and each spins before it sleeps, taking time from the other
    workers (``docs/extraction.md``).

    Returns
    -------
    contextlib.AbstractContextManager
        Restores the previous thread counts on exit (a null context when nothing was set).
    """
    from threadpoolctl import ThreadpoolController

    controller = ThreadpoolController()  # one scan of the loaded libraries
    if all(pool["num_threads"] == 1 for pool in controller.info()):
        return nullcontext()
    return controller.limit(limits=1)


def n_jobs(jobs: int | None) -> int:
    """The number of worker processes ``jobs`` asks for.

    Parameters
    ----------
    jobs : int or None
        Worker processes; ``None``, ``0`` or less means one per CPU core.

    Returns
    -------
    int
        At least 1.

    Examples
    --------
    >>> n_jobs(3)
    3
    >>> n_jobs(None) == (os.cpu_count() or 1)
    True
    """
    return jobs if jobs is not None and jobs > 0 else os.cpu_count() or 1
