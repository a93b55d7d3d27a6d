"""One BLAS/OpenMP thread per process, set without waking OpenBLAS in a forked worker."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext

__all__ = ["one_thread", "single_threaded"]


def single_threaded() -> bool:
    """Whether every BLAS/OpenMP thread pool loaded in this process has one thread."""
    from threadpoolctl import threadpool_info

    return all(pool["num_threads"] == 1 for pool in threadpool_info())


def one_thread() -> AbstractContextManager:
    """Hold every BLAS/OpenMP pool loaded here at one thread while inside (threadpoolctl).

    A no-op where every pool has one thread already, as in a worker forked while its parent
    was inside: setting the limit again in a forked process restarts OpenBLAS's threads, and
    each one then spins for some 0.1 s (about 2**28 cycles) before it sleeps, stealing that
    time from the other workers. Measured here: 100 to 200 ms of CPU per worker, the most a
    ``--jobs 2`` run lost against one job.
    """
    from threadpoolctl import threadpool_limits

    return nullcontext() if single_threaded() else threadpool_limits(1)
