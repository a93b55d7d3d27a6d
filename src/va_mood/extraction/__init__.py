"""Files to a named feature table: batches on worker processes, the cache, long files, windows."""

from __future__ import annotations

from ..util.lazy import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "extract_files": "batch",
        "BACKENDS": "batch",
        "Progress": "batch",
        "file_key": "cache",
        "FeatureCache": "cache",
        "GROUP_VERSIONS_KEY": "cache",
        "MAX_SEGMENTS": "cache",
        "ROW_GROUP": "cache",
        "LONG_FILE_SECONDS": "long_files",
        "LONG_FILE_SAMPLES": "long_files",
        "BLOCK_SECONDS": "long_files",
        "COMPACT": "long_files",
        "TOLERANCE": "long_files",
        "SAMPLED_PER_BLOCK": "long_files",
        "BLOCK_REDUCERS": "long_files",
        "context_frames": "long_files",
        "extract_blocks": "long_files",
        "extract_long": "long_files",
        "extract_long_windows": "long_files",
        "extract_block_windows": "long_files",
        "loudness_gain": "long_files",
        "WindowView": "segments",
        "window_bounds": "segments",
        "extract_windows": "segments",
        "summarise_timeline": "segments",
        "FINGERPRINT_KEY": "table",
        "write_feature_table": "table",
        "read_feature_table": "table",
        "align_features": "table",
    },
)
