"""One BLAS/OpenMP thread per process, set without waking OpenBLAS in a forked worker."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext

__all__ = ["one_thread"]


def one_thread() -> AbstractContextManager:
    """Hold every BLAS/OpenMP pool loaded here at one thread (threadpoolctl): from this call
    until the ``with`` block it opens ends, or for good when it is called outside one.

    A no-op where every pool has one thread already, as in a worker forked while its parent
    held the limit: setting it again in a forked process restarts OpenBLAS's threads, and
    each then spins before it sleeps, taking that time from the other workers
    (``docs/extraction.md`` has the figures).
    """
    from threadpoolctl import ThreadpoolController

    controller = ThreadpoolController()  # one scan of the loaded libraries
    if all(pool["num_threads"] == 1 for pool in controller.info()):
        return nullcontext()
    return controller.limit(limits=1)
