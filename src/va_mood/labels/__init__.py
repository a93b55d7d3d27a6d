"""Labels in: labels files and their scales, training targets, and training crops."""

from __future__ import annotations

from ..util.lazy import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "crops": "augment",
        "load_labels": "files",
        "to_plane": "files",
        "from_plane": "files",
        "match_audio": "files",
        "targets": "files",
        "RATINGS_FILES": "files",
        "load_ratings": "files",
    },
)
