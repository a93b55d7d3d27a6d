"""Helpers every stage may use: atomic file writes, file digests, memory, thread and process
settings, lazy package indexes, and the old module paths that still import.
"""

from __future__ import annotations

from .lazy import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "atomic_path": "atomic",
        "write_text": "atomic",
        "write_with": "atomic",
        "sha256_of": "digest",
        "lazy_exports": "lazy",
        "HEAP_KEEP_BYTES": "memory",
        "keep_freed_memory": "memory",
        "end_with_parent": "processes",
        "watch_parent": "processes",
        "n_jobs": "threads",
        "one_thread": "threads",
    },
)
