"""Memory the processes va_mood owns keep between clips.

Extraction allocates arrays of the same large sizes for every clip; keeping them in the heap
spares the kernel handing the same pages back and forth (:func:`keep_freed_memory`).
"""

from __future__ import annotations

__all__ = ["HEAP_KEEP_BYTES", "keep_freed_memory"]

HEAP_KEEP_BYTES = 256 << 20
"""Freed blocks up to this size stay in a process's heap (see :func:`keep_freed_memory`)."""


def keep_freed_memory() -> None:
    """Let glibc keep freed arrays of up to :data:`HEAP_KEEP_BYTES` for the next clip.

    By default glibc hands a large freed array back to the kernel, and the next clip's array
    of the same size is faulted in again, page by page (``docs/extraction.md``). With this
    setting the process keeps its peak heap instead of shrinking between clips. It is called
    in the processes va_mood owns (its workers and the ``va-mood`` command), never in an
    application's, and does nothing off glibc.
    """
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return
    m_trim_threshold, m_mmap_threshold = -1, -3  # from glibc's malloc.h
    mallopt(m_mmap_threshold, HEAP_KEEP_BYTES)
    mallopt(m_trim_threshold, 2 * HEAP_KEEP_BYTES)
