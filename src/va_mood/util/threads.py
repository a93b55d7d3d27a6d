"""One BLAS/OpenMP thread per process, set without waking OpenBLAS in a forked worker.

Extraction runs one worker process per core, so each worker's numerical libraries must use
one thread, or the workers fight over the cores.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext

__all__ = ["one_thread"]


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
