"""Worker processes that end with their parent.

A worker of a process pool waits for its next task on a pipe, and one busy with a file does
not look at the pipe at all: when its parent is killed (SIGKILL, a crash, a closed terminal)
it would go on, re-parented, holding all its memory. :func:`end_with_parent` ties a worker's
life to its parent's: on Linux the kernel kills it when the parent dies
(``prctl(PR_SET_PDEATHSIG)``); elsewhere a thread watches the parent's process id
(:func:`watch_parent`).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

__all__ = ["PARENT_POLL_SECONDS", "end_with_parent", "watch_parent"]

PARENT_POLL_SECONDS = 0.5
"""How often :func:`watch_parent` checks that the parent is alive."""
_PR_SET_PDEATHSIG = 1  # from linux/prctl.h


def end_with_parent(parent: int, *, poll: float = PARENT_POLL_SECONDS) -> None:
    """End this process as soon as ``parent``, the process that started it, ends.

    Called first thing in a child process (a pool's worker initializer). Where ``parent`` is
    the child's own parent on Linux, the kernel kills the child (SIGKILL) when the parent
    dies, and the child runs no thread for it; elsewhere (another system, or a child forked by
    a server process for ``parent``) a daemon thread does (:func:`watch_parent`). On Linux the
    parent is, strictly, the thread that started the child: a child started by a thread that
    ends before its process does ends with that thread.

    Parameters
    ----------
    parent : int
        The process id of the parent as the parent saw it (``os.getpid()`` there, passed to
        the child), so that a parent that died before this call is noticed.
    poll : float
        Seconds between two checks of the watching thread, where it has to poll.

    Examples
    --------
    >>> from concurrent.futures import ProcessPoolExecutor
    >>> pool = ProcessPoolExecutor(
    ...     2, initializer=end_with_parent, initargs=(os.getpid(),)
    ... )  # doctest: +SKIP
    """
    if os.getppid() == parent and _killed_with_parent():
        if os.getppid() != parent:  # the parent died before the kernel knew whom to watch
            os._exit(1)
        return
    watch_parent(parent, poll=poll)


def watch_parent(parent: int, *, poll: float = PARENT_POLL_SECONDS) -> threading.Thread:
    """Start a daemon thread that ends this process once ``parent`` has ended.

    In a process that :mod:`multiprocessing` started for ``parent``, the thread waits on the
    parent's sentinel, which the system marks ready when the parent ends. Otherwise it checks
    every ``poll`` seconds that ``parent`` is still this process's parent: an orphan is
    re-parented (to init, or to a subreaper).

    Parameters
    ----------
    parent : int
        The process id of the process to end with.
    poll : float
        Seconds between two checks, where the thread has to poll.

    Returns
    -------
    threading.Thread
        The watching thread, started.
    """
    import multiprocessing
    import multiprocessing.connection

    starter = multiprocessing.parent_process()

    def watch() -> None:
        if starter is not None and starter.pid == parent:
            multiprocessing.connection.wait([starter.sentinel])
        else:
            while os.getppid() == parent:
                time.sleep(poll)
        os._exit(1)  # a worker holds nothing worth cleaning up once its parent is gone

    thread = threading.Thread(target=watch, name="va_mood-watch-parent", daemon=True)
    thread.start()
    return thread


def _killed_with_parent() -> bool:
    """Ask the Linux kernel for SIGKILL when the parent dies; whether that was set."""
    import ctypes
    import ctypes.util

    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False
