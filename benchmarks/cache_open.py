"""Opening the feature cache of a whole library to look up a few files, against reading it all.

Builds caches of the shipped configuration's columns (random values) holding N files in one
compacted segment, then times, in one process, ``FeatureCache(folder, config)`` (every row)
beside ``FeatureCache(folder, config, keys={one key})`` (what ``va-mood predict one.mp3``
reads), each the median of ``--repeats``.

    python benchmarks/cache_open.py [--sizes 500 5000 20000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import numpy as np

from va_mood.config import AnalysisConfig, load_config
from va_mood.extraction.cache import FeatureCache
from va_mood.features.registry import columns_for


def seconds(folder: str, config: AnalysisConfig, keys: set[str] | None, repeats: int) -> float:
    """Median wall time of opening the cache at ``folder`` for ``keys``."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        FeatureCache(folder, config, keys=keys)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 5000, 20000])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    config = load_config("default")
    groups = list(config.groups)
    width = len(columns_for(groups))
    rng = np.random.default_rng(0)
    print(f"{width} columns; open time, median of {args.repeats}")
    print(f"{'files':>7} {'every row':>10} {'one file':>10} {'ratio':>7}")
    for n in args.sizes:
        with tempfile.TemporaryDirectory() as folder:
            cache = FeatureCache(folder, config.analysis)
            for k in range(n):
                cache.put(f"{k:032x}", groups, rng.standard_normal(width))
            cache.save()
            one = {f"{n // 2:032x}"}
            every = seconds(folder, config.analysis, None, args.repeats)
            few = seconds(folder, config.analysis, one, args.repeats)
        print(f"{n:>7} {every:>9.3f}s {few:>9.3f}s {every / few:>6.1f}x")


if __name__ == "__main__":
    main()
